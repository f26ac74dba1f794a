import CGnuTLS
import Wire

/// An RSA public key as libp2p carries it (libp2p-wire.md §1.5): DER PKIX SubjectPublicKeyInfo
/// (rsaEncryption). Signatures are RSASSA-PKCS1-v1_5 with SHA-256. Parsing and verification
/// are GnuTLS's.
public struct RSAPublicKey: Hashable, Sendable {
    /// go-libp2p refuses keys under 2048 bits (`ErrRsaKeyTooSmall`, `crypto/rsa_common.go`).
    public static let minimumBits = 2048
    /// go-libp2p's `maxRsaKeyBits`; bounds the work a peer can make us do per verification.
    public static let maximumBits = 8192
    /// An 8192-bit SPKI with a large exponent fits well within this; longer input is refused
    /// before it is parsed.
    public static let maximumEncodedCount = 1200

    /// The DER SubjectPublicKeyInfo, exactly as received (peer IDs hash these bytes).
    public let der: [UInt8]
    /// The modulus size.
    public let bits: Int

    /// Checks that `der` is an rsaEncryption SPKI of 2048 to 8192 bits.
    public init(der: [UInt8]) throws(CryptoError) {
        guard der.count <= Self.maximumEncodedCount else {
            throw .malformedPublicKey(.rsa, "\(der.count) bytes is too long for an RSA key of at most \(Self.maximumBits) bits")
        }
        let key = try GnuTLSPublicKey(der: der, type: .rsa)
        guard key.algorithm == GNUTLS_PK_RSA else {
            throw .malformedPublicKey(.rsa, "the SubjectPublicKeyInfo holds a \(ECDSAP256PublicKey.algorithmName(key.algorithm)) key, not rsaEncryption")
        }
        guard key.bits >= Self.minimumBits else { throw .weakRSAKey(bits: key.bits) }
        guard key.bits <= Self.maximumBits else { throw .oversizedRSAKey(bits: key.bits) }
        self.der = der
        bits = key.bits
    }

    /// RSASSA-PKCS1-v1_5 verification with SHA-256.
    public func verify(signature: [UInt8], message: [UInt8]) -> Bool {
        guard signature.count == (bits + 7) / 8, let key = try? GnuTLSPublicKey(der: der, type: .rsa) else { return false }
        return key.verify(GNUTLS_SIGN_RSA_SHA256, signature: signature, message: message)
    }

    public var protobuf: PublicKeyProtobuf { PublicKeyProtobuf(type: .rsa, data: der) }

    /// The sha2-256 peer ID (`Qm…`).
    public var peerID: PeerID { PeerID(publicKey: protobuf, sha256: SHA256.hash) }
}
