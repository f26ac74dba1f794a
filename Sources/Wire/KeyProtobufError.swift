/// Why bytes were not a canonical libp2p `PublicKey` / `PrivateKey` protobuf (libp2p-wire.md §1.5).
public enum KeyProtobufError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformed(ProtobufError)
    /// `Type` (1) or `Data` (2) is absent.
    case missingField(String)
    /// A field number other than 1 and 2.
    case unknownField(UInt64)
    /// A field appears twice, or `Data` comes before `Type`.
    case fieldsOutOfOrder
    /// Field 1 is not a varint or field 2 not length-delimited.
    case wrongWireType(field: UInt64)
    /// A `Type` value outside RSA, Ed25519, Secp256k1 and ECDSA.
    case unknownKeyType(UInt64)
    /// The fields are right but the bytes are not the one deterministic encoding
    /// (e.g. a padded varint); signatures over key bytes would not survive re-encoding.
    case notCanonical

    public var description: String {
        let what = "not a libp2p key protobuf"
        return switch self {
        case .malformed(let e): "\(what): \(e)"
        case .missingField(let name): "\(what): required field \(name) is missing"
        case .unknownField(let n): "\(what): unexpected field number \(n) (only Type=1 and Data=2 are allowed)"
        case .fieldsOutOfOrder: "\(what): fields must appear once each, Type (1) before Data (2)"
        case .wrongWireType(let n): "\(what): field \(n) has the wrong wire type"
        case .unknownKeyType(let t): "\(what): key type \(t) is not RSA(0), Ed25519(1), Secp256k1(2) or ECDSA(3)"
        case .notCanonical: "\(what): the encoding is not canonical (padded varints?)"
        }
    }
}
