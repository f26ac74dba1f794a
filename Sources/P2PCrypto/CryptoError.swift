import Wire

/// Crypto failures (libp2p-wire.md §13). Each message says what was wrong with which input.
public enum CryptoError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidKeyLength(expected: Int, got: Int)
    case invalidPrivateKey(String)
    case invalidPublicKey(String)
    case verificationFailed
    case decryptionFailed
    /// A key of a known type where only another will do: our own identity and the keys
    /// `Ed25519PublicKey` reads are Ed25519 only.
    case unsupportedKeyType(KeyType)
    /// A `PublicKey` protobuf whose `Type` is none of RSA(0), Ed25519(1), Secp256k1(2), ECDSA(3)
    /// (py-libp2p's internal `ECC_P256=4` lands here).
    case unknownKeyType(UInt64)
    /// The key protobuf decoded but its `Data` is not a valid key of its type (libp2p-wire.md §1.5).
    case malformedPublicKey(KeyType, String)
    /// An RSA key with fewer bits than `RSAPublicKey.minimumBits` (2048).
    case weakRSAKey(bits: Int)
    /// An RSA key with more bits than `RSAPublicKey.maximumBits` (8192), refused to bound verification work.
    case oversizedRSAKey(bits: Int)
    /// X25519 with a low-order peer point gives an all-zero secret (§3.6).
    case lowOrderPoint

    public var description: String {
        switch self {
        case .invalidKeyLength(let expected, let got): "key is \(got) bytes, expected \(expected)"
        case .invalidPrivateKey(let why): "invalid private key: \(why)"
        case .invalidPublicKey(let why): "invalid public key: \(why)"
        case .verificationFailed: "signature verification failed"
        case .decryptionFailed: "decryption failed (wrong key, nonce or tampered data)"
        case .unsupportedKeyType(let type): "\(type) keys are not supported here (only Ed25519)"
        case .unknownKeyType(let type):
            "key type \(type) is not a libp2p key type (RSA=0, Ed25519=1, Secp256k1=2, ECDSA=3)"
        case .malformedPublicKey(let type, let why): "malformed \(type) public key: \(why)"
        case .weakRSAKey(let bits): "RSA key of \(bits) bits is too weak (at least \(RSAPublicKey.minimumBits) bits are required)"
        case .oversizedRSAKey(let bits): "RSA key of \(bits) bits is larger than the \(RSAPublicKey.maximumBits) bits accepted"
        case .lowOrderPoint: "the peer's X25519 public key is a low-order point (all-zero shared secret)"
        }
    }
}
