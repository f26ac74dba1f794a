import P2PCrypto
import Reactor
import Swarm
import PrivateNetwork
import Wire

/// What the swarm tells the node: one event type, whatever the protocol.
enum SwarmEvent {
    /// The peer is identified: its connection is the one to use from now on.
    case connected(PeerConnection)
    case closed(PeerConnection, reason: String)
    /// A protocol handler's report; the node routes it by `event.key`.
    case handler(PeerConnection, HandlerEvent)
}

/// The swarm's policy: the connection table, dialing, one connection per peer (the
/// simultaneous-dial tie-break), reconnects with back-off (DESIGN.md section 5). The protocol
/// work is in each connection's machine; this class decides which connections exist.
final class PeerManager {
    /// DESIGN.md section 6.
    static let maxConnections = 256
    static let minimumBackoff: Duration = .seconds(1)
    static let maximumBackoff: Duration = .seconds(60)
    /// Two inbound connections from one peer secured within this time are a dialer's
    /// transport race, not a reconnect.
    static let raceWindow: Duration = .seconds(5)

    /// A peer address we keep connected to (`--peer`, `connect`).
    struct DialTarget {
        var address: Multiaddr
        var attempts = 0
        var timer: TimerID?
        var lastError: String?
    }

    let loop: NodeLoop
    private let dialer: StreamDialer
    let local: LocalIdentity
    let registry: ProtocolRegistry
    let logger: Logger
    private let random: NodeRandom
    private(set) var connections: [Int: PeerConnection] = [:]
    private var nextNumber = 1
    private(set) var targets: [Multiaddr: DialTarget] = [:]
    private var pendingConnects: [Int: [(Result<PeerConnection, PeerError>) -> Void]] = [:]
    /// Why the last connection to a peer failed before it was identified (for `doctor`).
    private(set) var lastFailure: [PeerID: String] = [:]
    var onEvent: ((SwarmEvent) -> Void)?
    /// The QUIC transport, when QUIC is on (the real node; the simulation runs TCP-like links).
    var quic: QUICTransport?
    /// False with `--no-tcp`: TCP addresses are not dialed.
    var tcpEnabled = true
    /// Our listen addresses (identify tells peers); new connections get them.
    var listenAddresses: [Multiaddr] = []

    /// Fresh X25519 keys for each handshake (libsodium's; the simulation derives them from its seed).
    private let makeEphemeral: () -> X25519KeyPair
    /// A private network's layer for each new TCP connection (the swarm key and a fresh
    /// nonce), or nil for an open node.
    var makePrivateNetworkLayer: (() -> PrivateNetworkLayer)?
    /// A private group's members, for each new connection (nil: open node, everyone admitted).
    var admission: (() -> PeerAdmission?)?
    /// A connection was closed because its peer is not admitted.
    var onPeerRefused: ((PeerID, String, PeerConnection) -> Void)?

    /// Connections the private network layer refused (another swarm key, or none), for
    /// `doctor` and `status`: how many, and the last one.
    struct PrivateNetworkRefusals {
        var count = 0
        var last: (address: Multiaddr, error: PrivateNetworkError, at: Instant)?
        /// When each host's refusal was last logged (one line per host per minute).
        var logged: [String: Instant] = [:]
    }
    private(set) var privateNetworkRefusals = PrivateNetworkRefusals()

    init(loop: NodeLoop, dialer: StreamDialer, local: LocalIdentity, registry: ProtocolRegistry, random: NodeRandom, logger: Logger,
         makeEphemeral: @escaping () -> X25519KeyPair = { .generate() }) {
        self.makeEphemeral = makeEphemeral
        self.loop = loop
        self.dialer = dialer
        self.local = local
        self.registry = registry
        self.random = random
        self.logger = logger
    }

    var connectionCount: Int { connections.count }
    /// Every connection, oldest first.
    var allConnections: [PeerConnection] { connections.values.sorted { $0.number < $1.number } }
    /// Connections that finished identify, one per peer.
    var connectedPeers: [PeerConnection] { allConnections.filter { $0.state == .connected } }

    // MARK: - Dialing

    /// Dials `address` (`/ip4|ip6/HOST/tcp/PORT[/p2p/ID]`). With `keep`, the address is redialed
    /// with back-off whenever the connection is lost. `completion` runs once the peer is
    /// identified, or the dial failed.
    func dial(_ address: Multiaddr, keep: Bool, completion: ((Result<PeerConnection, PeerError>) -> Void)? = nil) {
        dial(address, keep: keep, race: nil, completion: completion)
    }

    /// `race`: this dial is one leg of a QUIC/TCP race (`dial(_:at:)`): it does not wait for
    /// the other leg's connection, and the first leg secured closes the other.
    func dial(_ address: Multiaddr, keep: Bool, race: DialRace?, completion: ((Result<PeerConnection, PeerError>) -> Void)?) {
        let endpoint: (host: String, port: UInt16)
        let overQUIC = TCPAddress.isQUIC(address)
        do { endpoint = overQUIC ? try TCPAddress.quicEndpoint(of: address) : try TCPAddress.endpoint(of: address) } catch {
            completion?(.failure(error))
            return
        }
        if let peer = address.peerID {
            if peer == local.peerID { return completion?(.failure(.dialSelf)) ?? () }
            if let existing = connection(to: peer) { return completion?(.success(existing)) ?? () }
            // A dial to this peer is already under way (the DHT and a user's `connect` may ask
            // at once): wait for it rather than race it into a duplicate that one side closes.
            if race == nil, let dialing = connections.values.first(where: { $0.direction == .outbound && $0.expectedPeer == peer && ![.connected, .disconnected, .failed].contains($0.state) }) {
                if keep, targets[address] == nil { targets[address] = DialTarget(address: address) }
                // If the dial joined here fails (it may be another transport's, to another
                // address: a DHT dial over QUIC that a blackholed route holds until its handshake
                // time-out), a kept address is redialed like after its own failure: nothing
                // else would redial it.
                pendingConnects[dialing.number, default: []].append { [weak self] result in
                    if keep, case .failure(let error) = result { self?.scheduleRedial(address, error: "\(error)") }
                    completion?(result)
                }
                return
            }
        }
        if keep, targets[address] == nil { targets[address] = DialTarget(address: address) }
        guard connections.count < PeerManager.maxConnections else {
            completion?(.failure(.tooManyConnections(PeerManager.maxConnections)))
            return
        }
        let connection: PeerConnection
        do {
            if overQUIC {
                guard let quic else { throw PeerError.dialFailed(address: address.description, reason: "QUIC is off (--no-quic)") }
                let link = try quic.dial(host: endpoint.host, port: endpoint.port, expectedPeer: address.peerID)
                connection = adopt(link, direction: .outbound, address: address, expectedPeer: address.peerID)
                connection.begin()
            } else {
                guard tcpEnabled else { throw PeerError.dialFailed(address: address.description, reason: "TCP is off (--no-tcp)") }
                let socket = try dialer.dial(host: endpoint.host, port: endpoint.port)
                connection = adopt(socket, direction: .outbound, address: address, expectedPeer: address.peerID)
            }
        } catch {
            completion?(.failure(.dialFailed(address: address.description, reason: "\(error)")))
            scheduleRedial(address, error: "\(error)")
            return
        }
        if let completion { pendingConnects[connection.number, default: []].append(completion) }
        if let race {
            race.members.append(connection.number)
            races[connection.number] = race
        }
        logger.debug("dialing \(address)")
    }

    /// Takes an inbound connection from the listener.
    func accept(_ socket: any ByteChannel) {
        guard connections.count < PeerManager.maxConnections else {
            logger.warning("refusing inbound connection from \(socket.remoteAddress): \(PeerManager.maxConnections) connections open")
            socket.close()
            return
        }
        let address = TCPAddress.multiaddr(socketText: socket.remoteAddress) ?? Multiaddr(components: [])
        adopt(socket, direction: .inbound, address: address, expectedPeer: nil).begin()
    }

    /// Takes an inbound QUIC connection (a client Initial the QUIC transport accepted).
    func accept(_ link: QUICLink) {
        let address = TCPAddress.multiaddr(socketText: link.remote.text, quic: true) ?? Multiaddr(components: [])
        guard connections.count < PeerManager.maxConnections else {
            logger.warning("refusing inbound QUIC connection from \(address): \(PeerManager.maxConnections) connections open")
            return
        }
        adopt(link, direction: .inbound, address: address, expectedPeer: nil).begin()
    }

    @discardableResult
    private func adopt(_ link: QUICLink, direction: PeerConnection.Direction, address: Multiaddr,
                       expectedPeer: PeerID?) -> PeerConnection {
        var machine = Connection(quic: link.quic, role: direction == .outbound ? .dialer : .listener, local: local,
                                 registry: registry, remoteAddress: address.withoutPeerID,
                                 listenAddresses: listenAddresses.map(\.withoutPeerID), seed: random.next(),
                                 now: loop.now.nanoseconds)
        machine.admission = admission?()
        let connection = PeerConnection(number: nextNumber, direction: direction, link: link, address: address,
                                        expectedPeer: expectedPeer, machine: machine, loop: loop)
        link.connection = connection
        return register(connection)
    }

    @discardableResult
    private func adopt(_ socket: any ByteChannel, direction: PeerConnection.Direction, address: Multiaddr,
                       expectedPeer: PeerID?) -> PeerConnection {
        var machine = Connection(role: direction == .outbound ? .dialer : .listener, local: local, registry: registry,
                                 ephemeral: makeEphemeral(), expectedPeer: expectedPeer, remoteAddress: address.withoutPeerID,
                                 listenAddresses: listenAddresses.map(\.withoutPeerID), seed: random.next(),
                                 now: loop.now.nanoseconds, privateNetwork: makePrivateNetworkLayer?())
        machine.admission = admission?()
        return register(PeerConnection(number: nextNumber, direction: direction, socket: socket, address: address,
                                       expectedPeer: expectedPeer, machine: machine, loop: loop))
    }

    private func register(_ connection: PeerConnection) -> PeerConnection {
        nextNumber += 1
        connections[connection.number] = connection
        connection.onEvent = { [unowned self] c, event in self.received(event, from: c) }
        connection.onClosed = { [unowned self] c, reason in self.closed(c, reason: reason) }
        return connection
    }

    private func received(_ event: ConnectionEvent, from connection: PeerConnection) {
        // A connection closed while its earlier events were still being handed out (the
        // duplicate of a simultaneous dial, closed on `.secured`): what it said after that is
        // stale and must not reach the services (its pubsub stream would replace the survivor's).
        guard connections[connection.number] === connection else { return }
        switch event {
        case .secured(let peer):
            logger.debug("connection \(connection.number): secured with \(peer) (\(connection.address))")
            connection.securedAt = loop.now
            guard settleRace(won: connection) else { return }
            keepOneConnection(to: peer, preferring: connection)
        case .identified:
            if connection.state == .connected { identifiedOnce(connection) }
        case .roundTrip(let ns):
            logger.trace("ping \(connection.label): \(Double(ns) / 1e6) ms")
        case .notice(let text):
            logger.debug("connection \(connection.number) (\(connection.label)): \(text)")
        case .privateNetworkRefused(let error):
            notePrivateNetworkRefusal(error, on: connection)
        case .peerRefused(let peer, let why):
            onPeerRefused?(peer, why, connection)
        case .stateChanged:
            break
        case .handler(let e):
            onEvent?(.handler(connection, e))
        }
    }

    private func notePrivateNetworkRefusal(_ error: PrivateNetworkError, on connection: PeerConnection) {
        privateNetworkRefusals.count += 1
        privateNetworkRefusals.last = (connection.address, error, loop.now)
        // One line per host per minute: a peer with the wrong key redials, mDNS finds it again.
        let host = connection.address.components.first.flatMap(TCPAddress.hostText) ?? connection.address.description
        if let at = privateNetworkRefusals.logged[host], loop.now < at + .seconds(60) { return }
        privateNetworkRefusals.logged[host] = loop.now
        let direction = connection.direction == .inbound ? "from" : "to"
        logger.warning("refused the connection \(direction) \(connection.address): \(error)")
    }

    /// One connection per peer. When both sides dialed at once, both must keep the same one:
    /// the connection dialed by the peer with the smaller peer ID survives.
    private func keepOneConnection(to peer: PeerID, preferring connection: PeerConnection) {
        for other in connections.values where other !== connection && other.remotePeer == peer {
            let keepNew: Bool
            if other.direction == connection.direction {
                // Two inbound connections secured within moments: the peer is racing QUIC
                // against TCP (DialRace) and closes the loser itself; closing one here could
                // close its winner.
                if connection.direction == .inbound, let securedAt = other.securedAt,
                   loop.now.duration(since: securedAt) < PeerManager.raceWindow {
                    continue
                }
                // The same side dialed again: it has given up on the older connection (a quick
                // reconnect whose close we have not seen yet), so the newer one wins.
                keepNew = true
            } else {
                keepNew = (connection.direction == .outbound) == (local.peerID < peer)
            }
            // Whoever waits for the connection that goes waits for the one that stays.
            if keepNew {
                movePendingConnects(from: other, to: connection)
                other.close("replaced by a newer connection to the same peer")
            } else {
                movePendingConnects(from: connection, to: other)
                connection.close("duplicate connection to \(peer)")
                return
            }
        }
    }

    func movePendingConnects(from closing: PeerConnection, to survivor: PeerConnection) {
        guard let waiting = pendingConnects.removeValue(forKey: closing.number) else { return }
        if survivor.state == .connected {
            for completion in waiting { completion(.success(survivor)) }
        } else {
            pendingConnects[survivor.number, default: []] += waiting
        }
    }

    private var announced: Set<Int> = []
    /// Connections that are legs of a QUIC/TCP race, by connection number.
    var races: [Int: DialRace] = [:]

    /// The first identify of a connection (pushes later only update its record).
    private func identifiedOnce(_ connection: PeerConnection) {
        guard announced.insert(connection.number).inserted else { return }
        if let peer = connection.remotePeer { lastFailure[peer] = nil }
        let agent = connection.machine.identified?.agentVersion ?? "unknown agent"
        logger.info("connected to \(connection.label) (\(agent)) via \(connection.address)")
        for (address, var target) in targets where target.address.peerID == connection.remotePeer || target.address == connection.address {
            target.attempts = 0
            target.lastError = nil
            targets[address] = target
        }
        for completion in pendingConnects.removeValue(forKey: connection.number) ?? [] { completion(.success(connection)) }
        // A peer reached again says the network is back (a healed partition, a link up): the
        // kept addresses waiting out a long back-off are tried within a second, not after it.
        for (address, var target) in targets where target.attempts > 2 && target.timer != nil {
            guard let peer = address.peerID, self.connection(to: peer) == nil, !isConnectedOrDialing(peer) else { continue }
            loop.cancel(target.timer!)
            target.timer = loop.after(.milliseconds(Int64(random.double(in: 100...1000)))) { [weak self] in
                guard let self, var t = self.targets[address] else { return }
                t.timer = nil
                self.targets[address] = t
                self.dial(address, keep: true)
            }
            targets[address] = target
        }
        onEvent?(.connected(connection))
    }

    private func closed(_ connection: PeerConnection, reason: String) {
        connections[connection.number] = nil
        races[connection.number] = nil
        let wasAnnounced = announced.remove(connection.number) != nil
        if let peer = connection.expectedPeer ?? connection.remotePeer, !wasAnnounced { lastFailure[peer] = reason }
        // An inbound connection that never proved who it is (a half-open handshake, a forged
        // QUIC Initial) is noise to a user: debug only.
        if connection.direction == .inbound && connection.remotePeer == nil {
            logger.debug("connection \(connection.number) to \(connection.label) (\(connection.address)) closed: \(reason)")
        } else {
            logger.info("connection \(connection.number) to \(connection.label) (\(connection.address)) closed: \(reason)")
        }
        for completion in pendingConnects.removeValue(forKey: connection.number) ?? [] {
            completion(.failure(.dialFailed(address: connection.address.description, reason: reason)))
        }
        onEvent?(.closed(connection, reason: reason))
        if connection.direction == .outbound, targets[connection.address] != nil {
            // Another connection to the same peer (a duplicate that lost) needs no redial.
            if let peer = connection.remotePeer, connections.values.contains(where: { $0.remotePeer == peer }) { return }
            scheduleRedial(connection.address, error: reason)
        }
        // The connection to a kept peer may have come another way (a QUIC dial from the DHT won
        // the race, an inbound one): its close must still redial the peer's kept addresses, or
        // nobody does (PartitionTests in CI: the 1-2 link stayed down after healing).
        if let peer = connection.remotePeer, !isConnectedOrDialing(peer) {
            for (address, target) in targets where address != connection.address && address.peerID == peer && target.timer == nil {
                scheduleRedial(address, error: reason)
            }
        }
    }

    /// Exponential back-off with jitter, 1 s up to 60 s (DESIGN.md section 5).
    private func scheduleRedial(_ address: Multiaddr, error: String) {
        guard var target = targets[address] else { return }
        if let timer = target.timer { loop.cancel(timer) }
        let base = min(PeerManager.maximumBackoff, PeerManager.minimumBackoff * (1 << min(target.attempts, 6)))
        let delay = base * random.double(in: 0.8...1.2)
        target.attempts += 1
        target.lastError = error
        target.timer = loop.after( delay) { [weak self] in
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
            if let timer = target.timer { loop.cancel(timer) }
            targets[address] = nil
        }
        let matching = connections.values.filter { $0.remotePeer == peer }
        for connection in matching { connection.close("disconnected by the user") }
        return !matching.isEmpty
    }

    func closeAll() {
        for connection in allConnections { connection.close("node stopping") }
        for target in targets.values { if let timer = target.timer { loop.cancel(timer) } }
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
        case .unsupportedAddress(let a): "cannot dial \(a): only /ip4|ip6/HOST/tcp/PORT and /ip4|ip6/HOST/udp/PORT/quic-v1 addresses (optionally with /p2p/<id>) are supported"
        case .dialSelf: "that address is this node's own peer ID"
        case .tooManyConnections(let n): "too many connections (\(n)); disconnect a peer first"
        case .dialFailed(let address, let reason): "cannot connect to \(address): \(reason)"
        }
    }
}
