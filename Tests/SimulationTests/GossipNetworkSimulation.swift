import Gossipsub
import NetworkSimulation
import P2PCrypto
import Reconcile
import SyncStore
import TestSupport
import Wire

/// Many gossipsub routers in one process on a simulated network and clock (DESIGN.md
/// section 8; the network and clock are `NetworkSimulation.SimulatedNetwork`): RPCs travel
/// with a random delay, published copies can be lost, every node keeps a last-writer-wins
/// replica with the store's merge rule (`Version` ordering) and its own hybrid logical
/// clock. Deterministic by seed.
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

    /// What nodes arm (heartbeats, catch-up rounds) and what the script schedules (writes,
    /// restarts).
    enum Timer {
        case heartbeat, reconcile
        case write(node: Int, key: String, value: String?), restart(node: Int)
    }

    let configuration: Configuration
    private(set) var nodes: [Node] = []
    private var network: SimulatedNetwork<PubsubRPC, Timer>
    private var random: SplitMix64
    private var peerIndex: [PeerID: Int] = [:]
    private var peerIDs: [PeerID] = []
    var now: UInt64 { network.now }
    private(set) var delivered = 0
    private(set) var lost = 0
    var rpcs: Int { network.counters.sent }
    /// RPCs that met a cut link or a stopped node, on sending or on the way.
    var dropped: Int { network.counters.unreachable + network.counters.droppedInFlight }
    private(set) var reconciliations = 0
    private(set) var reconciledBytes = 0

    init(_ configuration: Configuration) {
        self.configuration = configuration
        random = SplitMix64(seed: configuration.seed)
        network = SimulatedNetwork(nodeCount: configuration.nodes, seed: configuration.seed ^ 0x5EED_0F_4E7)
        for i in 0..<configuration.nodes {
            let key = try! Ed25519PrivateKey(seed: Self.seedBytes(i, configuration.seed))
            let router = GossipsubRouter(identity: key, seed: random.next(), firstSeqno: 1)
            nodes.append(Node(router: router, origin: key.publicKey.peerID.bytes, skewMillis: UInt64.random(in: 0...500, using: &random)))
            peerIndex[key.publicKey.peerID] = i
            peerIDs.append(key.publicKey.peerID)
        }
        // Every copy of a published message is lost with `messageLoss`; control RPCs are not.
        let profile = LinkProfile(latencyMillis: configuration.minDelayMillis,
                                  jitterMillis: configuration.maxDelayMillis - configuration.minDelayMillis,
                                  loss: configuration.messageLoss)
        for (a, b) in Topology.randomConnected(nodes: configuration.nodes, extraLinksPerNode: configuration.extraLinksPerNode, using: &random) {
            network.link(a, b, profile)
        }
    }

    var averageDegree: Double { network.averageDegree }

    /// Everyone subscribes and meets its neighbours (each side dialed by the smaller index);
    /// heartbeats start, staggered over the first second.
    mutating func start() {
        for i in nodes.indices { network.schedule(.heartbeat, for: i, at: 1000 + UInt64(i * 1000 / nodes.count)) }
        if configuration.reconcileIntervalMillis > 0 {
            for i in nodes.indices {
                network.schedule(.reconcile, for: i, at: UInt64.random(in: 1...configuration.reconcileIntervalMillis, using: &random))
            }
        }
        for i in nodes.indices { send(from: i, nodes[i].router.subscribe(configuration.topic, now: now)) }
        for a in nodes.indices {
            for b in network.neighbours(of: a) where a < b {
                send(from: a, nodes[a].router.addPeer(peerID(b), protocolID: .meshsub11, outbound: true))
                send(from: b, nodes[b].router.addPeer(peerID(a), protocolID: .meshsub11, outbound: false))
            }
        }
    }

    func peerID(_ i: Int) -> PeerID { peerIDs[i] }

    /// A local write on node `i`: versioned by its clock, applied, published.
    mutating func write(at i: Int, key: String, value: String?) {
        guard network.isUp(i) else { return }
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

    /// Cuts every link between the groups (a partition): the connections drop.
    mutating func partition(_ groups: [Set<Int>]) {
        for (a, b) in network.partition(groups) {
            nodes[a].router.removePeer(peerID(b))
            nodes[b].router.removePeer(peerID(a))
        }
    }

    /// Restores every cut link: the nodes meet again and reconcile.
    mutating func heal() {
        for (a, b) in network.heal() where network.isConnected(a, b) { meet(a, b) }
    }

    /// Stops a node (its connections drop; its replica is on disk and survives) and starts
    /// it again after `downMillis` with a fresh router.
    mutating func crash(_ i: Int, downMillis: UInt64) {
        guard network.takeDown(i) else { return }
        for b in network.neighbours(of: i) { nodes[b].router.removePeer(peerID(i)) }
        network.schedule(.restart(node: i), at: now + downMillis)
    }

    private mutating func restart(_ i: Int) {
        guard network.bringUp(i) else { return }
        let key = try! Ed25519PrivateKey(seed: Self.seedBytes(i, configuration.seed))
        nodes[i].router = GossipsubRouter(identity: key, seed: random.next(), firstSeqno: now * 1_000_000)
        // A new incarnation: its timers went down with it.
        network.schedule(.heartbeat, for: i, after: nodes[i].router.parameters.heartbeatMillis)
        if configuration.reconcileIntervalMillis > 0 { network.schedule(.reconcile, for: i, after: configuration.reconcileIntervalMillis) }
        send(from: i, nodes[i].router.subscribe(configuration.topic, now: now))
        for b in network.neighbours(of: i) where network.isConnected(i, b) { meet(i, b) }
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
            if !rpc.publish.isEmpty, network.isConnected(i, j) {
                let before = rpc.publish.count
                rpc.publish.removeAll { _ in network.dropsCopy(from: i, to: j) }
                lost += before - rpc.publish.count
            }
            network.send(rpc, from: i, to: j, applyingLoss: false)
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
        for w in writes { network.schedule(.write(node: w.node, key: w.key, value: w.value), at: w.at) }
    }

    /// Runs the network up to time `until`.
    mutating func run(until: UInt64) {
        while let event = network.next(until: until) {
            switch event {
            case .delivery(let from, let to, let rpc): receive(rpc, from: from, to: to)
            case .timer(let node, .heartbeat):
                network.schedule(.heartbeat, for: node, after: nodes[node].router.parameters.heartbeatMillis)
                send(from: node, nodes[node].router.heartbeat(now: now))
            case .timer(let node, .reconcile):
                network.schedule(.reconcile, for: node, after: configuration.reconcileIntervalMillis)
                let neighbours = network.neighbours(of: node).filter { network.isConnected(node, $0) }
                if let other = neighbours.randomElement(using: &random) { reconcile(node, other) }
            case .scheduled(.restart(let node)): restart(node)
            case .scheduled(.write(let node, let key, let value)): write(at: node, key: key, value: value)
            case .timer, .scheduled: preconditionFailure("timer \(event) armed in the wrong place")
            }
        }
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
