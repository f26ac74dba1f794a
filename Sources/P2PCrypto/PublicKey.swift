import Wire

/// A libp2p identity public key of any of the four key types (libp2p-wire.md §1.5), checked
/// when made: what Noise (and later TLS) accept from peers. Our own identity stays Ed25519.
///
/// | type      | `Data`                        | signature                                  | peer ID            |
/// |-----------|-------------------------------|--------------------------------------------|--------------------|
/// | Ed25519   | 32 raw bytes                  | RFC 8032, 64 bytes                         | identity, `12D3…`  |
/// | Secp256k1 | 33-byte compressed point      | ECDSA over SHA-256(msg), DER               | identity, `16Uiu…` |
/// | ECDSA     | DER SubjectPublicKeyInfo, P-256 | ECDSA over SHA-256(msg), DER             | sha2-256, `Qm…`    |
/// | RSA       | DER SubjectPublicKeyInfo, 2048-8192 bits | RSASSA-PKCS1-v1_5 with SHA-256  | sha2-256, `Qm…`    |
public enum PublicKey: Hashable, Sendable, CustomStringConvertible {
    case ed25519(Ed25519PublicKey)
    case secp256k1(Secp256k1PublicKey)
    case ecdsa(ECDSAP256PublicKey)
    case rsa(RSAPublicKey)

    /// Checks a decoded key protobuf's `Data` for its type.
    public init(protobuf: PublicKeyProtobuf) throws(CryptoError) {
        switch protobuf.type {
        case .ed25519:
            guard protobuf.data.count == Ed25519PublicKey.rawCount else {
                throw .malformedPublicKey(.ed25519, "expected \(Ed25519PublicKey.rawCount) raw bytes, got \(protobuf.data.count)")
            }
            self = .ed25519(try Ed25519PublicKey(raw: protobuf.data))
        case .secp256k1: self = .secp256k1(try Secp256k1PublicKey(raw: protobuf.data))
        case .ecdsa: self = .ecdsa(try ECDSAP256PublicKey(der: protobuf.data))
        case .rsa: self = .rsa(try RSAPublicKey(der: protobuf.data))
        }
    }

    /// Decodes a serialized `PublicKey` protobuf (canonical encoding only) and checks the key.
    public init(libp2pProtobuf bytes: [UInt8]) throws(CryptoError) {
        let decoded: PublicKeyProtobuf
        do {
            decoded = try PublicKeyProtobuf(decoding: bytes)
        } catch {
            if case .unknownKeyType(let type) = error { throw .unknownKeyType(type) }
            throw .invalidPublicKey(error.description)
        }
        try self.init(protobuf: decoded)
    }

    /// Recovers the key inlined in an identity-multihash peer ID (Ed25519 `12D3KooW…`,
    /// secp256k1 `16Uiu2HA…`); RSA and ECDSA peer IDs are hashes and hold no key.
    public init(peerID: PeerID) throws(CryptoError) {
        guard let key = peerID.publicKey else {
            throw .invalidPublicKey("peer ID \(peerID) does not inline its public key (it is a hash)")
        }
        try self.init(protobuf: key)
    }

    /// Verifies `signature` over `message` as the key type prescribes (see the table above);
    /// false for any malformed signature.
    public func verify(signature: [UInt8], message: [UInt8]) -> Bool {
        switch self {
        case .ed25519(let key): key.verify(signature: signature, message: message)
        case .secp256k1(let key): key.verify(signature: signature, message: message)
        case .ecdsa(let key): key.verify(signature: signature, message: message)
        case .rsa(let key): key.verify(signature: signature, message: message)
        }
    }

    public var type: KeyType {
        switch self {
        case .ed25519: .ed25519
        case .secp256k1: .secp256k1
        case .ecdsa: .ecdsa
        case .rsa: .rsa
        }
    }

    public var protobuf: PublicKeyProtobuf {
        switch self {
        case .ed25519(let key): key.protobuf
        case .secp256k1(let key): key.protobuf
        case .ecdsa(let key): key.protobuf
        case .rsa(let key): key.protobuf
        }
    }

    /// The serialized `PublicKey` protobuf (the bytes identify and Noise carry).
    public var libp2pProtobuf: [UInt8] { protobuf.encoded() }

    /// Identity multihash for Ed25519 and secp256k1, sha2-256 for RSA and ECDSA (§1.6).
    public var peerID: PeerID { PeerID(publicKey: protobuf, sha256: SHA256.hash) }

    /// The key type and, for RSA, its size: "Ed25519", "RSA-2048".
    public var description: String {
        if case .rsa(let key) = self { return "RSA-\(key.bits)" }
        return type.description
    }
}
