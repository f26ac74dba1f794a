/// Why bytes or text were not a libp2p peer ID (libp2p-wire.md §1.6).
public enum PeerIDError: Error, Equatable, Sendable, CustomStringConvertible {
    case emptyText
    /// Longer than any peer ID text form; refused before decoding.
    case textTooLong(length: Int)
    /// Text that looked like base58 (`Qm…`, `1…`) but was not.
    case invalidBase58(text: String, Base58Error)
    /// A multibase CID whose payload did not decode.
    case invalidMultibase(text: String, detail: String)
    /// A multibase prefix we do not read (we read `b`/`B` base32, `z` base58btc, `k`/`K` base36).
    case unsupportedMultibase(text: String, prefix: Character)
    /// A CID that is not CIDv1 with the `libp2p-key` (0x72) codec.
    case notAPeerCID(text: String, detail: String)
    /// Bytes that are not one well-formed multihash (hex of the input, and why).
    case invalidMultihash(hex: String, detail: String)
    /// A multihash function other than identity (0x00) and sha2-256 (0x12).
    case unsupportedHashFunction(code: UInt64)

    public var description: String {
        switch self {
        case .emptyText: "invalid peer ID: the text is empty"
        case .textTooLong(let n): "invalid peer ID: \(n) characters is longer than any peer ID"
        case .invalidBase58(let text, let e): "invalid peer ID \"\(text)\": \(e)"
        case .invalidMultibase(let text, let detail): "invalid peer ID \"\(text)\": \(detail)"
        case .unsupportedMultibase(let text, let prefix):
            "invalid peer ID \"\(text)\": multibase prefix \"\(prefix)\" is not supported (use the base58 form 12D3KooW…/Qm… or a base32 CID bafz…)"
        case .notAPeerCID(let text, let detail): "invalid peer ID \"\(text)\": \(detail)"
        case .invalidMultihash(let hex, let detail): "invalid peer ID bytes \(hex): \(detail)"
        case .unsupportedHashFunction(let code):
            "invalid peer ID: multihash function 0x\(String(code, radix: 16)) is not identity (0x00) or sha2-256 (0x12)"
        }
    }
}
