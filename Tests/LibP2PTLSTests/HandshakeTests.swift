#if canImport(Glibc)
import Glibc
#endif
import CGnuTLS
import Testing
import TestSupport
import Wire
import P2PCrypto
@testable import LibP2PTLS

/// Real TLS 1.3 handshakes between two GnuTLS sessions set up by
/// `LibP2PTLSVerifier.configure`, over in-memory queues: mutual authentication by libp2p
/// certificate, ALPN "libp2p", and the refusals tls.md asks for.
/// No time limit: the handshake pump is bounded (50 rounds), and a limit would count the time
/// a test waits for a thread while the suite runs beside long tests.
@Suite
struct HandshakeTests {
    /// The hook checks against the wall clock, so certificates are made for now.
    static var now: Int64 { Int64(time(nil)) }

    struct Peer {
        let identity = Ed25519PrivateKey.generate()
        var id: PeerID { PublicKey.ed25519(identity.publicKey).peerID }

        func credentials(_ adjust: (inout LibP2PCertificate.Profile) -> Void = { _ in }) throws -> LibP2PTLSCredentials {
            var profile = LibP2PCertificate.Profile(now: HandshakeTests.now)
            adjust(&profile)
            return try LibP2PTLSCredentials(certificate: LibP2PCertificate(identity: identity, profile: profile))
        }

        func endpoint(server: Bool, _ adjust: (inout LibP2PCertificate.Profile) -> Void = { _ in }) throws -> InMemoryEndpoint {
            let endpoint = InMemoryEndpoint(server: server)
            let credentials = try credentials(adjust)
            try LibP2PTLSVerifier.configure(session: endpoint.session, credentials: credentials, server: server)
            endpoint.keepAlive.append(credentials)
            return endpoint
        }
    }

    @Test func bothSidesLearnEachOthersPeerIDAndTalk() throws {
        let alice = Peer(), bob = Peer()
        let client = try alice.endpoint(server: false)
        let server = try bob.endpoint(server: true)
        let result = InMemoryTLS.handshake(client: client, server: server)
        #expect(GnuTLSFailure(code: result.client) == GnuTLSFailure(code: 0))
        #expect(GnuTLSFailure(code: result.server) == GnuTLSFailure(code: 0))

        // The dialer checks the peer it dialed; the listener learns who dialed it.
        let serverKey = try LibP2PTLSVerifier.verifyPeer(of: client.session, now: Self.now, expectedPeer: bob.id)
        let clientKey = try LibP2PTLSVerifier.verifyPeer(of: server.session, now: Self.now, expectedPeer: nil)
        #expect(serverKey.peerID == bob.id)
        #expect(clientKey.peerID == alice.id)
        #expect(client.selectedALPN == "libp2p")
        #expect(server.selectedALPN == "libp2p")
        #expect(gnutls_protocol_get_version(client.session) == GNUTLS_TLS1_3)

        // The keys work both ways.
        #expect(client.send(Array("hello bob".utf8)) == 9)
        #expect(try server.receive().get() == Array("hello bob".utf8))
        #expect(server.send(Array("hello alice".utf8)) == 11)
        // The server's first flight after the handshake may carry other records first.
        var received: [UInt8] = []
        for _ in 0..<3 where received.isEmpty {
            if case .success(let bytes) = client.receive() { received = bytes }
        }
        #expect(received == Array("hello alice".utf8))
    }

    @Test func theDialerSeesAnotherPeerThanItDialed() throws {
        let alice = Peer(), bob = Peer(), carol = Peer()
        let client = try alice.endpoint(server: false)
        let server = try bob.endpoint(server: true)
        let result = InMemoryTLS.handshake(client: client, server: server)
        #expect(result.client == 0 && result.server == 0)
        #expect(throws: LibP2PTLSError.peerIDMismatch(expected: carol.id, actual: bob.id)) {
            try LibP2PTLSVerifier.verifyPeer(of: client.session, now: Self.now, expectedPeer: carol.id)
        }
    }

    @Test func aClientWithoutACertificateIsRefusedByTheServer() throws {
        let bob = Peer()
        let server = try bob.endpoint(server: true)
        let empty = try EmptyCredentials()
        let client = try Self.handBuiltClient(credentials: empty.credentials, keepAlive: empty)
        let result = InMemoryTLS.handshake(client: client, server: server)
        #expect(result.server < 0, "server: \(GnuTLSFailure(code: result.server))")
        #expect([GNUTLS_E_NO_CERTIFICATE_FOUND, GNUTLS_E_CERTIFICATE_REQUIRED].contains(result.server),
                "server: \(GnuTLSFailure(code: result.server))")
    }

    @Test func aTLS12OnlyClientIsRefused() throws {
        let alice = Peer(), bob = Peer()
        let credentials = try alice.credentials()
        let client = try Self.handBuiltClient(credentials: credentials.credentials, priority: "NORMAL:-VERS-ALL:+VERS-TLS1.2",
                                              keepAlive: credentials)
        let server = try bob.endpoint(server: true)
        let result = InMemoryTLS.handshake(client: client, server: server)
        #expect(result.server < 0, "server: \(GnuTLSFailure(code: result.server))")
        #expect(result.client < 0, "client: \(GnuTLSFailure(code: result.client))")
    }

    @Test func aClientOfferingAnotherALPNIsRefused() throws {
        let alice = Peer(), bob = Peer()
        let credentials = try alice.credentials()
        let client = try Self.handBuiltClient(credentials: credentials.credentials, alpn: "h2", keepAlive: credentials)
        let server = try bob.endpoint(server: true)
        let result = InMemoryTLS.handshake(client: client, server: server)
        #expect(result.server == GNUTLS_E_NO_APPLICATION_PROTOCOL, "server: \(GnuTLSFailure(code: result.server))")
        #expect(result.client < 0, "client: \(GnuTLSFailure(code: result.client))")
    }

    @Test func aClientOfferingNoALPNIsRefusedByTheHook() throws {
        // GNUTLS_ALPN_MANDATORY only acts on a ClientHello that has the ALPN extension; for a
        // client without one, the verify hook's ALPN check fails the handshake.
        let alice = Peer(), bob = Peer()
        let credentials = try alice.credentials()
        let client = try Self.handBuiltClient(credentials: credentials.credentials, alpn: nil, keepAlive: credentials)
        let server = try bob.endpoint(server: true)
        let result = InMemoryTLS.handshake(client: client, server: server)
        #expect(result.server == GNUTLS_E_CERTIFICATE_ERROR, "server: \(GnuTLSFailure(code: result.server))")
        #expect(throws: LibP2PTLSError.alpnNotNegotiated(selected: nil)) {
            try LibP2PTLSVerifier.verifyPeer(of: server.session, now: Self.now, expectedPeer: nil)
        }
    }

    @Test func theClientRefusesAServerCertificateWithoutTheExtension() throws {
        let alice = Peer(), bob = Peer()
        let client = try alice.endpoint(server: false)
        let server = try bob.endpoint(server: true) { $0.includeLibP2PExtension = false }
        let result = InMemoryTLS.handshake(client: client, server: server)
        #expect(result.client == GNUTLS_E_CERTIFICATE_ERROR, "client: \(GnuTLSFailure(code: result.client))")
        #expect(result.server < 0, "server: \(GnuTLSFailure(code: result.server))")
    }

    @Test func theServerRefusesAClientCertificateWithABadIdentitySignature() throws {
        let alice = Peer(), bob = Peer()
        let client = try alice.endpoint(server: false) { $0.corruptIdentitySignature = true }
        let server = try bob.endpoint(server: true)
        let result = InMemoryTLS.handshake(client: client, server: server)
        #expect(result.server == GNUTLS_E_CERTIFICATE_ERROR, "server: \(GnuTLSFailure(code: result.server))")
    }

    @Test func theServerRefusesAnExpiredClientCertificate() throws {
        let alice = Peer(), bob = Peer()
        let client = try alice.endpoint(server: false) {
            $0.notBefore = HandshakeTests.now - 7200
            $0.notAfter = HandshakeTests.now - 3600
        }
        let server = try bob.endpoint(server: true)
        let result = InMemoryTLS.handshake(client: client, server: server)
        #expect(result.server == GNUTLS_E_CERTIFICATE_ERROR, "server: \(GnuTLSFailure(code: result.server))")
    }

    @Test func verifyPeerBeforeAnyHandshakeFindsNoCertificate() throws {
        let alice = Peer()
        let client = try alice.endpoint(server: false)
        #expect(throws: LibP2PTLSError.alpnNotNegotiated(selected: nil)) {
            try LibP2PTLSVerifier.verifyPeer(of: client.session, now: Self.now, expectedPeer: nil)
        }
        #expect(throws: LibP2PTLSError.noPeerCertificate) { try LibP2PTLSVerifier.peerChain(of: client.session) }
    }

    /// A client session set up by hand like `configure` (credentials, priority, ALPN), for the
    /// variants `configure` does not make. A second `gnutls_alpn_set_protocols` on a configured
    /// session would not replace "libp2p": GnuTLS 3.7 appends to the list it has and sends an
    /// empty name, so variants start from a fresh session.
    static func handBuiltClient(credentials: gnutls_certificate_credentials_t, alpn: String? = "libp2p",
                                priority: String = LibP2PTLSProtocol.priority, keepAlive: AnyObject) throws -> InMemoryEndpoint {
        let client = InMemoryEndpoint(server: false)
        client.keepAlive.append(keepAlive)
        try #require(gnutls_credentials_set(client.session, GNUTLS_CRD_CERTIFICATE, UnsafeMutableRawPointer(credentials)) == 0)
        try #require(gnutls_priority_set_direct(client.session, priority, nil) == 0)
        gnutls_session_set_verify_function(client.session) { _ in 0 }
        if let alpn {
            var bytes = Array(alpn.utf8)
            let result = bytes.withUnsafeMutableBufferPointer { buffer in
                var datum = gnutls_datum_t(data: buffer.baseAddress, size: UInt32(buffer.count))
                return gnutls_alpn_set_protocols(client.session, &datum, 1, 0)
            }
            try #require(result == 0)
        }
        return client
    }
}

/// Certificate credentials with no certificate: a client that cannot authenticate.
final class EmptyCredentials {
    let credentials: gnutls_certificate_credentials_t
    init() throws {
        var credentials: gnutls_certificate_credentials_t?
        try #require(gnutls_certificate_allocate_credentials(&credentials) == 0)
        self.credentials = try #require(credentials)
    }
    deinit { gnutls_certificate_free_credentials(credentials) }
}
