import Kademlia
import P2PCrypto
import Reactor
import Swarm
import Wire
import Yamux

/// The node's Kademlia DHT (issue 12; libp2p-wire.md section 8): the routing table, the
/// records we hold for others, requests to peers, and the lookups built on them. It finds the
/// members of our topic beyond the LAN: each node provides the group key (`groupKey`) and
/// looks up the other providers at start and every five minutes, dialing those it is not
/// connected to.
///
/// Requests go over `/ipfs/kad/1.0.0` streams (`KadHandler`), one stream per request as py
/// and rust do; a peer we are not connected to is dialed first. Only peers whose identify
/// lists our kad protocol enter the table (they are servers; clients do not advertise it).
final class DHTService {
    static let defaultProtocolID = KadHandler.defaultProtocolID
    /// Bucket size and the number of closest peers a lookup looks for (the spec's k).
    static let k = 20
    /// Stale buckets are refreshed, and our own ID looked up again, this often (go, py: 10 min).
    static let refreshInterval: Duration = .seconds(600)
    /// The group's providers are looked up this often once we have group peers...
    static let groupLookupInterval: Duration = .seconds(300)
    /// ...and this often while we have none (and after a failed bootstrap, doubling to the above).
    static let lonelyLookupInterval: Duration = .seconds(15)
    /// Our provider record is published again before the 48 h others keep it (go, the spec).
    static let republishInterval: Duration = .seconds(22 * 3600)
    /// Providers and values collected by one lookup, at most.
    static let maxCollected = 64
    /// Addresses tried per peer a lookup asks: an answer may name peers with many made-up ones.
    static let maxDialAddresses = 3

    let local: PeerID
    /// False with `--dht-mode off`: nothing is dialed, looked up or answered.
    let enabled: Bool
    let serving: Bool
    let protocolID: String
    let topic: String
    /// `SHA-256("p2p-sync/" + topic)` as a sha2-256 multihash: the key our group provides.
    let groupKey: [UInt8]
    private(set) var table: RoutingTable
    var server: KadServer
    let loop: NodeLoop
    let peers: PeerManager
    let logger: Logger
    private let random: NodeRandom
    /// Wall-clock nanoseconds since the Unix epoch: record times (`timeReceived`) and expiry.
    let wallNanos: () -> UInt64

    /// Addresses dialed to join: `--bootstrap` and the table saved by an earlier run.
    private(set) var bootstrapPeers: [Multiaddr] = []
    private(set) var lastBootstrap: (at: Instant, outcome: String)?
    /// When the DHT started, and how long until the first group member found through it was
    /// connected (perf/run reports it).
    private(set) var startedAt: Instant?
    var firstGroupPeer: Duration?
    /// Providers of our group key seen in lookups (bounded by the lookups' own limits).
    var groupMembersFound: Set<PeerID> = []
    private(set) var lookupsRun = 0
    var lastGroupLookup: (at: Instant, found: Int, dialed: Int)?
    private var bootstrapping = false
    private var bootstrapped = false
    private var groupTimer: TimerID?
    private var refreshTimer: TimerID?
    var republishTimer: TimerID?
    var lonelyDelay = DHTService.lonelyLookupInterval
    private var stopped = false

    /// Inbound requests per peer, of any type (a FIND_NODE flood costs us a table scan each):
    /// 50 a second with a burst of 200; past it the request's stream is reset.
    private var requestLimiter = KadRateLimiter(ratePerSecond: 50, burst: 200, maxTrackedPeers: 1024)
    private(set) var requestsServed = 0
    private(set) var requestsRefused = 0
    private var nextTag: UInt64 = 0
    private var waiting: [UInt64: (Result<KadMessage?, DHTError>) -> Void] = [:]
    private var lookups: [Int: RunningLookup] = [:]
    private var nextLookup = 0
    /// The table changed (the daemon saves its peers, as peers.json).
    var onTableChanged: (() -> Void)?

    init(local: PeerID, enabled: Bool = true, serving: Bool, protocolID: String, topic: String, loop: NodeLoop, peers: PeerManager, logger: Logger,
         random: NodeRandom, wallNanos: @escaping () -> UInt64) {
        self.local = local
        self.enabled = enabled
        self.serving = serving && enabled
        self.protocolID = protocolID
        self.topic = topic
        groupKey = DHTService.groupKey(topic: topic)
        table = RoutingTable(localPeer: local)
        server = KadServer()
        self.loop = loop
        self.peers = peers
        self.logger = logger
        self.random = random
        self.wallNanos = wallNanos
    }

    /// The key a topic's group provides: the sha2-256 multihash of `"p2p-sync/" + topic`,
    /// which is what a CIDv1 (raw codec) of that digest carries (py's `provide(cid)` takes it so).
    static func groupKey(topic: String) -> [UInt8] {
        [0x12, 0x20] + SHA256.hash(Array("p2p-sync/\(topic)".utf8))
    }

    /// The group key as a CIDv1 string (raw codec, base32): what py-libp2p's `provide` and
    /// `find_providers` take.
    static func groupCID(topic: String) -> String {
        "b" + Base32.encode([0x01, 0x55] + groupKey(topic: topic))
    }

    private var now: UInt64 { loop.now.nanoseconds }

    // MARK: - Start, timers

    /// Dials the bootstrap peers; the first DHT server among them that is identified starts the
    /// bootstrap (a lookup of our own ID), then the group lookups.
    func start(bootstrap: [Multiaddr]) {
        guard enabled else { return }
        startedAt = loop.now
        bootstrapPeers = bootstrap
        dialBootstrapPeers()
        scheduleGroupLookup(after: DHTService.lonelyLookupInterval)
        refreshTimer = loop.after(DHTService.refreshInterval) { [weak self] in self?.refresh() }
    }

    private func dialBootstrapPeers() {
        for address in bootstrapPeers {
            guard let peer = address.peerID, peer != local, !peers.isConnectedOrDialing(peer) else { continue }
            peers.dial(address, keep: false) { [weak self] result in
                if case .failure(let error) = result { self?.logger.debug("bootstrap peer \(address): \(error)") }
            }
        }
    }

    func stop() {
        stopped = true
        for timer in [groupTimer, refreshTimer, republishTimer].compactMap({ $0 }) { loop.cancel(timer) }
        for (_, lookup) in lookups { if let timer = lookup.timer { loop.cancel(timer) } }
        lookups = [:]
        waiting = [:]
    }

    func scheduleGroupLookup(after delay: Duration) {
        if let groupTimer { loop.cancel(groupTimer) }
        groupTimer = loop.after(delay) { [weak self] in
            guard let self else { return }
            self.groupTimer = nil
            self.periodicGroupLookup()
        }
    }

    /// Every five minutes, or sooner while no group peer is connected.
    private func periodicGroupLookup() {
        if table.count == 0 {
            // Nobody to ask: dial the bootstrap peers again, backing off to the slow interval.
            dialBootstrapPeers()
            lonelyDelay = min(lonelyDelay * 2, DHTService.groupLookupInterval)
            return scheduleGroupLookup(after: lonelyDelay)
        }
        if !bootstrapped { return bootstrapNow() }
        findGroup()
    }

    private func refresh() {
        refreshTimer = loop.after(DHTService.refreshInterval) { [weak self] in self?.refresh() }
        guard table.count > 0 else { return }
        lookup(.findNode, key: local.bytes) { _ in }
        for bucket in table.staleBuckets(now: now) where bucket <= RoutingTable.maxRefreshBucket {
            var generator = random.splitMix()
            lookup(.findNode, key: table.refreshKey(forBucket: bucket, random: &generator)) { _ in }
        }
        server.store.expire(now: wallNanos())
    }

    /// A lookup of our own ID: it fills the table with our neighbours and tells them about us.
    private func bootstrapNow() {
        guard !bootstrapping, !stopped else { return }
        bootstrapping = true
        lookup(.findNode, key: local.bytes) { [weak self] result in
            guard let self else { return }
            self.bootstrapping = false
            let outcome: String
            if result.answered > 0 {
                self.bootstrapped = true
                outcome = "ok: \(result.answered) peer(s) answered, routing table \(self.table.count)"
                self.provideGroup()
                self.findGroup()
            } else {
                outcome = "no peer answered (\(result.failed) failed)"
                self.scheduleGroupLookup(after: self.lonelyDelay)
            }
            self.lastBootstrap = (self.loop.now, outcome)
            self.logger.info("DHT bootstrap: \(outcome)")
        }
    }

    // MARK: - Swarm events

    /// An identified connection: a DHT server (identify lists our protocol) enters the table.
    func identified(_ connection: PeerConnection) {
        guard enabled, let peer = connection.remotePeer, let info = connection.machine.identified else { return }
        guard info.protocols.contains(protocolID) else {
            if table.contains(peer) {
                table.remove(peer)
                onTableChanged?()
            }
            return
        }
        var addresses: [Multiaddr] = []
        if connection.direction == .outbound { addresses.append(connection.address.withoutPeerID) }
        for address in info.listenAddrs.map(\.withoutPeerID) where !addresses.contains(address) && DHTService.dialable(address) {
            addresses.append(address)
        }
        switch table.insert(peer, addresses: addresses, now: now) {
        case .added:
            logger.debug("DHT: \(peer) joined the routing table (\(table.count) peers)")
            onTableChanged?()
        case .updated:
            break
        case .pending(let oldest):
            check(oldest)
        case .refused(let why):
            logger.debug("DHT: \(peer) not added to the routing table: \(why)")
        }
        noteGroupMemberConnected(peer)
        if !bootstrapped && !bootstrapping { bootstrapNow() }
    }

    /// The last connection went away: look for the group again soon, not in five minutes.
    func connectionClosed() {
        guard enabled, bootstrapped, peers.connectedPeers.isEmpty else { return }
        lonelyDelay = DHTService.lonelyLookupInterval
        scheduleGroupLookup(after: lonelyDelay)
    }

    /// A full bucket's least-recently-seen peer must answer a request to keep its place.
    private func check(_ peer: PeerID) {
        let addresses = table.entry(for: peer)?.addresses ?? []
        request(KadMessage(type: .findNode, key: local.bytes), to: peer, addresses: addresses) { [weak self] result in
            guard let self else { return }
            let alive: Bool
            if case .success = result { alive = true } else { alive = false }
            self.table.checkResult(peer, alive: alive, now: self.now)
            if !alive { self.onTableChanged?() }
        }
    }

    func handle(_ event: KadHandler.Event, stream: StreamID, on connection: PeerConnection) {
        switch event {
        case .request(let message):
            guard serving, let sender = connection.remotePeer else { return }
            guard requestLimiter.allow(sender, now: now) else {
                requestsRefused += 1
                logger.debug("DHT: \(sender) sends requests faster than 50/s: stream reset")
                return connection.send(KadHandler.Command.reset, onStream: stream)
            }
            let answer = server.respond(to: message, from: sender, now: wallNanos()) { [unowned self] key, count in
                self.closestPeers(to: key, count: count, excluding: sender)
            }
            switch answer {
            case .reply(let reply):
                requestsServed += 1
                connection.send(KadHandler.Command.respond(reply), onStream: stream)
            case .noReply:
                requestsServed += 1
            case .refuse(let why):
                requestsRefused += 1
                logger.debug("DHT: refused \(message.type) from \(sender): \(why)")
                connection.send(KadHandler.Command.reset, onStream: stream)
            }
        case .response(let tag, let message):
            if let peer = connection.remotePeer { table.seen(peer, now: now) }
            waiting.removeValue(forKey: tag)?(.success(message))
        case .sent(let tag):
            waiting.removeValue(forKey: tag)?(.success(nil))
        case .failed(let tag, let why):
            waiting.removeValue(forKey: tag)?(.failure(.requestFailed(why)))
        }
    }

    /// The peers we know closest to `key`, as a response lists them (with their addresses).
    private func closestPeers(to key: [UInt8], count: Int, excluding: PeerID) -> [KadPeer] {
        table.closest(to: KadKey(hashing: key), count: count + 1).filter { $0.peer != excluding }.prefix(count).map { entry in
            KadPeer(id: entry.peer, addresses: entry.addresses,
                    connection: peers.connection(to: entry.peer) != nil ? .connected : .notConnected)
        }
    }

    // MARK: - Requests

    /// Sends one request to `peer`, dialing it first if we are not connected. The completion
    /// gets the response (nil for ADD_PROVIDER, which has none) or why there is none.
    func request(_ message: KadMessage, to peer: PeerID, addresses: [Multiaddr],
                 completion: @escaping (Result<KadMessage?, DHTError>) -> Void) {
        guard !stopped else { return completion(.failure(.stopped)) }
        if let connection = peers.connection(to: peer) { return send(message, on: connection, completion) }
        let candidates = DHTService.dialOrder(addresses.map(\.withoutPeerID).filter(DHTService.dialable))
        dial(peer, candidates.prefix(DHTService.maxDialAddresses)) { [weak self] result in
            switch result {
            case .success(let connection): self?.send(message, on: connection, completion)
            case .failure(let error): completion(.failure(error))
            }
        }
    }

    /// Dials the peer at its addresses (QUIC first, then TCP; each in turn: `DialRace`).
    func dial(_ peer: PeerID, _ addresses: ArraySlice<Multiaddr>,
                      completion: @escaping (Result<PeerConnection, DHTError>) -> Void) {
        guard !addresses.isEmpty else { return completion(.failure(.unreachable(peer))) }
        peers.dial(peer, at: Array(addresses)) { result in
            switch result {
            case .success(let connection): completion(.success(connection))
            case .failure: completion(.failure(.unreachable(peer)))
            }
        }
    }

    private func send(_ message: KadMessage, on connection: PeerConnection,
                      _ completion: @escaping (Result<KadMessage?, DHTError>) -> Void) {
        nextTag += 1
        let tag = nextTag
        waiting[tag] = completion
        if connection.open(KadHandler.key, request: KadHandler.Request(tag: tag, message: message)) == nil,
           let waiter = waiting.removeValue(forKey: tag) {
            waiter(.failure(.requestFailed("cannot open a stream")))
        }
    }

    /// TCP addresses only (QUIC comes with issue 13); non-loopback first, so that a remote
    /// peer's 127.0.0.1 is tried last.
    static func dialable(_ address: Multiaddr) -> Bool {
        (try? TCPAddress.endpoint(of: address)) != nil || (try? TCPAddress.quicEndpoint(of: address)) != nil
    }

    static func dialOrder(_ addresses: [Multiaddr]) -> [Multiaddr] {
        let loopback = addresses.filter { TCPAddress.isLoopback($0) }
        return addresses.filter { !TCPAddress.isLoopback($0) } + loopback
    }

    // MARK: - Lookups

    enum LookupKind { case findNode, getProviders, getValue }

    struct LookupResult {
        var started: Instant
        var finished: Instant?
        var closest: [Lookup.Candidate] = []
        var providers: [PeerID: [Multiaddr]] = [:]
        var records: [KadRecord] = []
        var answered = 0
        var failed = 0
        /// Asked, but no answer within the query time-out when the lookup ended.
        var timedOut = 0
        var queries = 0
    }

    private struct RunningLookup {
        var machine: Lookup
        let kind: LookupKind
        let key: [UInt8]
        var result: LookupResult
        var timer: TimerID?
        /// Ends the lookup early once it has what the caller wants (find-peer).
        let enough: ((LookupResult) -> Bool)?
        /// Sees every answer (find-peer looks for the target among the closer peers).
        let observe: ((KadMessage) -> Void)?
        let completion: (LookupResult) -> Void
    }

    /// Runs one iterative lookup for `key` from the table's closest peers.
    func lookup(_ kind: LookupKind, key: [UInt8], enough: ((LookupResult) -> Bool)? = nil,
                observe: ((KadMessage) -> Void)? = nil, completion: @escaping (LookupResult) -> Void) {
        let target = KadKey(hashing: key)
        table.markLookup(key: target, now: now)
        let seeds = table.closest(to: target, count: DHTService.k).map { Lookup.Candidate(peer: $0.peer, addresses: $0.addresses) }
        let machine = Lookup(target: key, localPeer: local, seeds: seeds, now: now)
        nextLookup += 1
        lookupsRun += 1
        lookups[nextLookup] = RunningLookup(machine: machine, kind: kind, key: key, result: LookupResult(started: loop.now),
                                            enough: enough, observe: observe, completion: completion)
        pump(nextLookup)
    }

    private func pump(_ id: Int) {
        guard var running = lookups[id] else { return }
        let queries = running.machine.nextQueries(now: now)
        running.result.queries += queries.count
        if running.machine.isFinished {
            lookups[id] = nil
            if let timer = running.timer { loop.cancel(timer) }
            running.result.closest = running.machine.closestAnswered
            running.result.finished = loop.now
            running.result.timedOut = running.machine.stats.timeouts
            return running.completion(running.result)
        }
        if let timer = running.timer { loop.cancel(timer) }
        running.timer = running.machine.deadline.map { due in
            loop.schedule(at: Instant(nanoseconds: due)) { [weak self] in
                guard let self else { return }
                self.lookups[id]?.timer = nil
                self.lookups[id]?.machine.timerFired(now: self.now)
                self.pump(id)
            }
        }
        lookups[id] = running
        let message = DHTService.request(for: running.kind, key: running.key)
        for candidate in queries {
            request(message, to: candidate.peer, addresses: candidate.addresses) { [weak self] result in
                self?.answered(id, from: candidate.peer, result)
            }
        }
    }

    private func answered(_ id: Int, from peer: PeerID, _ result: Result<KadMessage?, DHTError>) {
        guard lookups[id] != nil else { return }
        switch result {
        case .success(let message?):
            lookups[id]!.result.answered += 1
            lookups[id]!.machine.received(from: peer, closerPeers: message.closerPeers.map { ($0.id, $0.addresses) }, now: now)
            collect(message, into: &lookups[id]!.result, key: lookups[id]!.key)
            lookups[id]!.observe?(message)
            if let enough = lookups[id]!.enough, enough(lookups[id]!.result) { lookups[id]!.machine.stop() }
        case .success(nil), .failure:
            lookups[id]!.result.failed += 1
            lookups[id]!.machine.failed(peer: peer, now: now)
            forgetIfUnresponsive(peer, result)
        }
        pump(id)
    }

    /// A table peer that fails a request (no answer in time, a malformed or refused answer,
    /// unreachable) leaves the table, as go does; a waiting candidate takes its place. It comes
    /// back when it is identified as a server again.
    private func forgetIfUnresponsive(_ peer: PeerID, _ result: Result<KadMessage?, DHTError>) {
        guard case .failure(let error) = result, table.contains(peer), error.isPeerFault else { return }
        table.remove(peer)
        logger.debug("DHT: \(peer) left the routing table: \(error)")
        onTableChanged?()
    }

    private func collect(_ message: KadMessage, into result: inout LookupResult, key: [UInt8]) {
        for provider in message.providerPeers where result.providers.count < DHTService.maxCollected {
            result.providers[provider.id, default: []].append(contentsOf: provider.addresses)
        }
        if let record = message.record, record.key == key, result.records.count < DHTService.maxCollected {
            result.records.append(record)
        }
    }

    static func request(for kind: LookupKind, key: [UInt8]) -> KadMessage {
        switch kind {
        case .findNode: KadMessage(type: .findNode, key: key)
        case .getProviders: KadMessage(type: .getProviders, key: key)
        case .getValue: KadMessage(type: .getValue, key: key)
        }
    }

    var runningLookups: Int { lookups.count }
}

/// Why a DHT request or operation failed.
enum DHTError: Error, CustomStringConvertible {
    case unreachable(PeerID)
    case requestFailed(String)
    case stopped

    var description: String {
        switch self {
        case .unreachable(let peer): "cannot reach \(peer) at any of its addresses"
        case .requestFailed(let why): why
        case .stopped: "the node is stopping"
        }
    }

    /// The peer failed us (not our own shutdown).
    var isPeerFault: Bool {
        if case .stopped = self { return false }
        return true
    }
}
