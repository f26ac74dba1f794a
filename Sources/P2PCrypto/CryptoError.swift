import Wire

/// Crypto failures (libp2p-wire.md §13). Each message says what was wrong with which input.
public enum CryptoError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidKeyLength(expected: Int, got: Int)
    case invalidPrivateKey(String)
    case invalidPublicKey(String)
    case verificationFailed
    case decryptionFailed
    /// Only Ed25519 identities are supported (§13's suggestion).
    case unsupportedKeyType(KeyType)
    /// X25519 with a low-order peer point gives an all-zero secret (§3.6).
    case lowOrderPoint

    public var description: String {
        switch self {
        case .invalidKeyLength(let expected, let got): "key is \(got) bytes, expected \(expected)"
        case .invalidPrivateKey(let why): "invalid private key: \(why)"
        case .invalidPublicKey(let why): "invalid public key: \(why)"
        case .verificationFailed: "signature verification failed"
        case .decryptionFailed: "decryption failed (wrong key, nonce or tampered data)"
        case .unsupportedKeyType(let type): "\(type) keys are not supported (only Ed25519)"
        case .lowOrderPoint: "the peer's X25519 public key is a low-order point (all-zero shared secret)"
        }
    }
}
