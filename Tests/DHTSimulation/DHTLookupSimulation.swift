import Kademlia
import NetworkSimulation
import Wire

/// Kademlia lookups at scale: `nodes` DHT servers in one process, each with a `RoutingTable`
/// and a FIND_NODE server answering with its k closest, talking over a simulated WAN (each
/// pair's one-way latency fixed in `latencyMillis`, drawn from a hash of the pair).
///
/// The script, deterministic by seed:
/// 1. Nodes join one every `joinIntervalMillis`. A joining node puts `bootstrapPeers` random
///    earlier nodes in its table (as go does on connecting to its bootstrap peers), looks up
///    its own ID, then refreshes every bucket from 0 to its deepest non-empty one (bounded
///    at 15), all as libp2p bootstrap does (libp2p-wire.md section 8.3).
/// 2. `refreshRounds` periodic refreshes, each `RoutingTable.refreshInterval` (10 min) apart.
/// 3. `gonePercent` % of the nodes go silent: they stay in every table, and queries to them
///    time out (`Lookup.Parameters.queryTimeout`). Then `healRounds` periodic refreshes
///    (default none: measure at once, while every table still holds the silent nodes).
/// 4. `lookups` lookups of random keys from random live nodes, `lookupIntervalMillis` apart.
///    Each is scored against the true k closest live nodes (brute force over all nodes).
///
/// Table policy, as in go: a node puts in its table every peer that answers its queries and
/// every peer that queries it (all nodes here are servers); peers merely *named* in answers
/// do not go in. A full bucket's least recently seen entry is pinged; it stays if it
/// answers (it always does before step 3). A peer whose query times out leaves the asker's
/// table, as go removes a peer whose query failed.
///
/// Peer IDs are random sha2-256-multihash-shaped byte strings (valid peer IDs, no key
/// generation); each node has one public IPv4 address, so the diversity rule is live.
/// Links are not `SimulatedNetwork` links: a full mesh of 10,000 nodes would be 10^8 link
/// records, so the simulation keeps its own `EventQueue` and derives latencies from the pair.
public struct DHTLookupSimulation {
    public struct Configuration: Sendable {
        public var nodes = 1000
        public var bootstrapPeers = 3
        public var joinIntervalMillis: UInt64 = 20
        public var latencyMillis: ClosedRange<UInt64> = 10...100
        /// Refresh every bucket right after the self-lookup, as libp2p bootstrap does.
        public var refreshOnJoin = true
        /// Periodic refreshes after joining, `RoutingTable.refreshInterval` apart.
        public var refreshRounds = 1
        public var gonePercent = 20
        /// Periodic refreshes after the silence and before the measured lookups: the dead
        /// time out in them and leave the tables (0: measure at once, the worst case).
        public var healRounds = 0
        public var lookups = 100
        public var lookupIntervalMillis: UInt64 = 50
        public var seed: UInt64 = 1
        public var parameters = Lookup.Parameters()

        public init() {}
    }

    /// What a run measured; per measured lookup unless said otherwise.
    public struct Report: Sendable {
        public let configuration: Configuration
        /// |found ∩ true k closest live| / k.
        public let recalls: [Double]
        /// Hop depth (`Lookup.Stats.rounds`).
        public let rounds: [Double]
        public let queries: [Double]
        public let latencyMillis: [Double]
        public let timeouts: [Double]
        /// Lookups run while joining and refreshing, and the queries they sent.
        public let maintenanceLookups: Int
        public let maintenanceQueries: Int
        /// Mean routing-table size when the nodes go silent.
        public let averageTableSize: Double
        /// Mean share of table entries that are gone, counted when the nodes go silent.
        public let goneInTables: Double
        public let messages: Int
        public let simulatedMillis: UInt64

        public var meanRecall: Double { recalls.isEmpty ? 0 : recalls.reduce(0, +) / Double(recalls.count) }
        public var minRecall: Double { recalls.min() ?? 0 }
    }

    enum Purpose { case join, refresh, measured(index: Int) }

    struct Active {
        let node: Int
        var lookup: Lookup
        let purpose: Purpose
        /// The earliest lookup timer in the queue (ms), so each query does not add its own:
        /// timers were most of the event queue, and the queue most of the run time.
        var timerAt: UInt64?
    }

    enum Event {
        case join(node: Int)
        case refresh(node: Int)
        case goSilent
        case measure(index: Int)
        case request(from: Int, to: Int, lookup: Int, target: KadKey)
        case response(from: Int, to: Int, lookup: Int, closer: [Lookup.Candidate])
        case lookupTimer(lookup: Int)
        case ping(from: Int, to: Int)
        case pong(from: Int, to: Int)
        case pingTimeout(node: Int, peer: Int)
    }

    public let configuration: Configuration
    private var queue = EventQueue<Event>()
    private var random: SplitMix64
    private let latencySeed: UInt64
    private var peerIDs: [PeerID] = []
    private var keys: [KadKey] = []
    private var addresses: [[Multiaddr]] = []
    private var index: [PeerID: Int] = [:]
    private var tables: [RoutingTable?]
    private var gone: [Bool]
    private var lookups: [Active?] = []
    private var pings: [Set<Int>]
    private var messages = 0
    private var maintenanceLookups = 0
    private var maintenanceQueries = 0
    private var measuredStarted: [UInt64]
    private var recalls: [Double] = []
    private var rounds: [Double] = []
    private var queries: [Double] = []
    private var latencies: [Double] = []
    private var timeouts: [Double] = []
    private var measuredLeft: Int
    private var tableSizeAtMeasure = 0.0
    private var goneShareAtMeasure = 0.0

    public init(_ configuration: Configuration) {
        precondition(configuration.nodes >= 2 && configuration.latencyMillis.lowerBound > 0, "need 2 nodes and some latency")
        self.configuration = configuration
        random = SplitMix64(seed: configuration.seed)
        latencySeed = random.next()
        let n = configuration.nodes
        tables = Array(repeating: nil, count: n)
        gone = Array(repeating: false, count: n)
        pings = Array(repeating: [], count: n)
        measuredStarted = Array(repeating: 0, count: configuration.lookups)
        measuredLeft = configuration.lookups
        peerIDs.reserveCapacity(n)
        for i in 0..<n {
            var bytes: [UInt8] = [0x12, 0x20]
            for _ in 0..<4 {
                let w = random.next()
                for s in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: w >> UInt64(s))) }
            }
            let peer = try! PeerID(bytes: bytes)
            peerIDs.append(peer)
            keys.append(KadKey(peer: peer))
            index[peer] = i
            // A public address: first byte 11...99 avoids every exempt range.
            let ip: [UInt8] = [UInt8.random(in: 11...99, using: &random), UInt8.random(in: 0...255, using: &random),
                               UInt8.random(in: 0...255, using: &random), UInt8.random(in: 1...254, using: &random)]
            addresses.append([Multiaddr(components: [.ip4(ip), .tcp(4001)])])
        }
    }


    /// Runs the whole script and reports.
    public mutating func run() -> Report {
        let c = configuration
        let n = c.nodes
        for i in 0..<n { queue.schedule(.join(node: i), at: UInt64(i) * c.joinIntervalMillis) }
        let joined = UInt64(n) * c.joinIntervalMillis
        let refreshMillis = RoutingTable.refreshInterval / 1_000_000
        for round in 0..<c.refreshRounds {
            for i in 0..<n { queue.schedule(.refresh(node: i), at: UInt64(i) * c.joinIntervalMillis + UInt64(round + 1) * refreshMillis) }
        }
        // Refresh lookups finish well within a minute (their overall time-out).
        let silentAt = joined + UInt64(c.refreshRounds) * refreshMillis + c.parameters.timeout / 1_000_000 + 1000
        queue.schedule(.goSilent, at: silentAt)
        for round in 0..<c.healRounds {
            for i in 0..<n { queue.schedule(.refresh(node: i), at: silentAt + UInt64(i) * c.joinIntervalMillis + UInt64(round + 1) * refreshMillis) }
        }
        let measureAt = silentAt + 1000 + (c.healRounds == 0 ? 0 : UInt64(n) * c.joinIntervalMillis + UInt64(c.healRounds) * refreshMillis
                                            + c.parameters.timeout / 1_000_000)
        for m in 0..<c.lookups { queue.schedule(.measure(index: m), at: measureAt + UInt64(m) * c.lookupIntervalMillis) }
        while measuredLeft > 0 || c.lookups == 0, let event = queue.next(until: .max) {
            handle(event)
        }
        return Report(configuration: c, recalls: recalls, rounds: rounds, queries: queries, latencyMillis: latencies,
                      timeouts: timeouts, maintenanceLookups: maintenanceLookups, maintenanceQueries: maintenanceQueries,
                      averageTableSize: tableSizeAtMeasure, goneInTables: goneShareAtMeasure, messages: messages,
                      simulatedMillis: queue.now)
    }

    private mutating func handle(_ event: Event) {
        let nowNanos = queue.now * 1_000_000
        switch event {
        case .join(let node): join(node)
        case .refresh(let node):
            guard !gone[node], tables[node] != nil else { return }
            refresh(node)
        case .goSilent: goSilent()
        case .measure(let m): measure(m)
        case .request(let from, let to, let id, let target): serve(from: from, to: to, lookup: id, target: target)
        case .response(let from, let to, let id, let closer):
            guard !gone[to] else { return }
            heardFrom(from, at: to)
            guard lookups[id] != nil else { return }
            lookups[id]!.lookup.received(from: peerIDs[from], closer: closer, now: nowNanos)
            drive(id)
        case .lookupTimer(let id):
            guard lookups[id] != nil else { return }
            if lookups[id]!.timerAt == queue.now { lookups[id]!.timerAt = nil }
            let node = lookups[id]!.node
            // As go does on a failed query: the silent peer leaves the asker's table (a pending
            // candidate, if any, takes its place).
            for peer in lookups[id]!.lookup.timerFired(now: nowNanos) { tables[node]?.remove(peer) }
            drive(id)
        case .ping(let from, let to):
            guard !gone[to] else { return }
            send(.pong(from: to, to: from), from: to, to: from)
        case .pong(let from, let to):
            guard !gone[to], pings[to].remove(from) != nil else { return }
            tables[to]!.checkResult(peerIDs[from], alive: true, now: nowNanos)
        case .pingTimeout(let node, let peer):
            guard !gone[node], pings[node].remove(peer) != nil else { return }
            tables[node]!.checkResult(peerIDs[peer], alive: false, now: nowNanos)
        }
    }

    // MARK: - Nodes

    private mutating func join(_ node: Int) {
        var table = RoutingTable(localPeer: peerIDs[node])
        let earlier = min(node, configuration.bootstrapPeers)
        var chosen = Set<Int>()
        while chosen.count < earlier { chosen.insert(Int.random(in: 0..<node, using: &random)) }
        for b in chosen.sorted() { _ = table.insert(peerIDs[b], key: keys[b], addresses: addresses[b], now: queue.now * 1_000_000) }
        tables[node] = table
        start(node: node, target: keys[node], bytes: peerIDs[node].bytes, purpose: .join)
    }

    /// Looks up a random point in every stale bucket (all of them after the self-lookup).
    private mutating func refresh(_ node: Int) {
        let table = tables[node]!
        for bucket in table.staleBuckets(now: queue.now * 1_000_000) {
            let key = table.randomKey(inBucket: bucket, random: &random)
            start(node: node, target: key, bytes: [], purpose: .refresh)
        }
    }

    private mutating func goSilent() {
        let n = configuration.nodes
        let count = n * configuration.gonePercent / 100
        var order = Array(0..<n)
        order.shuffle(using: &random)
        for i in order.prefix(count) { gone[i] = true }
        var sizes = 0, goneEntries = 0
        for t in tables {
            guard let t else { continue }
            sizes += t.count
            goneEntries += t.entries.reduce(0) { $0 + (gone[index[$1.peer]!] ? 1 : 0) }
        }
        tableSizeAtMeasure = Double(sizes) / Double(n)
        goneShareAtMeasure = sizes == 0 ? 0 : Double(goneEntries) / Double(sizes)
    }

    private mutating func measure(_ m: Int) {
        var node: Int
        repeat { node = Int.random(in: 0..<configuration.nodes, using: &random) } while gone[node]
        let key = KadKey(words: (random.next(), random.next(), random.next(), random.next()))
        measuredStarted[m] = queue.now
        start(node: node, target: key, bytes: [], purpose: .measured(index: m))
    }

    /// The FIND_NODE server: the asker goes in our table, the answer is our k closest to the
    /// target other than the asker.
    private mutating func serve(from: Int, to: Int, lookup: Int, target: KadKey) {
        guard !gone[to], tables[to] != nil else { return }
        heardFrom(from, at: to)
        let k = configuration.parameters.k
        let askerKey = keys[from]
        var closer: [Lookup.Candidate] = []
        closer.reserveCapacity(k)
        for e in tables[to]!.closest(to: target, count: k + 1) where e.key != askerKey && closer.count < k {
            closer.append(Lookup.Candidate(e))
        }
        send(.response(from: to, to: from, lookup: lookup, closer: closer), from: to, to: from)
    }

    /// `peer` talked to `node`: into the table, pinging the oldest entry of a full bucket.
    private mutating func heardFrom(_ peer: Int, at node: Int) {
        guard tables[node] != nil else { return }
        let result = tables[node]!.insert(peerIDs[peer], key: keys[peer], addresses: addresses[peer], now: queue.now * 1_000_000)
        guard case .pending(let check) = result, let c = index[check], pings[node].insert(c).inserted else { return }
        send(.ping(from: node, to: c), from: node, to: c)
        queue.schedule(.pingTimeout(node: node, peer: c), after: configuration.parameters.queryTimeout / 1_000_000)
    }

    // MARK: - Lookups

    private mutating func start(node: Int, target: KadKey, bytes: [UInt8], purpose: Purpose) {
        let k = configuration.parameters.k
        let seeds = tables[node]!.closest(to: target, count: k).map(Lookup.Candidate.init)
        let lookup = Lookup(target: bytes, targetKey: target, localPeer: peerIDs[node], seeds: seeds,
                            parameters: configuration.parameters, now: queue.now * 1_000_000)
        let id = lookups.count
        lookups.append(Active(node: node, lookup: lookup, purpose: purpose, timerAt: nil))
        drive(id)
    }

    /// Sends what the lookup wants sent, arms a timer per query, and wraps up a finished one.
    private mutating func drive(_ id: Int) {
        let node = lookups[id]!.node
        let target = lookups[id]!.lookup.targetKey
        for q in lookups[id]!.lookup.nextQueries(now: queue.now * 1_000_000) {
            let to = index[q.peer]!
            send(.request(from: node, to: to, lookup: id, target: target), from: node, to: to)
        }
        if let deadline = lookups[id]!.lookup.deadline {
            // Rounded up to the millisecond, so the nanosecond clock is past it when it fires.
            let at = (deadline + 999_999) / 1_000_000
            if lookups[id]!.timerAt.map({ at < $0 }) ?? true {
                lookups[id]!.timerAt = at
                queue.schedule(.lookupTimer(lookup: id), at: at)
            }
        }
        guard lookups[id]!.lookup.isFinished, let done = lookups[id] else { return }
        lookups[id] = nil
        tables[node]?.markLookup(key: target, now: queue.now * 1_000_000)
        switch done.purpose {
        case .join:
            maintenanceLookups += 1
            maintenanceQueries += done.lookup.stats.queriesSent
            if configuration.refreshOnJoin { refresh(node) }
        case .refresh:
            maintenanceLookups += 1
            maintenanceQueries += done.lookup.stats.queriesSent
        case .measured(let m):
            score(done, started: measuredStarted[m])
        }
    }

    private mutating func score(_ done: Active, started: UInt64) {
        let k = configuration.parameters.k
        let target = done.lookup.targetKey
        // The true k closest live nodes other than the asker: keep a sorted list of k.
        var best: [(KadKey, Int)] = []
        best.reserveCapacity(k + 1)
        for i in 0..<configuration.nodes where !gone[i] && i != done.node {
            let d = keys[i].distance(to: target)
            if best.count == k, let last = best.last, !(d < last.0) { continue }
            let at = best.firstIndex { d < $0.0 } ?? best.count
            best.insert((d, i), at: at)
            if best.count > k { best.removeLast() }
        }
        let truth = Set(best.map(\.1))
        let found = done.lookup.closestAnswered.compactMap { index[$0.peer] }
        recalls.append(Double(found.filter { truth.contains($0) }.count) / Double(max(1, truth.count)))
        rounds.append(Double(done.lookup.stats.rounds))
        queries.append(Double(done.lookup.stats.queriesSent))
        timeouts.append(Double(done.lookup.stats.timeouts))
        latencies.append(Double(queue.now - started))
        measuredLeft -= 1
    }

    // MARK: - Network

    private mutating func send(_ event: Event, from a: Int, to b: Int) {
        messages += 1
        queue.schedule(event, after: latency(a, b))
    }

    /// The one-way latency between `a` and `b`: fixed per pair, the same both ways.
    private func latency(_ a: Int, _ b: Int) -> UInt64 {
        var z = latencySeed ^ (UInt64(min(a, b)) << 32 | UInt64(max(a, b)))
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        let range = configuration.latencyMillis
        return range.lowerBound + z % (range.upperBound - range.lowerBound + 1)
    }
}
