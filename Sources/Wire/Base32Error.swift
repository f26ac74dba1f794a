/// Why text was not valid unpadded RFC 4648 base32 (multibase `b`, libp2p-wire.md §1.3).
public enum Base32Error: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidCharacter(Character, offset: Int)
    /// No byte string encodes to this many characters (e.g. 1, 3 or 6 modulo 8).
    case invalidLength(Int)
    /// The unused low bits of the last character are not zero, so the text is not canonical.
    case nonZeroPadding

    public var description: String {
        switch self {
        case .invalidCharacter(let c, let offset):
            "character \"\(c)\" at byte offset \(offset) is not in the base32 alphabet (a-z, 2-7)"
        case .invalidLength(let n): "\(n) characters is not a possible length for unpadded base32"
        case .nonZeroPadding: "the last base32 character has non-zero unused bits"
        }
    }
}
