import CSodium
import Wire

/// An Ed25519 public key (RFC 8032) as libp2p uses it for identities (libp2p-wire.md §1.5, §1.6).
public struct Ed25519PublicKey: Hashable, Sendable {
    public static let rawCount = 32
    public static let signatureCount = 64

    /// The 32-byte encoded point.
    public let raw: [UInt8]

    public init(raw: [UInt8]) throws(CryptoError) {
        guard raw.count == Self.rawCount else { throw .invalidKeyLength(expected: Self.rawCount, got: raw.count) }
        self.raw = raw
    }

    /// Decodes a `PublicKey` protobuf, which must be canonical and of type Ed25519.
    public init(libp2pProtobuf bytes: [UInt8]) throws(CryptoError) {
        let decoded: PublicKeyProtobuf
        do { decoded = try PublicKeyProtobuf(decoding: bytes) } catch { throw .invalidPublicKey(error.description) }
        guard decoded.type == .ed25519 else { throw .unsupportedKeyType(decoded.type) }
        try self.init(raw: decoded.data)
    }

    /// Recovers the key inlined in an identity-multihash peer ID (`12D3KooW…`).
    public init(peerID: PeerID) throws(CryptoError) {
        guard let key = peerID.publicKey else {
            throw .invalidPublicKey("peer ID \(peerID) does not inline its public key (it is a hash)")
        }
        guard key.type == .ed25519 else { throw .unsupportedKeyType(key.type) }
        try self.init(raw: key.data)
    }

    /// Plain RFC 8032 verification; false for a wrongly sized signature or a bad key.
    public func verify(signature: [UInt8], message: [UInt8]) -> Bool {
        Sodium.initialize()
        guard signature.count == Self.signatureCount else { return false }
        return SodiumPointers.with(message) { m, mCount in
            crypto_sign_verify_detached(signature, m, UInt64(mCount), raw) == 0
        }
    }

    public var protobuf: PublicKeyProtobuf { PublicKeyProtobuf(type: .ed25519, data: raw) }

    /// `08 01 12 20 ‖ raw`, 36 bytes.
    public var libp2pProtobuf: [UInt8] { protobuf.encoded() }

    /// The identity-multihash peer ID (`12D3KooW…`).
    public var peerID: PeerID { PeerID(publicKey: protobuf, sha256: SHA256.hash) }
}
