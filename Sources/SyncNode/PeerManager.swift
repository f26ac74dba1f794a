import Swarm
import Gossipsub
import JSON
import P2PCrypto
import Reactor
import Wire
import Yamux

/// The swarm: the connection table, dialing, one connection per peer, reconnects with
/// back-off, handshake time-outs and periodic pings (DESIGN.md section 5).
final class PeerManager {
    /// DESIGN.md section 6.
    static let maxConnections = 256
    /// A connection that is not secured and muxed by then is closed (issue 3).
    static let handshakeTimeout: Duration = .seconds(10)
    /// go pings every 30 s, rust every 15 s; 15 s keeps RTT fresh in `peers`.
    static let pingInterval: Duration = .seconds(15)
    static let pingTimeout: Duration = .seconds(10)
    static let minimumBackoff: Duration = .seconds(1)
    static let maximumBackoff: Duration = .seconds(60)

    /// A peer address we keep connected to (`--peer`, `connect`).
    private struct DialTarget {
        var address: Multiaddr
        var attempts = 0
        var timer: TimerID?
        var lastError: String?
    }

    private let reactor: Reactor
    private let local: LocalPeer
    private let logger: Logger
    private var connections: [Int: PeerConnection] = [:]
    private var nextNumber = 1
    private var targets: [Multiaddr: DialTarget] = [:]
    private var pendingConnects: [Int: [(Result<PeerConnection, PeerError>) -> Void]] = [:]
    private var handshakeTimers: [Int: TimerID] = [:]
    private var pingTimer: TimerID?
    /// Why the last connection to a peer failed before it was identified (for `doctor`).
    private(set) var lastFailure: [PeerID: String] = [:]
    private var rng = SystemRandomNumberGenerator()
    /// Pubsub hooks, for the gossip service.
    var onPubsubReady: ((PeerConnection, PubsubProtocolID) -> Void)?
    var onPubsubRPC: ((PeerConnection, PubsubRPC) -> Void)?
    var onConnectionClosed: ((PeerConnection) -> Void)?
    /// Reconcile hooks, for the catch-up service.
    var onIdentified: ((PeerConnection) -> Void)?
    var onReconcileStream: ((PeerConnection, StreamID, Bool) -> Void)?
    var onReconcileFrame: ((PeerConnection, StreamID, [UInt8]) -> Void)?
    var onReconcileEnded: ((PeerConnection, StreamID, String?) -> Void)?
    /// Peers found on the LAN (mDNS): shown as PeerFound while not connected.
    var foundPeers: (() -> [PeerID: [Multiaddr]])?
    /// Extra fields for a connected peer's row in `peers`.
    var peerDetails: ((PeerID) -> [String: JSON])?

    init(reactor: Reactor, local: LocalPeer, logger: Logger) {
        self.reactor = reactor
        self.local = local
        self.logger = logger
        schedulePings()
    }

    var connectionCount: Int { connections.count }

    /// Connections that finished identify, one per peer.
    var connectedPeers: [PeerConnection] {
        connections.values.filter { $0.state == .connected }.sorted { $0.number < $1.number }
    }

    // MARK: - Dialing

    /// Dials `address` (`/ip4|ip6/HOST/tcp/PORT[/p2p/ID]`). With `keep`, the address is redialed
    /// with back-off whenever the connection is lost. `completion` runs once the peer is
    /// identified, or the dial failed.
    func dial(_ address: Multiaddr, keep: Bool, completion: ((Result<PeerConnection, PeerError>) -> Void)? = nil) {
        let endpoint: (host: String, port: UInt16)
        do { endpoint = try PeerManager.tcpEndpoint(of: address) } catch {
            completion?(.failure(error))
            return
        }
        if let peer = address.peerID {
            if peer == local.peerID {
                completion?(.failure(.dialSelf))
                return
            }
            if let existing = connections.values.first(where: { $0.remotePeer == peer && $0.state == .connected }) {
                completion?(.success(existing))
                return
            }
        }
        if keep, targets[address] == nil { targets[address] = DialTarget(address: address) }
        guard connections.count < PeerManager.maxConnections else {
            completion?(.failure(.tooManyConnections(PeerManager.maxConnections)))
            return
        }
        let stream: StreamConnection
        do {
            stream = try reactor.connectTCP(host: endpoint.host, port: endpoint.port)
        } catch {
            completion?(.failure(.dialFailed(address: address.description, reason: "\(error)")))
            scheduleRedial(address, error: "\(error)")
            return
        }
        let connection = adopt(stream, direction: .outbound, address: address.description, expectedPeer: address.peerID)
        if let completion { pendingConnects[connection.number, default: []].append(completion) }
        logger.debug("dialing \(address)")
    }

    /// Takes an inbound connection from the listener.
    func accept(_ stream: StreamConnection) {
        guard connections.count < PeerManager.maxConnections else {
            logger.warning("refusing inbound connection from \(stream.remoteAddress): \(PeerManager.maxConnections) connections open")
            stream.close()
            return
        }
        _ = adopt(stream, direction: .inbound, address: stream.remoteAddress, expectedPeer: nil)
    }

    private func adopt(_ stream: StreamConnection, direction: PeerConnection.Direction, address: String, expectedPeer: PeerID?) -> PeerConnection {
        let connection = PeerConnection(number: nextNumber, direction: direction, connection: stream, address: address,
                                        expectedPeer: expectedPeer, local: local, logger: logger, now: reactor.now)
        nextNumber += 1
        connections[connection.number] = connection
        connection.onUpgraded = { [unowned self] c in self.upgraded(c) }
        connection.onIdentified = { [unowned self] c in self.identified(c) }
        connection.onRTT = { [unowned self] c, rtt in self.logger.trace("ping \(c.label): \(rtt.milliseconds) ms") }
        connection.onClosed = { [unowned self] c, reason in self.closed(c, reason: reason) }
        connection.onPubsubReady = { [unowned self] c, p in self.onPubsubReady?(c, p) }
        connection.onPubsubRPC = { [unowned self] c, rpc in self.onPubsubRPC?(c, rpc) }
        connection.onReconcileStream = { [unowned self] c, id, initiator in self.onReconcileStream?(c, id, initiator) }
        connection.onReconcileFrame = { [unowned self] c, id, frame in self.onReconcileFrame?(c, id, frame) }
        connection.onReconcileEnded = { [unowned self] c, id, reason in self.onReconcileEnded?(c, id, reason) }
        handshakeTimers[connection.number] = reactor.schedule(after: PeerManager.handshakeTimeout) { [weak self, weak connection] in
            guard let self, let connection else { return }
            self.handshakeTimers[connection.number] = nil
            if connection.state != .connected {
                self.logger.info("connection \(connection.number) to \(connection.label) (\(connection.address)): handshake timed out in state \(connection.state.rawValue)")
                connection.close("handshake timed out after \(PeerManager.handshakeTimeout) in state \(connection.state.rawValue)")
            }
        }
        return connection
    }

    private func upgraded(_ connection: PeerConnection) {
        guard let peer = connection.remotePeer else { return }
        // One connection per peer. When both sides dialed at once, both must keep the same
        // one: the connection dialed by the peer with the smaller peer ID survives.
        let others = connections.values.filter { $0 !== connection && $0.remotePeer == peer }
        for other in others {
            let keepNew: Bool
            if other.direction == connection.direction {
                // The same side dialed again: it has given up on the older connection (a
                // quick reconnect whose close we have not seen yet), so the newer one wins.
                keepNew = true
            } else {
                let weDialedNew = connection.direction == .outbound
                let weAreSmaller = local.peerID < peer
                keepNew = weDialedNew == weAreSmaller
            }
            if keepNew {
                other.close("replaced by a newer connection to the same peer")
            } else {
                connection.close("duplicate connection to \(peer)")
                return
            }
        }
    }

    private func identified(_ connection: PeerConnection) {
        if let peer = connection.remotePeer { lastFailure[peer] = nil }
        if let timer = handshakeTimers.removeValue(forKey: connection.number) { reactor.cancel(timer) }
        let agent = connection.identified?.agentVersion ?? "unknown agent"
        logger.info("connected to \(connection.label) (\(agent)) via \(connection.address)")
        for (address, var target) in targets where target.address.peerID == connection.remotePeer || target.address.description == connection.address {
            target.attempts = 0
            target.lastError = nil
            targets[address] = target
        }
        for completion in pendingConnects.removeValue(forKey: connection.number) ?? [] { completion(.success(connection)) }
        connection.ping()
        onIdentified?(connection)
    }

    private func closed(_ connection: PeerConnection, reason: String) {
        connections[connection.number] = nil
        onConnectionClosed?(connection)
        if let peer = connection.expectedPeer ?? connection.remotePeer {
            if connection.state == .failed || connection.identified == nil { lastFailure[peer] = reason }
        }
        if let timer = handshakeTimers.removeValue(forKey: connection.number) { reactor.cancel(timer) }
        logger.info("connection \(connection.number) to \(connection.label) (\(connection.address)) closed: \(reason)")
        for completion in pendingConnects.removeValue(forKey: connection.number) ?? [] {
            completion(.failure(.dialFailed(address: connection.address, reason: reason)))
        }
        if connection.direction == .outbound, let address = targets.keys.first(where: { $0.description == connection.address }) {
            // Another connection to the same peer (a duplicate that lost) needs no redial.
            if let peer = connection.remotePeer, connections.values.contains(where: { $0.remotePeer == peer }) { return }
            scheduleRedial(address, error: reason)
        }
    }

    /// Exponential back-off with jitter, 1 s up to 60 s (DESIGN.md section 5).
    private func scheduleRedial(_ address: Multiaddr, error: String) {
        guard var target = targets[address] else { return }
        if let timer = target.timer { reactor.cancel(timer) }
        let base = min(PeerManager.maximumBackoff, PeerManager.minimumBackoff * (1 << min(target.attempts, 6)))
        let jitter = Double.random(in: 0.8...1.2, using: &rng)
        let delay = base * jitter
        target.attempts += 1
        target.lastError = error
        target.timer = reactor.schedule(after: delay) { [weak self] in
            guard let self, var t = self.targets[address] else { return }
            t.timer = nil
            self.targets[address] = t
            self.dial(address, keep: true)
        }
        targets[address] = target
        logger.debug("redialing \(address) in \(delay) (attempt \(target.attempts)): \(error)")
    }

    /// True when a connection to `peer` exists or is being set up (a dial names it).
    func isConnectedOrDialing(_ peer: PeerID) -> Bool {
        connections.values.contains { $0.remotePeer == peer || $0.expectedPeer == peer }
    }

    /// The identified connection to `peer`, if any.
    func connection(to peer: PeerID) -> PeerConnection? {
        connections.values.first { $0.remotePeer == peer && $0.state == .connected }
    }

    /// Closes every connection to `peer` and stops redialing it.
    func disconnect(_ peer: PeerID) -> Bool {
        for (address, target) in targets where target.address.peerID == peer {
            if let timer = target.timer { reactor.cancel(timer) }
            targets[address] = nil
        }
        let matching = connections.values.filter { $0.remotePeer == peer }
        for connection in matching { connection.close("disconnected by the user") }
        return !matching.isEmpty
    }

    func closeAll() {
        for connection in connections.values { connection.close("node stopping") }
        for target in targets.values { if let timer = target.timer { reactor.cancel(timer) } }
        if let pingTimer { reactor.cancel(pingTimer) }
    }

    /// Pings every connected peer; one that does not answer within `pingTimeout` is taken for
    /// gone (a cable pulled, a partition: TCP alone would take many minutes to say so) and its
    /// connection is closed, so the dialer redials and catch-up runs once it is back.
    private func schedulePings() {
        pingTimer = reactor.schedule(after: PeerManager.pingInterval) { [weak self] in
            guard let self else { return }
            for connection in self.connectedPeers {
                var answered = false
                let timer = self.reactor.schedule(after: PeerManager.pingTimeout) { [weak connection] in
                    guard !answered, let connection else { return }
                    self.logger.info("\(connection.label) did not answer a ping in \(PeerManager.pingTimeout); closing the connection")
                    connection.close("no answer to ping in \(PeerManager.pingTimeout)")
                }
                connection.ping { [weak self] _ in
                    answered = true
                    self?.reactor.cancel(timer)
                }
            }
            self.schedulePings()
        }
    }

    // MARK: - Views

    /// `peers`: every connection and every dial target without one.
    func peersJSON() -> JSON {
        var rows: [JSON] = []
        for c in connections.values.sorted(by: { $0.number < $1.number }) {
            var row: [String: JSON] = [
                "peer_id": c.remotePeer.map { .string($0.description) } ?? c.expectedPeer.map { .string($0.description) } ?? .null,
                "state": .string(c.syncing && c.state == .connected ? PeerState.syncing.rawValue : c.state.rawValue),
                "address": .string(c.address),
                "direction": .string(c.direction.rawValue),
            ]
            if let rtt = c.lastRTT { row["rtt_ms"] = .double(rtt.milliseconds) }
            if let peer = c.remotePeer, let details = peerDetails?(peer) { for (k, v) in details { row[k] = v } }
            if let id = c.identified {
                row["agent"] = id.agentVersion.map(JSON.string) ?? .null
                row["protocol_version"] = id.protocolVersion.map(JSON.string) ?? .null
                row["protocols"] = .array(id.protocols.map(JSON.string))
                row["listen_addrs"] = .array(id.listenAddrs.map { .string($0.description) })
            }
            rows.append(.object(row))
        }
        for target in targets.values where !connections.values.contains(where: { $0.address == target.address.description || ($0.remotePeer != nil && $0.remotePeer == target.address.peerID) }) {
            rows.append([
                "peer_id": target.address.peerID.map { .string($0.description) } ?? .null,
                "state": .string(target.lastError == nil ? PeerState.connecting.rawValue : PeerState.failed.rawValue),
                "address": .string(target.address.description),
                "direction": "outbound",
                "last_error": target.lastError.map(JSON.string) ?? .null,
                "retries": .int(target.attempts),
            ])
        }
        for (peer, addresses) in (foundPeers?() ?? [:]).sorted(by: { $0.key < $1.key }) where !isConnectedOrDialing(peer) {
            rows.append(["peer_id": .string(peer.description), "state": .string(PeerState.peerFound.rawValue),
                         "address": .string(addresses.first?.description ?? ""), "direction": "mdns",
                         "addresses": .array(addresses.map { .string($0.description) })])
        }
        return ["peers": .array(rows)]
    }

    static func tcpEndpoint(of address: Multiaddr) throws(PeerError) -> (host: String, port: UInt16) {
        var host: String?
        var port: UInt16?
        for component in address.components {
            switch component {
            case .ip4(let b): host = b.map(String.init).joined(separator: ".")
            case .ip6: host = Multiaddr(components: [component]).description.split(separator: "/").last.map(String.init)
            case .tcp(let p): port = p
            case .p2p: break
            default: throw .unsupportedAddress(address.description)
            }
        }
        guard let host, let port else { throw .unsupportedAddress(address.description) }
        return (host, port)
    }
}

/// Why a dial or a peer command failed.
enum PeerError: Error, CustomStringConvertible {
    case unsupportedAddress(String)
    case dialSelf
    case tooManyConnections(Int)
    case dialFailed(address: String, reason: String)

    var description: String {
        switch self {
        case .unsupportedAddress(let a): "cannot dial \(a): only /ip4/.../tcp/... and /ip6/.../tcp/... addresses (optionally with /p2p/<id>) are supported"
        case .dialSelf: "that address is this node's own peer ID"
        case .tooManyConnections(let n): "too many connections (\(n)); disconnect a peer first"
        case .dialFailed(let address, let reason): "cannot connect to \(address): \(reason)"
        }
    }
}
