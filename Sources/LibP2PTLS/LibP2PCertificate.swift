import CGnuTLS
import P2PCrypto
import Wire

/// Our libp2p TLS certificate (tls.md "Peer Authentication"): a self-signed X.509 v3
/// certificate on a fresh ECDSA P-256 key, unrelated to the identity key, carrying the libp2p
/// Public Key Extension in which the Ed25519 identity key signs the certificate key.
///
/// Made once per run (tls.md allows one per connection or one for many) and handed to
/// `LibP2PTLSCredentials`. A class because it owns GnuTLS's certificate and private key,
/// freed in `deinit`; immutable after `init`, which is why sharing it across threads is safe.
///
/// Choices where implementations differ:
/// * **Key:** ECDSA P-256 with SHA-256, as go, rust, js and py use: every peer supports it and
///   tls.md asks for small, fast keys and a named curve.
/// * **Validity:** from `now` − 1 h to `now` + 100 × 365 days, as go and js. The hour tolerates
///   a peer whose clock is behind; the far end because the dates prove nothing here.
/// * **Extension criticality:** not critical, as go-libp2p and py-libp2p (rust and js mark it
///   critical; tls.md: "MAY be marked critical"). A libp2p peer reads it either way and a
///   generic X.509 tool can still print the certificate. Our verifier accepts both.
/// * **Names:** subject = issuer = `CN=<peer ID>`, as py-libp2p: RFC 5280 wants a non-empty
///   issuer, and it names the peer in debugging output. Nothing ever trusts it.
/// * **Serial:** 16 random bytes (126 bits of entropy, kept positive and of fixed length).
/// * No other extension, so the libp2p extension is the first (js-libp2p reads only the first).
public final class LibP2PCertificate: @unchecked Sendable {
    let certificate: gnutls_x509_crt_t
    let privateKey: gnutls_x509_privkey_t
    /// The certificate in DER, as sent in the handshake.
    public let der: [UInt8]
    /// The peer ID the certificate proves: that of the identity key.
    public let peerID: PeerID
    /// Seconds since the epoch.
    public let notBefore: Int64
    public let notAfter: Int64

    /// A fresh certificate key and certificate for `identity`, valid from `now` − 1 h for 100
    /// years (`now` in seconds since the epoch).
    public convenience init(identity: Ed25519PrivateKey, now: Int64) throws(LibP2PTLSError) {
        try self.init(identity: identity, profile: Profile(now: now))
    }

    /// What a certificate is made of. Tests vary it to make certificates that a verifier must
    /// refuse; `init(identity:now:)` always uses the values above.
    struct Profile {
        var notBefore: Int64
        var notAfter: Int64
        var includeLibP2PExtension = true
        var libp2pExtensionCritical = false
        /// Flip a bit of the identity signature before the certificate is signed, so only the
        /// extension's signature is wrong.
        var corruptIdentitySignature = false
        /// Extensions added after libp2p's: (OID, DER value, critical).
        var extraExtensions: [(oid: String, value: [UInt8], critical: Bool)] = []

        init(now: Int64) {
            notBefore = now - LibP2PTLSProtocol.validityBefore
            notAfter = now + LibP2PTLSProtocol.validityAfter
        }
    }

    init(identity: Ed25519PrivateKey, profile: Profile) throws(LibP2PTLSError) {
        var key: gnutls_x509_privkey_t?
        var certificate: gnutls_x509_crt_t?
        guard gnutls_x509_privkey_init(&key) == GNUTLS_E_SUCCESS, let key,
              gnutls_x509_crt_init(&certificate) == GNUTLS_E_SUCCESS, let certificate else {
            // Only an allocation failure gets here.
            fatalError("gnutls_x509_privkey_init / gnutls_x509_crt_init failed (out of memory?)")
        }
        let peerID = PublicKey.ed25519(identity.publicKey).peerID
        do {
            der = try Self.build(certificate, key, identity: identity, peerID: peerID, profile: profile)
        } catch {
            gnutls_x509_crt_deinit(certificate)
            gnutls_x509_privkey_deinit(key)
            throw error
        }
        self.certificate = certificate
        self.privateKey = key
        self.peerID = peerID
        notBefore = profile.notBefore
        notAfter = profile.notAfter
    }

    deinit {
        gnutls_x509_crt_deinit(certificate)
        gnutls_x509_privkey_deinit(privateKey)
    }

    /// The steps of tls.md in order: certificate key, fields, identity signature over the
    /// key's SubjectPublicKeyInfo, the extension, the self-signature.
    private static func build(_ certificate: gnutls_x509_crt_t, _ key: gnutls_x509_privkey_t, identity: Ed25519PrivateKey,
                              peerID: PeerID, profile: Profile) throws(LibP2PTLSError) -> [UInt8] {
        try GnuTLS.check("gnutls_x509_privkey_generate",
                         gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA, p2p_gnutls_curve_to_bits(GNUTLS_ECC_CURVE_SECP256R1), 0))
        try GnuTLS.check("gnutls_x509_crt_set_version", gnutls_x509_crt_set_version(certificate, 3))
        var serial = SecureRandom.bytes(16)
        // 0x40...0x7f first: positive (no sign bit), so DER needs no leading zero, and 16 bytes long.
        serial[0] = serial[0] & 0x3f | 0x40
        try GnuTLS.check("gnutls_x509_crt_set_serial", gnutls_x509_crt_set_serial(certificate, serial, serial.count))
        let name = Array(peerID.description.utf8)
        // 2.5.4.3 is the X.520 commonName attribute.
        try GnuTLS.check("gnutls_x509_crt_set_dn_by_oid",
                         gnutls_x509_crt_set_dn_by_oid(certificate, "2.5.4.3", 0, name, UInt32(name.count)))
        try GnuTLS.check("gnutls_x509_crt_set_activation_time", gnutls_x509_crt_set_activation_time(certificate, time_t(profile.notBefore)))
        try GnuTLS.check("gnutls_x509_crt_set_expiration_time", gnutls_x509_crt_set_expiration_time(certificate, time_t(profile.notAfter)))
        try GnuTLS.check("gnutls_x509_crt_set_key", gnutls_x509_crt_set_key(certificate, key))

        if profile.includeLibP2PExtension {
            let spki = try subjectPublicKeyInfo(of: certificate)
            var signature = identity.sign(SignedKey.message(subjectPublicKeyInfo: spki))
            if profile.corruptIdentitySignature { signature[signature.count / 2] ^= 0x01 }
            let value = SignedKey(publicKey: PublicKey.ed25519(identity.publicKey).libp2pProtobuf, signature: signature).der
            try setExtension(certificate, oid: LibP2PTLSProtocol.extensionOID, value: value, critical: profile.libp2pExtensionCritical)
        }
        for extra in profile.extraExtensions {
            try setExtension(certificate, oid: extra.oid, value: extra.value, critical: extra.critical)
        }
        try GnuTLS.check("gnutls_x509_crt_sign2", gnutls_x509_crt_sign2(certificate, certificate, key, GNUTLS_DIG_SHA256, 0))
        var datum = gnutls_datum_t()
        try GnuTLS.check("gnutls_x509_crt_export2", gnutls_x509_crt_export2(certificate, GNUTLS_X509_FMT_DER, &datum))
        return GnuTLS.takeDatum(datum)
    }

    /// The certificate key's DER SubjectPublicKeyInfo as GnuTLS writes it into the certificate.
    private static func subjectPublicKeyInfo(of certificate: gnutls_x509_crt_t) throws(LibP2PTLSError) -> [UInt8] {
        var key: gnutls_pubkey_t?
        guard gnutls_pubkey_init(&key) == GNUTLS_E_SUCCESS, let key else {
            fatalError("gnutls_pubkey_init failed (out of memory?)")
        }
        defer { gnutls_pubkey_deinit(key) }
        try GnuTLS.check("gnutls_pubkey_import_x509", gnutls_pubkey_import_x509(key, certificate, 0))
        var datum = gnutls_datum_t()
        try GnuTLS.check("gnutls_pubkey_export2", gnutls_pubkey_export2(key, GNUTLS_X509_FMT_DER, &datum))
        return GnuTLS.takeDatum(datum)
    }

    private static func setExtension(_ certificate: gnutls_x509_crt_t, oid: String, value: [UInt8], critical: Bool) throws(LibP2PTLSError) {
        try GnuTLS.check("gnutls_x509_crt_set_extension_by_oid",
                         gnutls_x509_crt_set_extension_by_oid(certificate, oid, value, value.count, critical ? 1 : 0))
    }
}
