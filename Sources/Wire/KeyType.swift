/// The libp2p `KeyType` enum (libp2p-wire.md §1.5). py-libp2p's private values 4 and 5
/// are deliberately absent: they are never sent on the wire.
public enum KeyType: UInt64, Sendable, CaseIterable, CustomStringConvertible {
    case rsa = 0
    case ed25519 = 1
    case secp256k1 = 2
    case ecdsa = 3

    public var description: String {
        switch self {
        case .rsa: "RSA"
        case .ed25519: "Ed25519"
        case .secp256k1: "Secp256k1"
        case .ecdsa: "ECDSA"
        }
    }
}
