import Gossipsub
import P2PCrypto
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
    }

    struct Node {
        var router: GossipsubRouter
        var clock = HybridClock()
        var replica: [String: (value: String?, version: Version)] = [:]
        let origin: [UInt8]
        /// Wall clock skew of this node, so HLCs matter.
        let skewMillis: UInt64
    }

    /// Something that happens at a simulated time: an RPC arriving, a write, a heartbeat.
    struct InFlight: Comparable {
        enum Kind { case rpc(from: Int, to: Int, PubsubRPC), write(node: Int, key: String, value: String?), heartbeat(node: Int) }
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

    init(_ configuration: Configuration) {
        self.configuration = configuration
        random = SeededRandom(seed: configuration.seed)
        for i in 0..<configuration.nodes {
            var seed = [UInt8](repeating: 0, count: 32)
            seed[0] = UInt8(i & 0xff); seed[1] = UInt8(i >> 8); seed[2] = UInt8(truncatingIfNeeded: configuration.seed)
            let key = try! Ed25519PrivateKey(seed: seed)
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
        let wall = now + nodes[i].skewMillis + 1_700_000_000_000
        let version = Version(hlc: nodes[i].clock.tick(wallMillis: wall), origin: nodes[i].origin)
        merge(into: i, key: key, value: value, version: version)
        let payload = "\(key)\u{1}\(value ?? "\u{0}")\u{1}\(version.hlc)"
        let (events, _) = try! nodes[i].router.publish(topic: configuration.topic, data: Array(payload.utf8), now: now)
        send(from: i, events)
    }

    private mutating func merge(into i: Int, key: String, value: String?, version: Version) {
        if let current = nodes[i].replica[key], current.version >= version { return }
        nodes[i].replica[key] = (value, version)
    }

    private mutating func send(from i: Int, _ events: [RouterEvent]) {
        for event in events {
            guard case .send(let peer, var rpc) = event, let j = peerIndex[peer] else { continue }
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
            case .rpc(let from, let to, let rpc): receive(rpc, from: from, to: to)
            case .write(let node, let key, let value): write(at: node, key: key, value: value)
            case .heartbeat(let node):
                schedule(.heartbeat(node: node), at: now + nodes[node].router.parameters.heartbeatMillis)
                send(from: node, nodes[node].router.heartbeat(now: now))
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
