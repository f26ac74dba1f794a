import P2PCrypto
import Wire

/// Why a libp2p TLS certificate could not be made or a peer's was refused (tls.md "Peer
/// Authentication"). One case per check, so callers and tests can tell them apart; the
/// description says which value failed and, where there is one, what to do.
public enum LibP2PTLSError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A GnuTLS call of ours failed: `call` is the function, `code` its error code.
    case gnutls(call: String, code: Int32)
    /// The peer sent no certificate (a server must require one: tls.md "Handshake Protocol").
    case noPeerCertificate
    /// The peer's certificate is not X.509 (e.g. a raw public key).
    case notX509
    /// The chain does not hold exactly one certificate (tls.md: "MUST NOT send a certificate
    /// chain that contains more than one certificate").
    case chainLength(Int)
    /// The certificate is larger than `LibP2PTLSProtocol.maximumCertificateSize`.
    case certificateTooLarge(Int)
    /// Not a DER X.509 certificate GnuTLS and our reader accept; the string says where.
    case malformedCertificate(String)
    /// Not an X.509 v3 certificate (only v3 carries extensions).
    case unsupportedVersion(Int)
    /// `now` is before the certificate's NotBefore (seconds since the epoch).
    case notYetValid(notBefore: Int64, now: Int64)
    /// `now` is after the certificate's NotAfter (seconds since the epoch).
    case expired(notAfter: Int64, now: Int64)
    /// The certificate carries `issuerUniqueID` or `subjectUniqueID` (tls.md: "MUST omit").
    case uniqueIdentifierPresent
    /// The certificate is signed with an algorithm we refuse: a hash shorter than 256 bits
    /// (tls.md: "MD5 and SHA1 MUST NOT be used") or one GnuTLS does not know.
    case unsupportedSignatureAlgorithm(String)
    /// GnuTLS cannot read the certificate's own key (e.g. explicit EC parameters instead of a
    /// named curve, which tls.md requires).
    case unsupportedCertificateKey(String)
    /// The certificate's self-signature does not verify under its own key.
    case selfSignatureInvalid
    /// A critical extension other than libp2p's (tls.md: "MUST abort ... critical extensions
    /// that the endpoint does not understand").
    case unknownCriticalExtension(oid: String)
    /// No extension 1.3.6.1.4.1.53594.1.1.
    case missingLibP2PExtension
    /// The extension's value is not DER `SignedKey ::= SEQUENCE { OCTET STRING, OCTET STRING }`.
    case malformedSignedKey(String)
    /// The extension's `publicKey` is not a libp2p public key we accept.
    case invalidIdentityKey(CryptoError)
    /// The identity key's signature over "libp2p-tls-handshake:" ‖ SubjectPublicKeyInfo does
    /// not verify: the certificate was not made by the holder of `peer`'s key.
    case identitySignatureInvalid(peer: PeerID)
    /// A valid certificate of another peer than the one dialed (tls.md: "Clients MUST verify
    /// that the peer ID derived from the certificate matches").
    case peerIDMismatch(expected: PeerID, actual: PeerID)
    /// The handshake did not select ALPN "libp2p" (tls.md "ALPN"); `selected` is what it chose.
    case alpnNotNegotiated(selected: String?)

    public var description: String {
        switch self {
        case .gnutls(let call, let code):
            "\(call) failed: \(GnuTLS.errorName(code)) (\(GnuTLS.errorMessage(code)))"
        case .noPeerCertificate:
            "the peer sent no certificate (libp2p TLS authenticates both sides; is it a libp2p peer?)"
        case .notX509:
            "the peer's certificate is not X.509 (libp2p TLS carries a self-signed X.509 certificate)"
        case .chainLength(let count):
            "the peer sent \(count) certificates; libp2p TLS requires exactly one self-signed certificate"
        case .certificateTooLarge(let size):
            "the peer's certificate is \(size) bytes, more than the \(LibP2PTLSProtocol.maximumCertificateSize) accepted"
        case .malformedCertificate(let why):
            "the peer's certificate is not valid DER X.509: \(why)"
        case .unsupportedVersion(let version):
            "the peer's certificate is X.509 v\(version); libp2p TLS needs v3 (for its extension)"
        case .notYetValid(let notBefore, let now):
            "the peer's certificate is not valid until \(notBefore) (now is \(now), \(notBefore - now) s earlier; is one of the clocks wrong?)"
        case .expired(let notAfter, let now):
            "the peer's certificate expired at \(notAfter) (now is \(now), \(now - notAfter) s later; is one of the clocks wrong?)"
        case .uniqueIdentifierPresent:
            "the peer's certificate carries issuerUniqueID or subjectUniqueID, which libp2p TLS forbids"
        case .unsupportedSignatureAlgorithm(let name):
            "the peer's certificate is signed with \(name); libp2p TLS requires a hash of at least 256 bits (no MD5 or SHA-1)"
        case .unsupportedCertificateKey(let why):
            "the peer's certificate key cannot be used: \(why) (libp2p TLS requires named elliptic curves)"
        case .selfSignatureInvalid:
            "the peer's certificate self-signature does not verify under the certificate's own key (corrupted or forged certificate)"
        case .unknownCriticalExtension(let oid):
            "the peer's certificate has a critical extension \(oid) that libp2p TLS does not understand"
        case .missingLibP2PExtension:
            "certificate has no libp2p public-key extension (OID \(LibP2PTLSProtocol.extensionOID)); is the peer a libp2p node?"
        case .malformedSignedKey(let why):
            "the libp2p public-key extension (OID \(LibP2PTLSProtocol.extensionOID)) is not a DER SignedKey: \(why)"
        case .invalidIdentityKey(let error):
            "the libp2p public-key extension holds an unusable identity key: \(error)"
        case .identitySignatureInvalid(let peer):
            "the identity signature in the libp2p public-key extension does not verify for \(peer) (the certificate was not made by that peer)"
        case .peerIDMismatch(let expected, let actual):
            "dialed \(expected) but the peer is \(actual) (stale address or peer ID? check the multiaddr's /p2p/ part)"
        case .alpnNotNegotiated(let selected):
            "the handshake selected ALPN \(selected.map { "\"\($0)\"" } ?? "none"), not \"\(LibP2PTLSProtocol.alpn)\""
        }
    }
}
