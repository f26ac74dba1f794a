import CGnuTLS
import LibP2PTLS
import P2PCrypto
import QUIC
import Testing
import TestSupport
import Wire
@testable import LibP2PTLS

/// Bad input at the QUIC layer (issue 13): each is refused without state piling up, and a good
/// client still connects afterwards.
@Suite struct QUICBadInputTests {
    @Test func aCleanHandshakeEstablishesBothSides() throws {
        let h = try QUICHarness()
        h.run(milliseconds: 200)
        #expect(h.established)
        #expect(h.client?.remotePeer == PublicKey.ed25519(h.serverIdentity.publicKey).peerID)
        #expect(h.server?.remotePeer == PublicKey.ed25519(h.clientIdentity.publicKey).peerID)
    }

    @Test func randomDatagramsAreDroppedAndKeepNoState() throws {
        let h = try QUICHarness()
        var rng = SplitMix64(seed: 7)
        var replies = 0
        for i in 0..<10_000 {
            let size = 1 + Int(rng.next() % 1_500)
            var datagram = rng.bytes(size)
            // Half of them look like long-header v1 packets, the rest are anything.
            if i % 2 == 0, size > 5 { datagram[0] = 0xC0 | (datagram[0] & 0x0F); datagram[1...4] = [0, 0, 0, 1] }
            switch h.deliverToServer(datagram) {
            case .accept: Issue.record("random datagram \(i) made a connection")
            case .deliver: Issue.record("random datagram \(i) was routed to a connection")
            case .reply(let bytes):
                replies += 1
                // Version Negotiation only, only for datagrams of Initial size, never larger than what came in.
                #expect(size >= 1200 && bytes.count <= size)
            case .drop: break
            }
        }
        #expect(h.server == nil)
        #expect(h.endpoint.routeCount == 0)
        // A real client still gets in.
        h.run(milliseconds: 200)
        #expect(h.established)
        _ = replies
    }

    @Test func truncatedAndCorruptedInitialsNeverEstablishAConnection() throws {
        let h = try QUICHarness()
        let initial = try #require(try h.clientInitial().first)
        #expect(initial.count >= 1200)
        var accepted = 0
        var candidates: [[UInt8]] = stride(from: 0, to: initial.count, by: 13).map { Array(initial.prefix($0)) }
        var rng = SplitMix64(seed: 3)
        for _ in 0..<300 {
            var corrupted = initial
            let at = Int(rng.next() % UInt64(initial.count))
            corrupted[at] ^= UInt8(1 + rng.next() % 255)
            candidates.append(corrupted)
        }
        for bad in candidates {
            let probe = try QUICHarness(seed: 1)
            if case .accept = probe.deliverToServer(bad) {
                accepted += 1
                probe.flush()
                // Whatever it answered, nothing is established from a broken Initial.
                #expect(!probe.serverEvents.contains { if case .established = $0 { true } else { false } })
            }
        }
        // A header that still parses is not enough: the payload must decrypt into a
        // ClientHello before a connection is kept (every Initial byte is protected).
        #expect(accepted == 0)
    }

    @Test func aFloodOfInitialsGetsRetriesAndKeepsHandshakeStateBounded() throws {
        let h = try QUICHarness(retryThreshold: 64)
        let initial = try #require(try h.clientInitial().first)
        var connections = 0
        var retries = 0
        var retryBytes = 0
        // The same Initial from 10,000 source ports: every one is a new handshake to the endpoint.
        for port in 0..<10_000 {
            let source = QUICAddress(host: "10.0.\(port / 250).\(port % 250 + 1)", port: UInt16(20_000 + port % 40_000))!
            let decision = initial.withUnsafeBytes { h.endpoint.route($0, from: source, halfOpen: connections, now: h.now) }
            switch decision {
            case .accept: connections += 1
            case .reply(let bytes):
                retries += 1
                retryBytes += bytes.count
                // Never more than 3x what the unvalidated address sent (RFC 9000 §8.1).
                #expect(bytes.count <= 3 * initial.count)
            case .deliver, .drop: break
            }
        }
        #expect(connections == 64)
        #expect(retries == 10_000 - 64)
        #expect(retryBytes < (10_000 - 64) * initial.count)
    }

    @Test func aClientThatAnswersTheRetryConnects() throws {
        // Every new client must prove its address first.
        let h = try QUICHarness(retryThreshold: 0)
        h.run(milliseconds: 500)
        #expect(h.retries >= 1)
        #expect(h.established)
    }

    @Test func anUnvalidatedAddressNeverGetsMoreThanThreeTimesItsBytes() throws {
        let h = try QUICHarness()
        let initial = try h.clientInitial()
        for datagram in initial { h.deliverToServer(datagram) }
        #expect(h.server != nil)
        // The client never answers (a spoofed source): the server retransmits on its timers.
        h.client = nil
        h.run(milliseconds: 30_000, dropToClient: true)
        let received = initial.reduce(0) { $0 + $1.count }
        #expect(h.bytesToClient > 0)
        #expect(h.bytesToClient <= 3 * received, "sent \(h.bytesToClient) bytes for \(received) received")
    }

    static func badTLS(_ adjust: (inout LibP2PCertificate.Profile) -> Void) throws -> LibP2PQUICTLS {
        let identity = Ed25519PrivateKey.generate()
        var profile = LibP2PCertificate.Profile(now: QUICHarness.wallClock())
        adjust(&profile)
        let certificate = try LibP2PCertificate(identity: identity, profile: profile)
        return LibP2PQUICTLS(credentials: try LibP2PTLSCredentials(certificate: certificate), wallClock: QUICHarness.wallClock)
    }

    @Test(arguments: ["no extension", "bad extension signature", "expired"])
    func aClientWithABadCertificateIsRefused(_ problem: String) throws {
        let tls = try Self.badTLS { profile in
            switch problem {
            case "no extension": profile.includeLibP2PExtension = false
            case "bad extension signature": profile.corruptIdentitySignature = true
            default:
                profile.notBefore = QUICHarness.wallClock() - 7_200
                profile.notAfter = QUICHarness.wallClock() - 3_600
            }
        }
        let h = try QUICHarness(clientTLS: tls)
        h.run(milliseconds: 2_000)
        #expect(!h.serverEvents.contains { if case .established = $0 { true } else { false } })
        #expect(h.server?.closedReason != nil)
        // The endpoint still serves a good client.
        let good = try QUICHarness(seed: 2)
        good.run(milliseconds: 200)
        #expect(good.established)
    }

    @Test func aServerWithAnotherPeerIDThanDialedIsRefused() throws {
        // The client expects the harness's server; this one presents another identity.
        let h = try QUICHarness()
        let impostor = try Self.badTLS { _ in }
        var random = SplitMix64(seed: 5)
        h.endpoint = QUICEndpoint(local: QUICHarness.serverAddress, tls: impostor, random: { random.bytes($0) })
        h.run(milliseconds: 2_000)
        #expect(!h.clientEvents.contains { if case .established = $0 { true } else { false } })
        let reason = try #require(h.client?.closedReason)
        #expect("\(reason)".contains("dialed"), "\(reason)")
    }
}

/// A client whose TLS offers only TLS 1.2: QUIC needs TLS 1.3, and we offer nothing else.
final class TLS12OnlyClient: QUICTLSProvider {
    let inner: LibP2PQUICTLS
    init(_ inner: LibP2PQUICTLS) { self.inner = inner }

    func configure(_ session: gnutls_session_t, server: Bool) throws(QUICError) {
        try inner.configure(session, server: server)
        var errorPosition: UnsafePointer<CChar>?
        guard gnutls_priority_set_direct(session, "NORMAL:-VERS-ALL:+VERS-TLS1.2", &errorPosition) == GNUTLS_E_SUCCESS else {
            throw .tls("cannot set the TLS 1.2 priority")
        }
    }

    func verifiedPeer(of session: gnutls_session_t, expected: PeerID?) throws(QUICError) -> PeerID {
        try inner.verifiedPeer(of: session, expected: expected)
    }
}

@Suite struct QUICTLSVersionTests {
    @Test func aClientOfferingOnlyTLS12IsRefusedAndTheEndpointServesOthers() throws {
        var rng = SplitMix64(seed: 21)
        let identity = try Ed25519PrivateKey(seed: rng.bytes(32))
        let server = try Ed25519PrivateKey(seed: rng.bytes(32))
        let serverTLS = try LibP2PQUICTLS(identity: server, wallClock: QUICHarness.wallClock)
        var endpointRandom = SplitMix64(seed: 1)
        var endpoint = QUICEndpoint(local: QUICHarness.serverAddress, tls: serverTLS, random: { endpointRandom.bytes($0) })
        let client: QUICConnection
        do {
            client = try QUICConnection(dialing: QUICHarness.serverAddress, from: QUICHarness.clientAddress, expectedPeer: nil,
                                        tls: TLS12OnlyClient(try LibP2PQUICTLS(identity: identity, wallClock: QUICHarness.wallClock)),
                                        now: 1_000_000_000, random: { rng.bytes($0) })
        } catch {
            // ngtcp2 may refuse to start a QUIC handshake without TLS 1.3 at all: refused as well.
            return
        }
        var initial: [[UInt8]] = []
        try? client.datagrams(now: 1_000_000_000) { initial.append(Array($0)) }
        var established = false
        for datagram in initial {
            let decision = datagram.withUnsafeBytes { endpoint.route($0, from: QUICHarness.clientAddress, halfOpen: 0, now: 1_000_000_000) }
            if case .accept(let connection) = decision {
                datagram.withUnsafeBytes { try? connection.receive($0, now: 1_000_000_000) }
                try? connection.datagrams(now: 1_000_000_000) { _ in }
                established = connection.takeEvents().contains { if case .established = $0 { true } else { false } }
                #expect(connection.closedReason != nil || !connection.handshakeCompleted)
                endpoint.register(connection, as: 1)
            }
        }
        #expect(!established)
        // A good client is still served.
        let good = try QUICHarness(seed: 4)
        good.run(milliseconds: 200)
        #expect(good.established)
    }
}
