import CGnuTLS
import Wire

/// An ECDSA public key on NIST P-256 as libp2p carries it (libp2p-wire.md §1.5): DER
/// SubjectPublicKeyInfo (go-libp2p `crypto/ecdsa.go` marshals with `x509.MarshalPKIXPublicKey`).
/// Signatures are ECDSA over SHA-256(message), DER-encoded. libp2p allows only P-256 for
/// identities in practice (go generates P-256; py-libp2p cannot sign with ECDSA at all);
/// other curves are refused. Parsing and verification are GnuTLS's.
public struct ECDSAP256PublicKey: Hashable, Sendable {
    /// An uncompressed P-256 SPKI is 91 bytes; anything much larger is not a P-256 key.
    public static let maximumEncodedCount = 256

    /// The DER SubjectPublicKeyInfo, exactly as received (peer IDs hash these bytes).
    public let der: [UInt8]

    /// Checks that `der` is an SPKI for an ECDSA key on P-256.
    public init(der: [UInt8]) throws(CryptoError) {
        guard der.count <= Self.maximumEncodedCount else {
            throw .malformedPublicKey(.ecdsa, "\(der.count) bytes is too long for a P-256 SubjectPublicKeyInfo")
        }
        let key = try GnuTLSPublicKey(der: der, type: .ecdsa)
        guard key.algorithm == GNUTLS_PK_ECDSA else {
            throw .malformedPublicKey(.ecdsa, "the SubjectPublicKeyInfo holds a \(Self.algorithmName(key.algorithm)) key, not ECDSA")
        }
        guard let curve = key.curve, curve == GNUTLS_ECC_CURVE_SECP256R1 else {
            let name = key.curve.flatMap { gnutls_ecc_curve_get_name($0) }.map { String(cString: $0) } ?? "unknown"
            throw .malformedPublicKey(.ecdsa, "the key is on curve \(name), only P-256 (secp256r1) is accepted")
        }
        self.der = der
    }

    /// ECDSA-with-SHA-256 verification of a DER signature.
    public func verify(signature: [UInt8], message: [UInt8]) -> Bool {
        guard let key = try? GnuTLSPublicKey(der: der, type: .ecdsa) else { return false }
        return key.verify(GNUTLS_SIGN_ECDSA_SHA256, signature: signature, message: message)
    }

    public var protobuf: PublicKeyProtobuf { PublicKeyProtobuf(type: .ecdsa, data: der) }

    /// The sha2-256 peer ID (`Qm…`): the key protobuf is longer than 42 bytes.
    public var peerID: PeerID { PeerID(publicKey: protobuf, sha256: SHA256.hash) }

    static func algorithmName(_ algorithm: gnutls_pk_algorithm_t) -> String {
        gnutls_pk_algorithm_get_name(algorithm).map { String(cString: $0) } ?? "unknown (\(algorithm.rawValue))"
    }
}
