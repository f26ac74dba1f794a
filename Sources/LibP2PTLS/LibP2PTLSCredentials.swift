import CGnuTLS

/// GnuTLS certificate credentials holding our libp2p certificate and its key, ready for
/// `gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, ...)` on any number of sessions,
/// client or server (`LibP2PTLSVerifier.configure(session:credentials:server:)` does that).
///
/// No trust store is loaded: libp2p peers are authenticated by the identity signature in their
/// certificate, never by a CA (see `LibP2PTLSVerifier`).
///
/// Keep this object alive as long as any session configured with it: GnuTLS keeps only a
/// pointer to the credentials, which `deinit` frees. Immutable after `init`, and GnuTLS only
/// reads credentials during handshakes, which is why sharing it across threads is safe.
public final class LibP2PTLSCredentials: @unchecked Sendable {
    /// For `gnutls_credentials_set`.
    public let credentials: gnutls_certificate_credentials_t
    /// The certificate inside (GnuTLS holds its own copy; this one is for our peer ID and DER).
    public let certificate: LibP2PCertificate

    public init(certificate: LibP2PCertificate) throws(LibP2PTLSError) {
        var credentials: gnutls_certificate_credentials_t?
        guard gnutls_certificate_allocate_credentials(&credentials) == GNUTLS_E_SUCCESS, let credentials else {
            // Only an allocation failure gets here.
            fatalError("gnutls_certificate_allocate_credentials failed (out of memory?)")
        }
        var chain: [gnutls_x509_crt_t?] = [certificate.certificate]
        // GnuTLS copies the certificate and key, so their lifetime is not tied to these credentials.
        let added = gnutls_certificate_set_x509_key(credentials, &chain, 1, certificate.privateKey)
        guard added >= 0 else {
            gnutls_certificate_free_credentials(credentials)
            throw .gnutls(call: "gnutls_certificate_set_x509_key", code: added)
        }
        self.credentials = credentials
        self.certificate = certificate
    }

    deinit { gnutls_certificate_free_credentials(credentials) }
}
