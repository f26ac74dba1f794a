/// The constants of the libp2p TLS handshake (libp2p specs `tls/tls.md`; libp2p-wire.md §12),
/// each with its source. Used for QUIC (`/quic-v1`, where TLS 1.3 is built in) and for
/// `/tls/1.0.0` over TCP.
public enum LibP2PTLSProtocol {
    /// The multistream-select protocol ID of libp2p TLS over TCP (tls.md "Handshake Protocol").
    public static let protocolID = "/tls/1.0.0"

    /// The libp2p Public Key Extension's OID, allocated by IANA to Protocol Labs (tls.md
    /// "libp2p Public Key Extension"). DER: `2b 06 01 04 01 83 a2 5a 01 01`.
    public static let extensionOID = "1.3.6.1.4.1.53594.1.1"

    /// What the identity key signs, followed by the certificate key's DER SubjectPublicKeyInfo
    /// (tls.md "libp2p Public Key Extension").
    public static let signaturePrefix: [UInt8] = Array("libp2p-tls-handshake:".utf8)

    /// The ALPN protocol; a handshake without it fails (tls.md "ALPN"). QUIC never lists
    /// muxers before it.
    public static let alpn = "libp2p"

    /// GnuTLS priority string: TLS 1.3 only (tls.md: "Endpoints MUST NOT negotiate lower TLS
    /// versions"), the AEADs and groups ngtcp2's GnuTLS examples use, and no middlebox
    /// compatibility mode, which QUIC forbids (RFC 9001 §8.4) and which TLS over TCP does not need.
    public static let priority = "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:"
        + "+AES-128-CCM:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:+GROUP-SECP521R1:%DISABLE_TLS13_COMPAT_MODE"

    /// Seconds our certificate is valid before the time it is made: one hour, as go-libp2p
    /// and js-libp2p do, so a peer whose clock is a little behind ours still accepts it.
    public static let validityBefore: Int64 = 3600

    /// Seconds our certificate is valid after the time it is made: 100 years of 365 days, as
    /// go-libp2p (`certValidityPeriod`) and js-libp2p. The certificate proves nothing by its
    /// dates (the identity signature does) and a fresh one is made per run.
    public static let validityAfter: Int64 = 100 * 365 * 86_400

    /// Largest peer certificate, in bytes, we parse: ours is about 500 bytes and one with an
    /// RSA-8192 identity about 2.5 KiB; our own bound on the work a peer can ask of the parser.
    public static let maximumCertificateSize = 16 * 1024
}
