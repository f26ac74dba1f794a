#if canImport(Glibc)
import Glibc
#endif
import CGnuTLS
import P2PCrypto
import Wire

/// Checks a peer's libp2p TLS certificate (tls.md "Peer Authentication") and sets up GnuTLS
/// sessions to do so during the handshake.
///
/// A peer's chain is accepted when, in this order (each failure its own `LibP2PTLSError`):
/// 1. it holds exactly one certificate, of at most 16 KiB;
/// 2. GnuTLS parses it as DER X.509 v3, and our DER walk agrees on its layout;
/// 3. `now` lies within NotBefore ... NotAfter, both inclusive;
/// 4. it has no `issuerUniqueID` / `subjectUniqueID`;
/// 5. its signature algorithm hashes with at least 256 bits (or is EdDSA) and the
///    self-signature verifies under the certificate's own key (GnuTLS refuses explicit EC
///    parameters when reading the key, which is tls.md's "NamedCurve" rule);
/// 6. every critical extension is the libp2p one: it is the only extension we understand
///    (as rust-libp2p; go, py and js certificates carry no other extension), non-critical
///    unknown ones are ignored;
/// 7. the libp2p extension is there, once, and is a DER `SignedKey`;
/// 8. its `publicKey` is a libp2p key P2PCrypto accepts (Ed25519, secp256k1, ECDSA P-256,
///    RSA 2048-8192), whose signature over "libp2p-tls-handshake:" ‖ the certificate's raw
///    SubjectPublicKeyInfo verifies;
/// 9. if a peer ID was expected (the dialer knows whom it dialed), the key's peer ID is it.
///
/// **How the handshake uses it.** GnuTLS's C verify callback gets only the session, and the
/// session's user pointer belongs to ngtcp2_crypto_gnutls (its `ngtcp2_crypto_conn_ref`). So
/// the hook that `configure` installs checks ALPN and steps 1-8 against the wall clock, which
/// makes a handshake with an invalid certificate fail on either side (GnuTLS sends a
/// `bad_certificate` alert). It cannot know the expected peer: after the handshake completes,
/// the QUIC (or TCP) layer calls `verifyPeer(of:now:expectedPeer:)`, which checks ALPN, runs
/// all nine steps again with its own `now`, and returns the peer's key; the dialer closes the
/// connection on `.peerIDMismatch` before using it (tls.md asks clients to abort on a
/// mismatch; no application data has been read by then).
///
/// GnuTLS's own X.509 verification never runs: it happens only when an application calls
/// `gnutls_certificate_verify_peers*` or `gnutls_session_set_verify_cert`, and the hook takes
/// its place. It would refuse every libp2p certificate anyway (self-signed, no trust anchor).
public enum LibP2PTLSVerifier {
    /// Verifies a peer's certificate chain (DER, leaf first, as TLS delivers it) at `now`
    /// (seconds since the epoch) and returns the peer's identity key; `peerID` of it is the
    /// peer's ID. With `expectedPeer`, a valid certificate of another peer is `.peerIDMismatch`.
    public static func verify(chain: [[UInt8]], now: Int64, expectedPeer: PeerID?) throws(LibP2PTLSError) -> PublicKey {
        guard chain.count == 1 else { throw .chainLength(chain.count) }
        let key = try verifyCertificate(chain[0], now: now)
        if let expectedPeer {
            let actual = key.peerID
            guard actual == expectedPeer else { throw .peerIDMismatch(expected: expectedPeer, actual: actual) }
        }
        return key
    }

    /// After a completed handshake: checks that ALPN "libp2p" was selected, then verifies the
    /// certificate chain the peer sent (`gnutls_certificate_get_peers`) as `verify(chain:...)`.
    public static func verifyPeer(of session: gnutls_session_t, now: Int64, expectedPeer: PeerID?) throws(LibP2PTLSError) -> PublicKey {
        var selected = gnutls_datum_t()
        if gnutls_alpn_get_selected_protocol(session, &selected) == GNUTLS_E_SUCCESS {
            // The datum points into the session; copy, never free.
            let protocolName = String(decoding: GnuTLS.borrowDatum(selected), as: UTF8.self)
            guard protocolName == LibP2PTLSProtocol.alpn else { throw .alpnNotNegotiated(selected: protocolName) }
        } else {
            throw .alpnNotNegotiated(selected: nil)
        }
        return try verify(chain: peerChain(of: session), now: now, expectedPeer: expectedPeer)
    }

    /// Prepares a fresh session (after `gnutls_init`, and for QUIC after
    /// `ngtcp2_crypto_gnutls_configure_{client,server}_session`, before the handshake):
    /// * our certificate credentials;
    /// * `LibP2PTLSProtocol.priority`: TLS 1.3 only, no middlebox compatibility mode;
    /// * ALPN "libp2p", mandatory: GnuTLS fails the handshake when the client offers other
    ///   protocols, and the hook when the client offered none (GnuTLS 3.7's
    ///   `GNUTLS_ALPN_MANDATORY` lets a ClientHello without the ALPN extension through).
    ///   Call `configure` once per session: a second `gnutls_alpn_set_protocols` appends to
    ///   GnuTLS's list instead of replacing it;
    /// * a server requests and requires the client's certificate (tls.md: "servers MUST
    ///   require client authentication");
    /// * the verify hook described on this type.
    /// It sets no server name: tls.md forbids SNI from clients.
    ///
    /// Resumption would skip the certificates: never call `gnutls_session_set_data` on these
    /// sessions, and prefer `GNUTLS_NO_TICKETS` in `gnutls_init`'s flags.
    public static func configure(session: gnutls_session_t, credentials: LibP2PTLSCredentials, server: Bool) throws(LibP2PTLSError) {
        try GnuTLS.check("gnutls_credentials_set",
                         gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, UnsafeMutableRawPointer(credentials.credentials)))
        var errorPosition: UnsafePointer<CChar>?
        try GnuTLS.check("gnutls_priority_set_direct", gnutls_priority_set_direct(session, LibP2PTLSProtocol.priority, &errorPosition))
        var alpn = Array(LibP2PTLSProtocol.alpn.utf8)
        // GnuTLS copies the protocol names into the session.
        let setALPN = alpn.withUnsafeMutableBufferPointer { buffer in
            var datum = gnutls_datum_t(data: buffer.baseAddress, size: UInt32(buffer.count))
            return gnutls_alpn_set_protocols(session, &datum, 1, UInt32(GNUTLS_ALPN_MANDATORY.rawValue))
        }
        try GnuTLS.check("gnutls_alpn_set_protocols", setALPN)
        if server { gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUIRE) }
        gnutls_session_set_verify_function(session, handshakeHook)
    }

    /// The verify hook: `verifyPeer` without an expected peer. 0 lets the handshake go on,
    /// anything else fails it with `GNUTLS_E_CERTIFICATE_ERROR` (also for a missing ALPN).
    /// GnuTLS calls it when the peer's Certificate message arrives, by which time ALPN is
    /// settled on both sides (ClientHello for the server, EncryptedExtensions for the client).
    /// Reads the wall clock because the callback has no context to pass a time in;
    /// `verifyPeer` repeats the checks with the caller's `now`.
    private static let handshakeHook: @convention(c) (gnutls_session_t?) -> Int32 = { session in
        guard let session else { return GNUTLS_E_CERTIFICATE_ERROR }
        do {
            _ = try verifyPeer(of: session, now: Int64(time(nil)), expectedPeer: nil)
            return 0
        } catch {
            return GNUTLS_E_CERTIFICATE_ERROR
        }
    }

    /// The DER certificates the peer sent, leaf first.
    static func peerChain(of session: gnutls_session_t) throws(LibP2PTLSError) -> [[UInt8]] {
        guard gnutls_certificate_type_get2(session, GNUTLS_CTYPE_PEERS) == GNUTLS_CRT_X509 else { throw .notX509 }
        var count: UInt32 = 0
        guard let list = gnutls_certificate_get_peers(session, &count), count > 0 else { throw .noPeerCertificate }
        return (0..<Int(count)).map { GnuTLS.borrowDatum(list[$0]) }
    }

    /// Steps 1-8 for one certificate.
    static func verifyCertificate(_ der: [UInt8], now: Int64) throws(LibP2PTLSError) -> PublicKey {
        guard der.count <= LibP2PTLSProtocol.maximumCertificateSize else { throw .certificateTooLarge(der.count) }
        let certificate = try X509Certificate(der: der)
        let layout: CertificateLayout
        do { layout = try CertificateLayout(der: der) } catch { throw .malformedCertificate(error.message) }
        guard certificate.version == 3 else { throw .unsupportedVersion(certificate.version) }

        let (notBefore, notAfter) = try certificate.validity()
        guard now >= notBefore else { throw .notYetValid(notBefore: notBefore, now: now) }
        guard now <= notAfter else { throw .expired(notAfter: notAfter, now: now) }
        guard !layout.hasUniqueIdentifier else { throw .uniqueIdentifierPresent }

        let algorithm = certificate.signatureAlgorithm
        guard acceptsSignatureAlgorithm(algorithm) else {
            throw .unsupportedSignatureAlgorithm(algorithm == GNUTLS_SIGN_UNKNOWN ? "an algorithm GnuTLS does not know" : GnuTLS.signatureName(algorithm))
        }
        guard try certificate.verifySelfSignature(algorithm, tbsCertificate: layout.tbsCertificate, signature: layout.signature) else {
            throw .selfSignatureInvalid
        }

        var signedKeyValue: [UInt8]?
        for candidate in try certificate.extensions() {
            if candidate.oid == LibP2PTLSProtocol.extensionOID {
                // GnuTLS already refuses any repeated extension when parsing
                // (GNUTLS_E_X509_DUPLICATE_EXTENSION); this keeps the rule visible here.
                guard signedKeyValue == nil else { throw .malformedCertificate("the libp2p extension appears twice") }
                signedKeyValue = candidate.value
            } else if candidate.critical {
                throw .unknownCriticalExtension(oid: candidate.oid)
            }
        }
        guard let signedKeyValue else { throw .missingLibP2PExtension }
        let signedKey = try SignedKey(der: signedKeyValue)

        let identity: PublicKey
        do { identity = try PublicKey(libp2pProtobuf: signedKey.publicKey) } catch { throw .invalidIdentityKey(error) }
        guard identity.verify(signature: signedKey.signature, message: SignedKey.message(subjectPublicKeyInfo: layout.subjectPublicKeyInfo)) else {
            throw .identitySignatureInvalid(peer: identity.peerID)
        }
        return identity
    }

    /// SHA-256 or longer hashes (SHA-2, SHA-3), or EdDSA, which hashes internally (tls.md:
    /// "hash functions with an output length less than 256 bits MUST NOT be used").
    static func acceptsSignatureAlgorithm(_ algorithm: gnutls_sign_algorithm_t) -> Bool {
        switch algorithm {
        case GNUTLS_SIGN_EDDSA_ED25519, GNUTLS_SIGN_EDDSA_ED448: return true
        case GNUTLS_SIGN_UNKNOWN: return false
        default: break
        }
        switch gnutls_sign_get_hash_algorithm(algorithm) {
        case GNUTLS_DIG_SHA256, GNUTLS_DIG_SHA384, GNUTLS_DIG_SHA512, GNUTLS_DIG_SHA3_256, GNUTLS_DIG_SHA3_384, GNUTLS_DIG_SHA3_512:
            return true
        default:
            return false
        }
    }
}
