import CGnuTLS
import LibP2PTLS
import P2PCrypto
import Wire

/// QUIC's TLS as libp2p defines it (libp2p tls spec): our certificate with the libp2p
/// public-key extension, TLS 1.3 only, ALPN `libp2p`, a client certificate required, and the
/// peer's identity read from its certificate once the handshake is done.
///
/// One per node: the certificate is made once at start and shared by every connection.
public final class LibP2PQUICTLS: QUICTLSProvider {
    public let credentials: LibP2PTLSCredentials
    /// Unix seconds, for certificate validity (handed in: the machine reads no clock).
    private let wallClock: () -> Int64

    public init(identity: Ed25519PrivateKey, wallClock: @escaping () -> Int64) throws(QUICError) {
        do {
            let certificate = try LibP2PCertificate(identity: identity, now: wallClock())
            credentials = try LibP2PTLSCredentials(certificate: certificate)
        } catch {
            throw .tls("cannot make our libp2p TLS certificate: \(error)")
        }
        self.wallClock = wallClock
    }

    /// With credentials made elsewhere (tests: certificates that are wrong on purpose).
    public init(credentials: LibP2PTLSCredentials, wallClock: @escaping () -> Int64) {
        self.credentials = credentials
        self.wallClock = wallClock
    }

    public func configure(_ session: gnutls_session_t, server: Bool) throws(QUICError) {
        do {
            try LibP2PTLSVerifier.configure(session: session, credentials: credentials, server: server)
        } catch {
            throw .tls("\(error)")
        }
    }

    public func verifiedPeer(of session: gnutls_session_t, expected: PeerID?) throws(QUICError) -> PeerID {
        do {
            return try LibP2PTLSVerifier.verifyPeer(of: session, now: wallClock(), expectedPeer: expected).peerID
        } catch {
            throw .tls("\(error)")
        }
    }
}
