import CSodium
import Wire

/// An Ed25519 identity key (libp2p-wire.md §1.5). Holds libsodium's 64-byte secret key
/// `seed ‖ pub` in its own memory, zeroed when the key is released.
public final class Ed25519PrivateKey: @unchecked Sendable {
    public static let seedCount = 32
    /// libsodium's `crypto_sign` secret key, which is also libp2p's `Data` layout.
    static let secretCount = 64
    /// The old `seed ‖ pub ‖ pub` layout found in some key files.
    static let legacySecretCount = 96

    // Immutable after init, which is why sharing across threads is safe.
    private let secret: SecretBytes
    public let publicKey: Ed25519PublicKey

    /// A fresh random key.
    public static func generate() -> Ed25519PrivateKey {
        var seed = SecureRandom.bytes(seedCount)
        defer { SodiumPointers.wipe(&seed) }
        do { return try Ed25519PrivateKey(seed: seed) } catch {
            preconditionFailure("a 32-byte random seed was rejected: \(error)")
        }
    }

    /// The key for a 32-byte RFC 8032 seed.
    public init(seed: [UInt8]) throws(CryptoError) {
        Sodium.initialize()
        guard seed.count == Self.seedCount else { throw .invalidKeyLength(expected: Self.seedCount, got: seed.count) }
        var pub = [UInt8](repeating: 0, count: Ed25519PublicKey.rawCount)
        secret = SecretBytes(count: Self.secretCount) { sk in
            _ = crypto_sign_seed_keypair(&pub, sk, seed)
        }
        publicKey = try Ed25519PublicKey(raw: pub)
    }

    /// Reads a `PrivateKey` protobuf of type Ed25519 whose `Data` is `seed ‖ pub` (64 bytes) or
    /// the legacy `seed ‖ pub ‖ pub` (96 bytes). The public half must match the seed, and in
    /// the legacy form both copies must, so a corrupted file is reported rather than used.
    public convenience init(libp2pProtobuf bytes: [UInt8]) throws(CryptoError) {
        var decoded: PrivateKeyProtobuf
        do { decoded = try PrivateKeyProtobuf(decoding: bytes) } catch { throw .invalidPrivateKey(error.description) }
        defer { SodiumPointers.wipe(&decoded.data) }
        guard decoded.type == .ed25519 else { throw .unsupportedKeyType(decoded.type) }
        let data = decoded.data
        guard data.count == Self.secretCount || data.count == Self.legacySecretCount else {
            throw .invalidPrivateKey("Ed25519 key data is \(data.count) bytes, expected 64 (seed ‖ public key) or 96 (legacy)")
        }
        try self.init(seed: Array(data[0..<32]))
        guard Array(data[32..<64]) == publicKey.raw else {
            throw .invalidPrivateKey("the public key stored with the seed does not match it")
        }
        if data.count == Self.legacySecretCount && Array(data[64..<96]) != publicKey.raw {
            throw .invalidPrivateKey("the two copies of the public key in the legacy 96-byte form differ")
        }
    }

    /// The `PrivateKey` protobuf, always in the 64-byte form: `08 01 12 40 ‖ seed ‖ pub`.
    public var libp2pProtobuf: [UInt8] {
        var data = secret.array
        defer { SodiumPointers.wipe(&data) }
        return PrivateKeyProtobuf(type: .ed25519, data: data).encoded()
    }

    /// The 32-byte seed (secret); for tests and key export.
    public var seed: [UInt8] { Array(secret.array.prefix(Self.seedCount)) }

    /// A deterministic RFC 8032 signature of `message` (64 bytes).
    public func sign(_ message: [UInt8]) -> [UInt8] {
        Sodium.initialize()
        return SodiumPointers.with(message) { m, mCount in
            SodiumPointers.output(count: Ed25519PublicKey.signatureCount) { signature in
                secret.withBytes { sk in _ = crypto_sign_detached(signature, nil, m, UInt64(mCount), sk) }
            }
        }
    }
}
