import LibP2PTLS
import P2PCrypto
import QUIC
import TestSupport
import Wire
#if canImport(Glibc)
import Glibc
#endif

/// A QUIC client and a server endpoint in memory on a manual clock, without the connection
/// core: datagrams both ways with a 1 ms delay, every byte counted per direction.
final class QUICHarness {
    static let clientAddress = QUICAddress(host: "10.0.0.1", port: 40001)!
    static let serverAddress = QUICAddress(host: "10.0.0.2", port: 4001)!

    var now: UInt64 = 1_000_000_000
    var rng: SplitMix64
    let serverIdentity: Ed25519PrivateKey
    let clientIdentity: Ed25519PrivateKey
    let serverTLS: LibP2PQUICTLS
    var endpoint: QUICEndpoint
    var server: QUICConnection?
    var client: QUICConnection?
    var toServer: [[UInt8]] = []
    var toClient: [[UInt8]] = []
    var bytesToServer = 0
    var bytesToClient = 0
    var clientEvents: [QUICEvent] = []
    var serverEvents: [QUICEvent] = []
    var retries = 0

    static func wallClock() -> Int64 { Int64(time(nil)) }

    init(seed: UInt64 = 1, clientTLS: LibP2PQUICTLS? = nil, retryThreshold: Int = 64) throws {
        rng = SplitMix64(seed: seed)
        serverIdentity = try Ed25519PrivateKey(seed: rng.bytes(32))
        clientIdentity = try Ed25519PrivateKey(seed: rng.bytes(32))
        serverTLS = try LibP2PQUICTLS(identity: serverIdentity, wallClock: QUICHarness.wallClock)
        var endpointRandom = SplitMix64(seed: rng.next())
        endpoint = QUICEndpoint(local: QUICHarness.serverAddress, tls: serverTLS, random: { endpointRandom.bytes($0) })
        endpoint.retryThreshold = retryThreshold
        var dialRandom = SplitMix64(seed: rng.next())
        client = try QUICConnection(dialing: QUICHarness.serverAddress, from: QUICHarness.clientAddress,
                                    expectedPeer: PublicKey.ed25519(serverIdentity.publicKey).peerID,
                                    tls: try clientTLS ?? LibP2PQUICTLS(identity: clientIdentity, wallClock: QUICHarness.wallClock),
                                    now: now, random: { dialRandom.bytes($0) })
    }

    /// The client's first flight (its Initial), without delivering it.
    func clientInitial() throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        try client!.datagrams(now: now) { out.append(Array($0)) }
        return out
    }

    /// What the endpoint does with a datagram from the client's address; accepts become `server`.
    @discardableResult
    func deliverToServer(_ datagram: [UInt8], halfOpen: Int = 0) -> QUICEndpoint.Decision {
        bytesToServer += datagram.count
        let decision = datagram.withUnsafeBytes { endpoint.route($0, from: QUICHarness.clientAddress, halfOpen: halfOpen, now: now) }
        switch decision {
        case .accept(let connection):
            // As the node does: the Initial must decrypt before the connection is kept.
            datagram.withUnsafeBytes { try? connection.receive($0, now: now) }
            guard connection.receivedCryptoData else { return .drop("does not decrypt") }
            server = connection
            endpoint.register(connection, as: 1)
            serverEvents += connection.takeEvents()
        case .deliver:
            if let server { feed(server, datagram, events: &serverEvents) }
        case .reply(let bytes):
            retries += 1
            toClient.append(bytes)
        case .drop:
            break
        }
        return decision
    }

    private func feed(_ connection: QUICConnection, _ datagram: [UInt8], events: inout [QUICEvent]) {
        datagram.withUnsafeBytes { try? connection.receive($0, now: now) }
        events += connection.takeEvents()
    }

    /// Sends whatever both sides have to send now.
    func flush() {
        if let client { try? client.datagrams(now: now) { toServer.append(Array($0)) } }
        if let server { try? server.datagrams(now: now) { toClient.append(Array($0)) } }
    }

    /// Runs the exchange for `ms` of manual time (datagrams, then timers), `dropToClient`
    /// losing every datagram the server sends.
    func run(milliseconds ms: UInt64, dropToClient: Bool = false) {
        let end = now + ms * 1_000_000
        while now < end {
            flush()
            let outgoing = toServer
            toServer = []
            for d in outgoing { deliverToServer(d) }
            let incoming = toClient
            toClient = []
            for d in incoming {
                bytesToClient += d.count
                guard !dropToClient, let client else { continue }
                d.withUnsafeBytes { try? client.receive($0, now: now) }
                clientEvents += client.takeEvents()
            }
            flush()
            if toServer.isEmpty, toClient.isEmpty {
                let next = [client?.deadline, server?.deadline].compactMap { $0 }.min() ?? end
                now = max(now + 1_000_000, min(next, end))
                if let client, let due = client.deadline, due <= now { try? client.timerFired(now: now) }
                if let server, let due = server.deadline, due <= now { try? server.timerFired(now: now) }
            } else {
                now += 1_000_000
            }
        }
    }

    var established: Bool {
        clientEvents.contains { if case .established = $0 { true } else { false } }
            && serverEvents.contains { if case .established = $0 { true } else { false } }
    }
}
