#if canImport(Glibc)
import Glibc
#endif
import Swarm
import PrivateNetwork
import ControlProtocol
import Group
import JSON
import P2PCrypto
import Reactor
import Reconcile
import SyncStore
import Wire

/// The node's connection state as the seed's state machine names it (DESIGN.md section 5).
public enum NodeState: String, Sendable {
    case starting = "Starting"
    case listening = "Listening"
    case discovering = "Discovering"
    case stopping = "Stopping"
}

/// One p2p-sync node: owns the Reactor and glues the listeners, the control socket and the
/// replica together. Everything runs on the Reactor's thread.
public final class Node {
    public let configuration: NodeConfiguration
    /// The private network's key and where it was read, or nil for an open node.
    let swarmKey: (key: SwarmKey, path: String)?
    public let peerID: PeerID
    public private(set) var state: NodeState = .starting
    public private(set) var listenAddresses: [Multiaddr] = []

    let reactor: Reactor
    private let sink: LogSink
    let logger: Logger
    private let identity: Ed25519PrivateKey
    private let lock: DirectoryLock
    let core: NodeCore
    /// The private group (issue 14); in open mode it holds no group and changes nothing.
    let group: GroupService
    var engine: SyncEngine { core.engine }
    let control: ControlServer
    var peers: PeerManager { core.peers }
    var gossip: GossipService { core.gossip }
    var reconcile: ReconcileService { core.reconcile }
    private var mdns: MDNSService?
    private let book: PeerBook
    private var bookSaveTimer: TimerID?
    /// The DHT routing table's peers (dht-peers.json), dialed at start so a restarted node
    /// rejoins the DHT without `--bootstrap`.
    private let dhtBook: PeerBook
    private var dhtBookSaveTimer: TimerID?
    var mdnsService: MDNSService? { mdns }
    var gossipService: GossipService { gossip }
    var reconcileService: ReconcileService { reconcile }
    private var tcpListener: StreamListener?
    /// The QUIC v1 transport's sockets and connection routing (nil with `--no-quic`).
    private var quic: QUICTransport?
    var quicTransport: QUICTransport? { quic }
    let startedAt: Instant
    private var stopRequested = false

    /// Prepares everything that can fail before the node is announced: directory, lock,
    /// identity, store, sockets. Each failure is one `ConfigurationError` with a clear message.
    public init(configuration given: NodeConfiguration, sink: LogSink) throws(ConfigurationError) {
        var configuration = given
        self.sink = sink
        logger = sink.logger("node")
        Sodium.initialize()

        let dir = configuration.dataDirectory
        try dir.create()
        lock = try dir.lock()

        let (key, created) = try IdentityFile.loadOrCreate(path: dir.identityPath)
        identity = key
        peerID = key.publicKey.peerID
        if created { logger.info("created a new identity in \(dir.identityPath)") }

        swarmKey = try Node.loadSwarmKey(configuration)
        if let swarmKey {
            guard configuration.tcp else { throw .privateNetworkNeedsTCP }
            // pnet is defined for stream transports only; go refuses QUIC with it too.
            if configuration.quic { configuration.quic = false }
            logger.info("private network: swarm key \(swarmKey.key.identifier) from \(swarmKey.path); QUIC is off (pnet covers TCP only)")
        }
        self.configuration = configuration

        let store: Store
        let engine: SyncEngine
        do {
            store = try Store(path: dir.storePath)
            engine = try SyncEngine(store: store, localOrigin: peerID.bytes, logger: sink.logger("store"),
                                    wallMillis: WallClock.nowMillis, maxClockSkewMillis: configuration.maxClockSkewMillis)
        } catch {
            throw .storeFailed("\(error)")
        }

        let audit = AuditLog(path: dir.auditPath, headPath: dir.auditHeadPath, logger: sink.logger("audit"))
        group = try GroupService(path: dir.groupPath, identity: key, engine: engine, audit: audit, logger: sink.logger("group"))
        var joining: GroupInvite?
        if let text = configuration.joinInvite {
            do { joining = try GroupInvite(text) } catch { throw .badInvite("\(error)") }
            if let error = group.join(joining!) { throw .badInvite("\(error)") }
        }
        Node.auditNetworkKey(swarmKey?.key.identifier, group: group)

        do {
            reactor = try Reactor()
        } catch {
            throw .listenFailed(address: "event loop", reason: "\(error)")
        }
        startedAt = reactor.now
        control = ControlServer(reactor: reactor, path: configuration.controlPath, logger: sink.logger("control"))
        core = NodeCore(identity: key, engine: engine, topic: configuration.topic, loop: reactor, dialer: reactor,
                        random: NodeRandom(), sink: sink,
                        dht: NodeCore.DHTSettings(enabled: configuration.dhtMode != .off, serving: Node.dhtServes(configuration),
                                                  protocolID: configuration.dhtProtocol))
        dhtBook = PeerBook(path: dir.dhtPeersPath)
        book = PeerBook(path: dir.peersPath)
        if let error = book.loadError { logger.warning("ignoring \(dir.peersPath): \(error)") }

        peers.tcpEnabled = configuration.tcp
        if let swarmKey {
            // Each connection's nonce is fresh from the secure generator: one reused with the
            // key would let an observer XOR two connections' bytes.
            peers.makePrivateNetworkLayer = { PrivateNetworkLayer(key: swarmKey.key, nonce: SecureRandom.bytes(XSalsa20Stream.nonceCount)) }
        }
        try listen()
        peers.listenAddresses = listenAddresses
        startGroup()
        if let joining {
            for address in joining.addresses { peers.dial(address.peerID == nil ? address.appending(.p2p(joining.admin)) : address, keep: true) }
        }
        core.onConnected = { [unowned self] connection in self.remember(connection) }
        core.onRequestEvent = { [unowned self] _, event in self.answered(event) }
        for address in configuration.peers { peers.dial(address, keep: true) }
        // Peers from earlier runs (peers.json), most recent first, each address in turn.
        let given = Set(configuration.peers.compactMap(\.peerID))
        for entry in book.recent(32) where !given.contains(entry.peer) && entry.peer != peerID {
            dialKnown(entry.peer, entry.record.addresses)
        }
        core.dht.onTableChanged = { [unowned self] in self.saveDHTPeersSoon() }
        let saved = dhtBook.recent(DHTService.k).compactMap { entry in
            entry.record.addresses.first.map { $0.appending(.p2p(entry.peer)) }
        }
        core.dht.start(bootstrap: configuration.bootstrap + saved.filter { s in !configuration.bootstrap.contains { $0.peerID == s.peerID } })
        if configuration.mdns {
            let mdns = MDNSService(reactor: reactor, peerID: peerID, addresses: listenAddresses, logger: sink.logger("mdns"))
            mdns.onDiscovered = { [unowned self] peer, addresses in self.discovered(peer, addresses) }
            self.mdns = mdns
        }
        try control.start()
        control.dispatch = { [unowned self] request, session in self.handle(request, from: session) }
        engine.onChange = { [unowned self] entry, source in self.notifyWatchers(entry, source: source) }
        // A fresh reading each time (the reactor's `now` is the turn's start).
        engine.monotonicNanos = { Instant.now().nanoseconds }
        reactor.addBeforeSleep { [unowned self] in self.engine.commitStaged() }
        do {
            try reactor.handleSignals([SIGINT, SIGTERM]) { [unowned self] signal in
                self.logger.info("received \(signal == SIGINT ? "SIGINT" : "SIGTERM"); shutting down")
                self.requestStop()
            }
        } catch {
            throw .listenFailed(address: "signals", reason: "\(error)")
        }
        state = .listening
        if let mdns {
            mdns.start()
            state = .discovering
        }
    }

    /// A ping or perf answer for a control request.
    private func answered(_ event: HandlerEvent) {
        switch event.payload {
        case let p as PingHandler.Event: pingWaiters.removeValue(forKey: p.token)?(p.outcome)
        case let p as PerfHandler.Event: perfWaiters.removeValue(forKey: p.token)?(p.outcome)
        default: logger.debug("unrouted event from \(event.key)")
        }
    }

    private func dialKnown(_ peer: PeerID, _ addresses: [Multiaddr]) {
        guard !addresses.isEmpty, !peers.isConnectedOrDialing(peer) else { return }
        peers.dial(peer, at: addresses)
    }

    /// Records an identified peer's addresses in peers.json (saved a second later, in one write).
    private func remember(_ connection: PeerConnection) {
        guard let peer = connection.remotePeer else { return }
        var addresses: [Multiaddr] = []
        if connection.direction == .outbound { addresses.append(connection.address.withoutPeerID) }
        addresses += connection.machine.identified?.listenAddrs ?? []
        book.saw(peer, addresses: addresses, nowMillis: WallClock.nowMillis())
        guard bookSaveTimer == nil else { return }
        bookSaveTimer = reactor.schedule(after: .seconds(1)) { [weak self] in
            guard let self else { return }
            self.bookSaveTimer = nil
            if let error = self.book.save() { self.logger.warning("cannot write \(self.book.path): \(error)") }
        }
    }

    /// `--dht-mode auto` serves when others can reach us: a listen address that is not loopback.
    static func dhtServes(_ configuration: NodeConfiguration) -> Bool {
        switch configuration.dhtMode {
        case .server: return true
        case .client, .off: return false
        case .auto:
            let hosts = configuration.listenHost == "0.0.0.0" ? InterfaceAddresses.ipv4() : [configuration.listenHost]
            return hosts.contains { !$0.hasPrefix("127.") }
        }
    }

    /// Saves the routing table's peers a second after it changes, in one write.
    private func saveDHTPeersSoon() {
        guard dhtBookSaveTimer == nil else { return }
        dhtBookSaveTimer = reactor.schedule(after: .seconds(1)) { [weak self] in
            guard let self else { return }
            self.dhtBookSaveTimer = nil
            self.saveDHTPeers()
        }
    }

    private func saveDHTPeers() {
        let nowMillis = WallClock.nowMillis()
        dhtBook.replace(with: core.dht.table.entries.map { ($0.peer, $0.addresses) }, nowMillis: nowMillis)
        if let error = dhtBook.save() { logger.warning("cannot write \(dhtBook.path): \(error)") }
    }

    /// A peer found on the LAN is dialed at once, unless we are connected or dialing already.
    private func discovered(_ peer: PeerID, _ addresses: [Multiaddr]) {
        guard peer != peerID, !peers.isConnectedOrDialing(peer) else { return }
        // In a group, only members are worth a handshake (the others would be refused).
        if let admission = group.admission(), admission.refusal(of: peer) != nil { return }
        // Prefer addresses on one of our subnets; QUIC first, TCP 250 ms later (DialRace).
        let local = InterfaceAddresses.interfaces().filter { $0.up && !$0.loopback }
        let onOurSubnets = addresses.filter { address in
            address.components.contains { component in
                if case .ip4 = component, let host = TCPAddress.hostText(component) { return local.contains { $0.contains(host) } }
                return false
            }
        }
        peers.dial(peer, at: onOurSubnets.isEmpty ? addresses : onOurSubnets)
    }

    private func listen() throws(ConfigurationError) {
        let host = configuration.listenHost
        guard configuration.tcp else {
            if configuration.quic { try listenQUIC(host: host, tcpPort: configuration.port) }
            return
        }
        let shown = "/ip4/\(host)/tcp/\(configuration.port)"
        do {
            let listener = try reactor.listenTCP(host: host, port: configuration.port)
            listener.inputCapacity = PeerConnection.inputCapacity
            listener.onAccept = { [unowned self] connection in self.peers.accept(connection) }
            tcpListener = listener
            let hosts = host == "0.0.0.0" ? InterfaceAddresses.ipv4() : [host]
            listenAddresses = hosts.compactMap { h in
                try? Multiaddr("/ip4/\(h)/tcp/\(listener.localPort)/p2p/\(peerID)")
            }
        } catch ReactorError.addressInUse {
            throw .portInUse(address: shown)
        } catch {
            throw .listenFailed(address: shown, reason: "\(error)")
        }
        if configuration.quic, let tcp = tcpListener { try listenQUIC(host: host, tcpPort: tcp.localPort) }
    }

    /// QUIC v1 on UDP, by default on the TCP port's number (`--quic-port` picks another; with
    /// `--port 0` the same number is tried first, then any free one).
    private func listenQUIC(host: String, tcpPort: UInt16) throws(ConfigurationError) {
        let wanted = configuration.quicPort ?? tcpPort
        let shown = "/ip4/\(host)/udp/\(wanted)/quic-v1"
        let transport: QUICTransport
        do { transport = try QUICTransport(reactor: reactor, identity: identity, logger: sink.logger("quic")) } catch {
            throw .listenFailed(address: shown, reason: "\(error)")
        }
        let port: UInt16
        do {
            do {
                port = try transport.listen(host: host, port: wanted)
            } catch ReactorError.addressInUse where configuration.quicPort == nil && configuration.port == 0 {
                port = try transport.listen(host: host, port: 0)
            }
        } catch ReactorError.addressInUse {
            throw .portInUse(address: shown)
        } catch {
            throw .listenFailed(address: shown, reason: "\(error)")
        }
        transport.onAccept = { [unowned self] link in self.peers.accept(link) }
        peers.quic = transport
        quic = transport
        let hosts = host == "0.0.0.0" ? InterfaceAddresses.ipv4() : [host]
        listenAddresses += hosts.compactMap { h in try? Multiaddr("/ip4/\(h)/udp/\(port)/quic-v1/p2p/\(peerID)") }
        // IPv6 beside it on the same port (IPV6_V6ONLY, so the two sockets share the number):
        // dials to /ip6 addresses leave from it. A host without IPv6 keeps QUIC on IPv4.
        guard host == "0.0.0.0" else { return }
        do {
            _ = try transport.listen(host: "::", port: port)
            let v6 = ["::1"] + InterfaceAddresses.ipv6()
            listenAddresses += v6.compactMap { h in try? Multiaddr("/ip6/\(h)/udp/\(port)/quic-v1/p2p/\(peerID)") }
        } catch {
            logger.info("QUIC over IPv6 is off: cannot listen on [::]:\(port): \(error)")
        }
    }

    /// Records in the audit log when the network key differs from the one last recorded
    /// (a node in a group, or one with a swarm key).
    static func auditNetworkKey(_ identifier: String?, group: GroupService) {
        guard identifier != nil || group.group != nil else { return }
        let current = identifier ?? "none"
        let last = group.audit.lines().reversed().lazy.compactMap { line -> String? in
            guard let json = try? JSONParser.parse(line), json["event"]?.stringValue == "network-key" else { return nil }
            return json["key_id"]?.stringValue
        }.first
        guard last != current else { return }
        var fields: [String: JSON] = ["key_id": .string(current)]
        if let last { fields["previous_key_id"] = .string(last) }
        group.audit.record("network-key", fields)
    }

    /// The lines printed at start (DESIGN.md section 1): peer ID, listen multiaddrs, control socket.
    public var startupLines: [String] {
        var lines = ["p2p-syncd \(ProductVersion.number)", "peer id: \(peerID)"]
        lines += listenAddresses.map { "listening on \($0)" }
        lines.append("control socket: \(configuration.controlPath)")
        if let swarmKey { lines.append("private network: swarm key \(swarmKey.key.identifier) (\(swarmKey.path)); TCP only") }
        return lines
    }

    /// Runs until SIGINT/SIGTERM or `requestStop`, then shuts down in order: pending writes
    /// committed, control clients closed, sockets removed.
    public func run() throws(ReactorError) {
        try reactor.run()
        shutDown()
    }

    public func requestStop() {
        guard !stopRequested else { return }
        stopRequested = true
        state = .stopping
        engine.commitStaged()
        reactor.stop()
    }

    private func shutDown() {
        engine.commitStaged()
        mdns?.stop()
        if bookSaveTimer != nil, let error = book.save() { logger.warning("cannot write \(book.path): \(error)") }
        if core.dht.table.count > 0 { saveDHTPeers() }
        core.stop()
        control.stop()
        tcpListener?.close()
        quic?.close()
        engine.store.close()
        logger.info("stopped")
    }

    // MARK: - Control requests

    private func handle(_ request: ControlRequest, from session: ControlSession) {
        let id = request.id
        // Keep responses in request order: a read or status after a pipelined write sees the write.
        switch request.command {
        case .put, .delete: break
        default: engine.commitStaged()
        }
        func fail(_ code: ControlError.Code, _ message: String) {
            session.send(.failure(ControlError(code, message, id: id)))
        }
        switch request.command {
        case .status:
            session.send(.success(id: id, result: statusJSON()))
        case .info:
            session.send(.success(id: id, result: infoJSON()))
        case .peers:
            session.send(.success(id: id, result: peersJSON()))
        case .put(let key, let value):
            engine.stagePut(key: key, value: value) { result in
                switch result {
                case .success(let write):
                    var json = write.entry.json
                    if case .object(var fields) = json {
                        fields["value"] = nil
                        fields["delivery"] = .string(write.delivery.text)
                        if let n = write.delivery.peers { fields["peers"] = .int(n) }
                        json = .object(fields)
                    }
                    session.send(.success(id: id, result: json))
                case .failure(let error):
                    session.send(.failure(ControlError(Node.code(for: error), "\(error)", id: id)))
                }
            }
        case .delete(let key):
            let existed = (try? engine.get(key: key)) != nil
            engine.stageDelete(key: key) { result in
                switch result {
                case .success(let write):
                    var json = write.entry.json
                    if case .object(var fields) = json {
                        fields["existed"] = .bool(existed)
                        fields["delivery"] = .string(write.delivery.text)
                        if let n = write.delivery.peers { fields["peers"] = .int(n) }
                        json = .object(fields)
                    }
                    session.send(.success(id: id, result: json))
                case .failure(let error):
                    session.send(.failure(ControlError(Node.code(for: error), "\(error)", id: id)))
                }
            }
        case .writeBatch(let writes):
            engine.stageBatch(writes.map { ($0.key, $0.value) }) { result in
                switch result {
                case .success(let committed):
                    let deletes = committed.filter { $0.entry.value == nil }.count
                    var peers = 0, queued = 0
                    for write in committed {
                        switch write.delivery {
                        case .sent(let n), .announced(let n): peers = max(peers, n)
                        case .queued: queued += 1
                        default: break
                        }
                    }
                    session.send(.success(id: id, result: [
                        "written": .int(committed.count - deletes), "deleted": .int(deletes),
                        "sent_to_peers": .int(peers), "queued": .int(queued),
                    ]))
                case .failure(let error):
                    session.send(.failure(ControlError(Node.code(for: error), "\(error)", id: id)))
                }
            }
        case .get(let key):
            do {
                guard let entry = try engine.get(key: key) else {
                    return fail(.notFound, "key not found: \(key)")
                }
                session.send(.success(id: id, result: entry.json))
            } catch {
                fail(Node.code(for: error), "\(error)")
            }
        case .list(let prefix, let limit, let after):
            do {
                let entries = try engine.list(prefix: prefix, after: after, limit: limit)
                session.send(.success(id: id, result: ["entries": .array(entries.map(\.json)), "count": .int(entries.count)]))
            } catch {
                fail(Node.code(for: error), "\(error)")
            }
        case .watch(let prefix):
            session.watchPrefix = prefix ?? ""
            session.send(.success(id: id, result: ["watching": .string(prefix ?? "")]))
        case .connect(let text):
            func connected(_ connection: PeerConnection) {
                session.send(.success(id: id, result: [
                    "peer_id": .string(connection.remotePeer?.description ?? ""),
                    "address": .string(connection.address.description),
                    "agent": connection.machine.identified?.agentVersion.map(JSON.string) ?? .null,
                ]))
            }
            if !text.hasPrefix("/"), let peer = try? PeerID(text) {
                return connectByPeerID(peer) { result in
                    switch result {
                    case .success(let connection): connected(connection)
                    case .failure(let why): fail(.unavailable, "cannot connect to \(peer): \(why)")
                    }
                }
            }
            let address: Multiaddr
            do { address = try Multiaddr(text) } catch {
                return fail(.invalidArgument, "\(error) (give a multiaddr such as /ip4/192.0.2.1/tcp/4001/p2p/12D3KooW..., or a peer ID)")
            }
            peers.dial(address, keep: true) { result in
                switch result {
                case .success(let connection): connected(connection)
                case .failure(let error):
                    session.send(.failure(ControlError(.unavailable, "\(error)", id: id)))
                }
            }
        case .ping(let text, let count):
            let peer: PeerID
            do { peer = try PeerID(text) } catch { return fail(.invalidArgument, "\(error)") }
            guard let connection = peers.connection(to: peer) else { return fail(.notFound, "not connected to \(peer)") }
            runPings(connection, remaining: count, sent: 0, rtts: []) { sent, rtts in
                var result: [String: JSON] = ["peer_id": .string(peer.description), "sent": .int(sent), "received": .int(rtts.count),
                                              "rtt_ms": .array(rtts.map(JSON.double))]
                if let mn = rtts.min(), let mx = rtts.max() {
                    result["min_ms"] = .double(mn)
                    result["max_ms"] = .double(mx)
                    result["avg_ms"] = .double((rtts.reduce(0, +) / Double(rtts.count) * 1000).rounded() / 1000)
                }
                session.send(.success(id: id, result: .object(result)))
            }
        case .perf(let text, let upload, let download):
            let peer: PeerID
            do { peer = try PeerID(text) } catch { return fail(.invalidArgument, "\(error)") }
            guard let connection = peers.connection(to: peer) else { return fail(.notFound, "not connected to \(peer)") }
            let token = nextToken()
            perfWaiters[token] = { result in
                switch result {
                case .success(let m):
                    func seconds(_ ns: UInt64) -> Double { Double(ns / 1000) / 1e6 }
                    func rate(_ bytes: Int, _ ns: UInt64) -> JSON {
                        ns > 0 ? .double((Double(bytes) / seconds(ns) / 1e6 * 10).rounded() / 10) : .null
                    }
                    session.send(.success(id: id, result: [
                        "peer_id": .string(peer.description),
                        "upload_bytes": .int(m.uploadBytes), "download_bytes": .int(m.downloadBytes),
                        "upload_seconds": .double(seconds(m.uploadNanoseconds)), "download_seconds": .double(seconds(m.downloadNanoseconds)),
                        "upload_mb_per_s": rate(m.uploadBytes, m.uploadNanoseconds), "download_mb_per_s": rate(m.downloadBytes, m.downloadNanoseconds),
                    ]))
                case .failure(let error):
                    session.send(.failure(ControlError(.unavailable, "perf with \(peer) failed: \(error)", id: id)))
                }
            }
            if connection.open(PerfHandler.key, request: PerfHandler.Request(token: token, upload: upload, download: download)) == nil {
                perfWaiters[token] = nil
                fail(.unavailable, "cannot open a perf stream to \(peer)")
            }
        case .doctor:
            session.send(.success(id: id, result: doctorReport()))
        case .digest(let prefix):
            // Answered once the index is built (at start it is built in slices, a few seconds
            // at a million keys, while the node goes on serving).
            core.reconcile.withReplicaIndex { result in
                switch result {
                case .success(let index):
                    let lower = Array((prefix ?? "").utf8)
                    let fingerprint = index.fingerprint(lower, Store.upperBound(forPrefix: lower))
                    session.send(.success(id: id, result: ["digest": .string(fingerprint.description), "items": .int(Int(fingerprint.count)),
                                                           "prefix": .string(prefix ?? "")]))
                case .failure(let error):
                    session.send(.failure(ControlError(Node.code(for: error), "\(error)", id: id)))
                }
            }
        case .dht, .dhtFindPeer, .dhtProviders, .dhtPut, .dhtGet:
            handleDHT(request.command, id: id, session: session)
        case .groupCreate, .groupInvite, .groupJoin, .members, .memberSet, .memberRemove, .audit:
            handleGroup(request.command, id: id, session: session)
        case .disconnect(let text):
            let peer: PeerID
            do { peer = try PeerID(text) } catch { return fail(.invalidArgument, "\(error)") }
            if peers.disconnect(peer) {
                session.send(.success(id: id, result: ["peer_id": .string(peer.description), "disconnected": true]))
            } else {
                fail(.notFound, "not connected to \(peer)")
            }
        }
    }

    /// Pings one at a time, each on its own stream, each bounded by the ping handler's time-out.
    private func runPings(_ connection: PeerConnection, remaining: Int, sent: Int, rtts: [Double],
                          done: @escaping (Int, [Double]) -> Void) {
        guard remaining > 0 else { return done(sent, rtts) }
        let token = nextToken()
        pingWaiters[token] = { [weak self] outcome in
            switch outcome {
            case .success(let ns):
                self?.runPings(connection, remaining: remaining - 1, sent: sent + 1, rtts: rtts + [Double(ns / 1000) / 1000], done: done)
            case .failure(.timedOut):
                self?.runPings(connection, remaining: remaining - 1, sent: sent + 1, rtts: rtts, done: done)
            case .failure:
                done(sent + 1, rtts)
            }
        }
        if connection.open(PingHandler.key, request: PingHandler.Request(token: token)) == nil {
            pingWaiters[token] = nil
            done(sent, rtts)
        }
    }

    /// Ping and perf requests waiting for their handler's event, by token (0 is keep-alive's).
    private var pingWaiters: [UInt64: (Result<UInt64, PingHandler.Failure>) -> Void] = [:]
    private var perfWaiters: [UInt64: (Result<PerfHandler.Measurement, StreamFailure>) -> Void] = [:]
    private var lastToken: UInt64 = 0
    private func nextToken() -> UInt64 {
        lastToken += 1
        return lastToken
    }

    static func code(for error: StoreError) -> ControlError.Code {
        switch error {
        case .invalidKey, .invalidValue, .notPermitted: .invalidArgument
        case .clockAhead: .unavailable
        default: .internal
        }
    }

    private func notifyWatchers(_ entry: Entry, source: ChangeSource) {
        let watchers = control.watchers(of: entry.key)
        guard !watchers.isEmpty else { return }
        var event = entry.json
        if case .object(var fields) = event {
            fields["source"] = .string(source.rawValue)
            event = .object(fields)
        }
        for session in watchers { session.send(.event(event)) }
    }


}

extension Node {
    /// `--swarm-key FILE`, or `<data-dir>/swarm.key` when that exists; nil for an open node.
    static func loadSwarmKey(_ configuration: NodeConfiguration) throws(ConfigurationError) -> (key: SwarmKey, path: String)? {
        let path = configuration.swarmKeyPath.map(DataDirectory.absolute) ?? configuration.dataDirectory.swarmKeyPath
        let given = configuration.swarmKeyPath != nil
        guard given || access(path, F_OK) == 0 else { return nil }
        // A key file is a few dozen bytes; anything near the limit is not one.
        guard let bytes = AtomicFile.read(path, limit: 4096) else {
            throw .swarmKeyUnusable(path: path, reason: given ? "cannot read it (missing, unreadable, or over 4 KiB)" : "cannot read it")
        }
        do {
            return (try SwarmKey(fileContents: bytes), path)
        } catch {
            throw .swarmKeyUnusable(path: path, reason: "\(error)")
        }
    }
}
