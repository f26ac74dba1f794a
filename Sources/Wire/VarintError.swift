/// Why a multiformats unsigned varint (libp2p-wire.md §1.1) was rejected.
public enum VarintError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The encoding has a redundant trailing `0x00` group; go peers reject these, so we do too.
    case notMinimal
    /// More than 9 bytes, i.e. a value above 2^63-1, the multiformats maximum.
    case overflow

    public var description: String {
        switch self {
        case .notMinimal: "varint is not minimally encoded (it ends in a redundant 0x00 byte)"
        case .overflow: "varint is longer than 9 bytes (values above 2^63-1 are not allowed)"
        }
    }
}
