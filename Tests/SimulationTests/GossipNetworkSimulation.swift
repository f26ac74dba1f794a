import Gossipsub
import P2PCrypto
import Reconcile
import SyncStore
import TestSupport
import Wire

/// Many gossipsub routers in one process on a simulated network and clock (DESIGN.md
/// section 7): RPCs travel with a random delay, published copies can be lost, every node
/// keeps a last-writer-wins replica with the store's merge rule (`Version` ordering) and its
/// own hybrid logical clock. Deterministic by seed.
struct GossipNetworkSimulation {
    struct Configuration {
        var nodes = 100
        /// Links beyond a random spanning tree: the graph stays connected and sparse.
        var extraLinksPerNode = 5
        var writes = 1000
        var keys = 50
        /// Writes happen at random times in this window, from random nodes.
        var writeWindowMillis: UInt64 = 10_000
        /// Probability that one copy of a published message is lost in transit.
        var messageLoss = 0.10
        var minDelayMillis: UInt64 = 2
        var maxDelayMillis: UInt64 = 40
        var seed: UInt64 = 1
        var topic = "sim"
        /// Catch-up: every node reconciles with a random neighbour this often (0: never), and
        /// with each neighbour it meets again after a partition or a restart.
        var reconcileIntervalMillis: UInt64 = 0
    }

    struct Node {
        var router: GossipsubRouter
        var clock = HybridClock()
        var replica: [String: Entry] = [:]
        let origin: [UInt8]
        /// Wall clock skew of this node, so HLCs matter.
        let skewMillis: UInt64
    }

    /// Something that happens at a simulated time: an RPC arriving, a write, a heartbeat.
    struct InFlight: Comparable {
        enum Kind {
            case rpc(from: Int, to: Int, PubsubRPC), write(node: Int, key: String, value: String?), heartbeat(node: Int)
            case reconcile(node: Int), restart(node: Int)
        }
        let at: UInt64
        let sequence: Int
        let kind: Kind
        static func < (a: InFlight, b: InFlight) -> Bool { (a.at, a.sequence) < (b.at, b.sequence) }
        static func == (a: InFlight, b: InFlight) -> Bool { a.sequence == b.sequence }
    }

    let configuration: Configuration
    private(set) var nodes: [Node] = []
    private(set) var links: [Set<Int>] = []
    private var random: SeededRandom
    private var queue = MinHeap<InFlight>()
    private var sequence = 0
    private var peerIndex: [PeerID: Int] = [:]
    private var peerIDs: [PeerID] = []
    private(set) var now: UInt64 = 0
    private(set) var delivered = 0
    private(set) var lost = 0
    private(set) var rpcs = 0
    /// RPCs that met a cut link or a stopped node.
    private(set) var dropped = 0
    private(set) var reconciliations = 0
    private(set) var reconciledBytes = 0
    /// Links cut by a partition (smaller index first) and nodes that are stopped.
    private(set) var cut: Set<[Int]> = []
    private(set) var down: Set<Int> = []

    init(_ configuration: Configuration) {
        self.configuration = configuration
        random = SeededRandom(seed: configuration.seed)
        for i in 0..<configuration.nodes {
            let key = try! Ed25519PrivateKey(seed: Self.seedBytes(i, configuration.seed))
            let router = GossipsubRouter(identity: key, seed: random.next(), firstSeqno: 1)
            nodes.append(Node(router: router, origin: key.publicKey.peerID.bytes, skewMillis: UInt64.random(in: 0...500, using: &random)))
            peerIndex[key.publicKey.peerID] = i
            peerIDs.append(key.publicKey.peerID)
        }
        links = Array(repeating: [], count: configuration.nodes)
        // A random spanning tree (each node links to a random earlier one), then random extras.
        for i in 1..<configuration.nodes { link(i, Int.random(in: 0..<i, using: &random)) }
        for i in 0..<configuration.nodes {
            for _ in 0..<configuration.extraLinksPerNode {
                let j = Int.random(in: 0..<configuration.nodes, using: &random)
                if j != i { link(i, j) }
            }
        }
    }

    private mutating func link(_ a: Int, _ b: Int) {
        links[a].insert(b)
        links[b].insert(a)
    }

    var averageDegree: Double { Double(links.map(\.count).reduce(0, +)) / Double(links.count) }

    /// Everyone subscribes and meets its neighbours (each side dialed by the smaller index);
    /// heartbeats start, staggered over the first second.
    mutating func start() {
        for i in nodes.indices { schedule(.heartbeat(node: i), at: 1000 + UInt64(i * 1000 / nodes.count)) }
        if configuration.reconcileIntervalMillis > 0 {
            for i in nodes.indices {
                schedule(.reconcile(node: i), at: UInt64.random(in: 1...configuration.reconcileIntervalMillis, using: &random))
            }
        }
        for i in nodes.indices { send(from: i, nodes[i].router.subscribe(configuration.topic, now: now)) }
        for a in nodes.indices {
            for b in links[a].sorted() where a < b {
                send(from: a, nodes[a].router.addPeer(peerID(b), protocolID: .meshsub11, outbound: true))
                send(from: b, nodes[b].router.addPeer(peerID(a), protocolID: .meshsub11, outbound: false))
            }
        }
    }

    func peerID(_ i: Int) -> PeerID { peerIDs[i] }

    private mutating func schedule(_ kind: InFlight.Kind, at: UInt64) {
        sequence += 1
        queue.push(InFlight(at: at, sequence: sequence, kind: kind))
    }

    /// A local write on node `i`: versioned by its clock, applied, published.
    mutating func write(at i: Int, key: String, value: String?) {
        guard !down.contains(i) else { return }
        let wall = now + nodes[i].skewMillis + 1_700_000_000_000
        let version = Version(hlc: nodes[i].clock.tick(wallMillis: wall), origin: nodes[i].origin)
        merge(into: i, key: key, value: value, version: version)
        let payload = "\(key)\u{1}\(value ?? "\u{0}")\u{1}\(version.hlc)"
        let (events, _) = try! nodes[i].router.publish(topic: configuration.topic, data: Array(payload.utf8), now: now)
        send(from: i, events)
    }

    private mutating func merge(into i: Int, key: String, value: String?, version: Version) {
        ReconcileLoopback.merge([Entry(key: key, value: value, version: version)], into: &nodes[i].replica)
    }

    private func linked(_ a: Int, _ b: Int) -> Bool {
        links[a].contains(b) && !cut.contains([min(a, b), max(a, b)]) && !down.contains(a) && !down.contains(b)
    }

    /// Cuts every link between the groups (a partition): the connections drop.
    mutating func partition(_ groups: [Set<Int>]) {
        for (g, group) in groups.enumerated() {
            for a in group {
                for b in links[a] where !group.contains(b) && groups[(g + 1)...].contains(where: { $0.contains(b) }) {
                    guard cut.insert([min(a, b), max(a, b)]).inserted else { continue }
                    nodes[a].router.removePeer(peerID(b))
                    nodes[b].router.removePeer(peerID(a))
                }
            }
        }
    }

    /// Restores every cut link: the nodes meet again and reconcile.
    mutating func heal() {
        let healed = cut.sorted { ($0[0], $0[1]) < ($1[0], $1[1]) }
        cut.removeAll()
        for pair in healed where !down.contains(pair[0]) && !down.contains(pair[1]) { meet(pair[0], pair[1]) }
    }

    /// Stops a node (its connections drop; its replica is on disk and survives) and starts
    /// it again after `downMillis` with a fresh router.
    mutating func crash(_ i: Int, downMillis: UInt64) {
        guard down.insert(i).inserted else { return }
        for b in links[i] { nodes[b].router.removePeer(peerID(i)) }
        schedule(.restart(node: i), at: now + downMillis)
    }

    private mutating func restart(_ i: Int) {
        guard down.remove(i) != nil else { return }
        let key = try! Ed25519PrivateKey(seed: Self.seedBytes(i, configuration.seed))
        nodes[i].router = GossipsubRouter(identity: key, seed: random.next(), firstSeqno: now * 1_000_000)
        send(from: i, nodes[i].router.subscribe(configuration.topic, now: now))
        for b in links[i].sorted() where linked(i, b) { meet(i, b) }
    }

    private static func seedBytes(_ i: Int, _ runSeed: UInt64) -> [UInt8] {
        var seed = [UInt8](repeating: 0, count: 32)
        seed[0] = UInt8(i & 0xff); seed[1] = UInt8(i >> 8); seed[2] = UInt8(truncatingIfNeeded: runSeed)
        return seed
    }

    /// Two nodes connect: pubsub greetings, then catch-up between them.
    private mutating func meet(_ a: Int, _ b: Int) {
        send(from: a, nodes[a].router.addPeer(peerID(b), protocolID: .meshsub11, outbound: true))
        send(from: b, nodes[b].router.addPeer(peerID(a), protocolID: .meshsub11, outbound: false))
        if configuration.reconcileIntervalMillis > 0 { reconcile(a, b) }
    }

    /// One reconciliation, run to the end at once (its few round trips are short next to a heartbeat).
    private mutating func reconcile(_ a: Int, _ b: Int) {
        var loopback = ReconcileLoopback()
        var replicaA = nodes[a].replica, replicaB = nodes[b].replica
        _ = try! loopback.run(&replicaA, &replicaB, hash: SHA256.hash)
        nodes[a].replica = replicaA
        nodes[b].replica = replicaB
        reconciliations += 1
        reconciledBytes += loopback.bytes
    }

    private mutating func send(from i: Int, _ events: [RouterEvent]) {
        for event in events {
            guard case .send(let peer, var rpc) = event, let j = peerIndex[peer] else { continue }
            guard linked(i, j) else { dropped += 1; continue }
            if !rpc.publish.isEmpty, configuration.messageLoss > 0 {
                let before = rpc.publish.count
                rpc.publish.removeAll { _ in Double.random(in: 0..<1, using: &random) < configuration.messageLoss }
                lost += before - rpc.publish.count
            }
            let delay = UInt64.random(in: configuration.minDelayMillis...configuration.maxDelayMillis, using: &random)
            schedule(.rpc(from: i, to: j, rpc), at: now + delay)
            rpcs += 1
        }
    }

    private mutating func receive(_ rpc: PubsubRPC, from sender: Int, to: Int) {
        let from = peerID(sender)
        var accepted: [(String, String?, Version)] = []
        var clock = nodes[to].clock
        let wall = now + nodes[to].skewMillis + 1_700_000_000_000
        let events = nodes[to].router.receive(rpc, from: from, now: now) { message, author in
            let parts = String(decoding: message.data, as: UTF8.self).split(separator: "\u{1}", omittingEmptySubsequences: false)
            guard parts.count == 3, let hlc = HLC(String(parts[2])) else { return .reject("not a simulated write") }
            do { try clock.observe(hlc, wallMillis: wall) } catch { return .reject("\(error)") }
            let value = parts[1] == "\u{0}" ? nil : String(parts[1])
            accepted.append((String(parts[0]), value, Version(hlc: hlc, origin: author.bytes)))
            return .accept
        }
        nodes[to].clock = clock
        for (key, value, version) in accepted { merge(into: to, key: key, value: value, version: version) }
        delivered += accepted.count
        send(from: to, events)
    }

    /// Queues writes (time, node, key, value; nil deletes).
    mutating func scheduleWrites(_ writes: [(at: UInt64, node: Int, key: String, value: String?)]) {
        for w in writes { schedule(.write(node: w.node, key: w.key, value: w.value), at: w.at) }
    }

    /// Runs the network up to time `until`.
    mutating func run(until: UInt64) {
        while let next = queue.peek, next.at <= until {
            _ = queue.pop()
            now = next.at
            switch next.kind {
            case .rpc(let from, let to, let rpc):
                // A link cut or a node stopped while the RPC was on its way: it is lost.
                if linked(from, to) { receive(rpc, from: from, to: to) } else { dropped += 1 }
            case .reconcile(let node):
                schedule(.reconcile(node: node), at: now + configuration.reconcileIntervalMillis)
                let neighbours = links[node].sorted().filter { linked(node, $0) }
                if let other = neighbours.randomElement(using: &random) { reconcile(node, other) }
            case .restart(let node): restart(node)
            case .write(let node, let key, let value): write(at: node, key: key, value: value)
            case .heartbeat(let node):
                schedule(.heartbeat(node: node), at: now + nodes[node].router.parameters.heartbeatMillis)
                if !down.contains(node) { send(from: node, nodes[node].router.heartbeat(now: now)) }
            }
        }
        now = until
    }

    /// The random writes of the configuration, in time order; one in ten is a delete.
    mutating func writeSchedule() -> [(at: UInt64, node: Int, key: String, value: String?)] {
        var writes: [(at: UInt64, node: Int, key: String, value: String?)] = []
        for n in 0..<configuration.writes {
            let at = 3000 + UInt64.random(in: 0..<configuration.writeWindowMillis, using: &random)
            let node = Int.random(in: 0..<nodes.count, using: &random)
            let key = "key-\(Int.random(in: 0..<configuration.keys, using: &random))"
            let value: String? = Int.random(in: 0..<10, using: &random) == 0 ? nil : "v\(n)@\(node)"
            writes.append((at, node, key, value))
        }
        return writes.sorted { $0.at < $1.at }
    }

    /// True when every replica holds the same versions for the same keys.
    var converged: Bool {
        let first = nodes[0].replica.mapValues(\.version)
        return nodes.allSatisfy { $0.replica.mapValues(\.version) == first }
    }

    func replicasDiffering() -> Int {
        let first = nodes[0].replica.mapValues(\.version)
        return nodes.filter { $0.replica.mapValues(\.version) != first }.count
    }
}

/// A binary min-heap for the simulated network's in-flight RPCs.
struct MinHeap<Element: Comparable> {
    private var items: [Element] = []
    var peek: Element? { items.first }
    var count: Int { items.count }

    mutating func push(_ e: Element) {
        items.append(e)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[i] < items[parent] else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> Element? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < items.count, items[l] < items[m] { m = l }
            if r < items.count, items[r] < items[m] { m = r }
            if m == i { break }
            items.swapAt(i, m)
            i = m
        }
        return top
    }
}
