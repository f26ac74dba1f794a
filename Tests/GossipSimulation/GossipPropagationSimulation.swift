import Gossipsub
import NetworkSimulation
import P2PCrypto
import Wire

/// Propagation at scale (issue 11): `routers` gossipsub routers in one process on a
/// `SimulatedNetwork` with WAN-like links (each link's one-way latency drawn once from
/// `latencyMillis`; each message copy lost with probability `loss`), all on one topic. After
/// the meshes form, `messages` messages are published from random routers, one every
/// `publishIntervalMillis`; the run records, per (message, other router), the time from
/// publish to delivery (the router's validator accepting it), and counts every message copy
/// that reaches a router in an RPC, duplicates included. Deterministic by seed.
public struct GossipPropagationSimulation {
    public struct Configuration: Sendable {
        public var routers = 1000
        /// Links beyond a random spanning tree, per router: about twice this many peers each.
        public var extraLinksPerRouter = 10
        public var latencyMillis: ClosedRange<UInt64> = 20...200
        /// Extra per-message delay on every link (0: none, no reordering).
        public var jitterMillis: UInt64 = 0
        /// Probability that one copy of a message, in one RPC, is lost (control is not lost).
        public var loss = 0.01
        public var messages = 50
        public var publishIntervalMillis: UInt64 = 100
        /// Bytes of application data per message (at least 8: the message's number).
        public var payloadBytes = 100
        /// Heartbeats start at 1 s, staggered over a second; publishing starts after this.
        public var warmUpMillis: UInt64 = 4000
        /// How long the run goes on after the last publish (late copies, IHAVE/IWANT repair).
        public var drainMillis: UInt64 = 5000
        public var seed: UInt64 = 1
        public var topic = "sim"
        public var parameters = GossipsubParameters()

        public init() {}
    }

    /// What a run measured.
    public struct Report: Sendable {
        public let configuration: Configuration
        /// Publish-to-delivery times in milliseconds, one per (message, other router) delivered.
        public let propagationMillis: [Double]
        /// Deliveries expected: messages × (routers − 1).
        public let expectedDeliveries: Int
        /// Message copies that reached routers in RPCs, duplicates included, over all messages.
        public let copiesReceived: Int
        /// Per router and published message: copiesReceived / (routers × messages).
        public let copiesPerMessage: Double
        /// Copies the routers dropped as already seen.
        public let duplicates: Int
        /// Copies the network lost (the `loss` draw).
        public let copiesLost: Int
        public let rpcsSent: Int
        public let messagesRepairedByIWANT: Int
        public let averageDegree: Double
        public let averageMeshSize: Double
        /// When the last delivery happened, after the last publish (ms).
        public let lastDeliveryAfterLastPublishMillis: UInt64
        public let simulatedMillis: UInt64

        public var delivered: Int { propagationMillis.count }
        public var missing: Int { expectedDeliveries - delivered }
        public var percentiles: Percentiles? { Percentiles(propagationMillis) }
    }

    private enum Timer { case heartbeat, publish(message: Int) }

    public let configuration: Configuration
    private var network: SimulatedNetwork<PubsubRPC, Timer>
    private var routers: [GossipsubRouter] = []
    private var peerIDs: [PeerID] = []
    private var index: [PeerID: Int] = [:]
    private var random: SplitMix64
    private var publishedAt: [UInt64] = []
    private var propagation: [Double] = []
    private var copiesReceived = 0
    private var copiesLost = 0
    private var lastDelivery: UInt64 = 0

    public init(_ configuration: Configuration) {
        precondition(configuration.routers >= 2 && configuration.payloadBytes >= 8)
        self.configuration = configuration
        random = SplitMix64(seed: configuration.seed)
        network = SimulatedNetwork(nodeCount: configuration.routers, seed: configuration.seed &* 0x9E37_79B9_7F4A_7C15)
        routers.reserveCapacity(configuration.routers)
        for i in 0..<configuration.routers {
            var seed = [UInt8](repeating: 0, count: 32)
            seed[0] = UInt8(i & 0xff); seed[1] = UInt8((i >> 8) & 0xff); seed[2] = UInt8((i >> 16) & 0xff)
            for b in 0..<8 { seed[8 + b] = UInt8(truncatingIfNeeded: configuration.seed >> (8 * b)) }
            let key = try! Ed25519PrivateKey(seed: seed)
            routers.append(GossipsubRouter(identity: key, parameters: configuration.parameters, seed: random.next(), firstSeqno: 1))
            peerIDs.append(key.publicKey.peerID)
            index[key.publicKey.peerID] = i
        }
        for (a, b) in Topology.randomConnected(nodes: configuration.routers, extraLinksPerNode: configuration.extraLinksPerRouter, using: &random) {
            let latency = UInt64.random(in: configuration.latencyMillis, using: &random)
            network.link(a, b, LinkProfile(latencyMillis: latency, jitterMillis: configuration.jitterMillis, loss: configuration.loss))
        }
    }

    /// Runs the whole scenario and reports.
    public mutating func run() -> Report {
        let c = configuration
        let n = c.routers
        for i in 0..<n { network.schedule(.heartbeat, for: i, at: 1000 + UInt64(i * 1000 / n)) }
        for i in 0..<n { send(from: i, routers[i].subscribe(c.topic, now: 0)) }
        // Every link is a connection: both ends open their pubsub streams (the smaller dials).
        for a in 0..<n {
            for b in network.neighbours(of: a) where a < b {
                send(from: a, routers[a].addPeer(peerIDs[b], protocolID: .meshsub11, outbound: true))
                send(from: b, routers[b].addPeer(peerIDs[a], protocolID: .meshsub11, outbound: false))
            }
        }
        publishedAt = Array(repeating: 0, count: c.messages)
        for m in 0..<c.messages {
            let origin = Int.random(in: 0..<n, using: &random)
            network.schedule(.publish(message: m), for: origin, at: c.warmUpMillis + UInt64(m) * c.publishIntervalMillis)
        }
        let lastPublish = c.warmUpMillis + UInt64(max(0, c.messages - 1)) * c.publishIntervalMillis
        let end = lastPublish + c.drainMillis
        while let event = network.next(until: end) {
            switch event {
            case .delivery(let from, let to, let rpc): receive(rpc, from: from, to: to)
            case .timer(let node, .heartbeat):
                network.schedule(.heartbeat, for: node, after: routers[node].parameters.heartbeatMillis)
                send(from: node, routers[node].heartbeat(now: network.now))
            case .timer(let node, .publish(let m)):
                var data = [UInt8](repeating: 0, count: c.payloadBytes)
                for b in 0..<8 { data[b] = UInt8(truncatingIfNeeded: UInt64(m) >> (8 * b)) }
                publishedAt[m] = network.now
                let (events, _) = try! routers[node].publish(topic: c.topic, data: data, now: network.now)
                send(from: node, events)
            case .scheduled(let timer): preconditionFailure("nothing schedules simulation timers here, yet \(timer) fired")
            }
        }
        let meshSizes = routers.map { $0.meshPeers(c.topic).count }
        return Report(
            configuration: c, propagationMillis: propagation, expectedDeliveries: c.messages * (n - 1),
            copiesReceived: copiesReceived,
            copiesPerMessage: c.messages == 0 ? 0 : Double(copiesReceived) / Double(n * c.messages),
            duplicates: routers.reduce(0) { $0 + $1.counters.duplicates }, copiesLost: copiesLost,
            rpcsSent: network.counters.sent,
            messagesRepairedByIWANT: routers.reduce(0) { $0 + $1.counters.iwantAnswered },
            averageDegree: network.averageDegree,
            averageMeshSize: Double(meshSizes.reduce(0, +)) / Double(n),
            lastDeliveryAfterLastPublishMillis: lastDelivery > lastPublish ? lastDelivery - lastPublish : 0,
            simulatedMillis: network.now)
    }

    private mutating func send(from i: Int, _ events: [RouterEvent]) {
        for event in events {
            guard case .send(let peer, var rpc) = event, let j = index[peer] else { continue }
            if !rpc.publish.isEmpty, configuration.loss > 0 {
                let before = rpc.publish.count
                rpc.publish.removeAll { _ in network.dropsCopy(from: i, to: j) }
                copiesLost += before - rpc.publish.count
                if rpc.publish.isEmpty, rpc.subscriptions.isEmpty, rpc.control == nil { continue }
            }
            network.send(rpc, from: i, to: j, applyingLoss: false)
        }
    }

    private mutating func receive(_ rpc: PubsubRPC, from: Int, to: Int) {
        copiesReceived += rpc.publish.count
        let now = network.now
        var accepted: [Int] = []
        let events = routers[to].receive(rpc, from: peerIDs[from], now: now) { message, _ in
            guard message.data.count >= 8 else { return .reject("not a simulated message") }
            var m: UInt64 = 0
            for b in 0..<8 { m |= UInt64(message.data[b]) << (8 * b) }
            accepted.append(Int(m))
            return .accept
        }
        for m in accepted where m < publishedAt.count {
            propagation.append(Double(now - publishedAt[m]))
            lastDelivery = max(lastDelivery, now)
        }
        send(from: to, events)
    }
}
