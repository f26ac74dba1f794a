import CSodium

/// An X25519 key pair (RFC 7748) for Noise static and ephemeral keys (libp2p-wire.md §3.6).
/// A value type for easy storage in handshake state; the private scalar lives in a shared
/// `SecretBytes` block that is zeroed when the last copy goes away.
public struct X25519KeyPair: Sendable {
    public static let keyCount = 32

    private let secret: SecretBytes
    public let publicKey: [UInt8]

    /// A fresh random key pair.
    public static func generate() -> X25519KeyPair {
        var scalar = SecureRandom.bytes(keyCount)
        defer { SodiumPointers.wipe(&scalar) }
        do { return try X25519KeyPair(privateKey: scalar) } catch {
            preconditionFailure("a 32-byte random scalar was rejected: \(error)")
        }
    }

    /// The pair for a 32-byte private scalar (clamped by libsodium when used, as RFC 7748 says).
    public init(privateKey: [UInt8]) throws(CryptoError) {
        Sodium.initialize()
        guard privateKey.count == Self.keyCount else {
            throw .invalidKeyLength(expected: Self.keyCount, got: privateKey.count)
        }
        let secret = SecretBytes(copying: privateKey)
        publicKey = secret.withBytes { scalar in
            SodiumPointers.output(count: Self.keyCount) { _ = crypto_scalarmult_base($0, scalar) }
        }
        self.secret = secret
    }

    /// X25519(private, peerPublic). Throws for a wrong length, and for low-order points,
    /// where libsodium refuses to return the all-zero secret (§3.6: a handshake failure).
    public func sharedSecret(with peerPublic: [UInt8]) throws(CryptoError) -> [UInt8] {
        Sodium.initialize()
        guard peerPublic.count == Self.keyCount else {
            throw .invalidKeyLength(expected: Self.keyCount, got: peerPublic.count)
        }
        var status: Int32 = 0
        let shared = secret.withBytes { scalar in
            SodiumPointers.output(count: Self.keyCount) { status = crypto_scalarmult($0, scalar, peerPublic) }
        }
        guard status == 0 else { throw .lowOrderPoint }
        return shared
    }
}
