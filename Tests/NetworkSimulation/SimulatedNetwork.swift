import Wire

/// A network of `nodeCount` nodes (numbered from 0) on a simulated clock, generic over what
/// travels on it (`Payload`: an RPC value, a datagram, a chunk of a byte stream) and over the
/// timers its nodes arm (`Timer`). It knows nothing of the nodes themselves: the simulation
/// that owns it calls `send` and `schedule`, and takes `Event`s out with `next(until:)` in time
/// order, handing each to its node. Deterministic by seed: the network draws latencies and
/// losses from its own SplitMix64, apart from whatever the simulation draws.
///
/// Links are symmetric and each has a `LinkProfile` (latency, jitter, loss, ordering).
/// Trouble: a partition cuts links between groups; a node can go down and come back. Either
/// way what is in flight on an affected link is lost, even if the link is back by the time it
/// would have arrived (as a dropped connection loses its buffers), and a down node's timers
/// never fire (a restarted node arms its own).
///
/// ```
/// var net = SimulatedNetwork<MyRPC, MyTimer>(nodeCount: 3, seed: 1)
/// net.link(0, 1, LinkProfile(latencyMillis: 20)); net.link(1, 2, LinkProfile(latencyMillis: 80))
/// net.schedule(.tick, for: 0, at: 1000)
/// _ = net.send(rpc, from: 0, to: 1)
/// while let event = net.next(until: 10_000) {
///     switch event {
///     case .delivery(let from, let to, let rpc): ... nodes[to].receive(rpc, from: from) ... net.send(...)
///     case .timer(let node, let timer): ...
///     case .scheduled(let timer): ...   // the simulation's own script
///     }
/// }
/// ```
///
/// A whole-node simulation (nodes with their connection machines, streams, store) plugs in
/// the same way: `Payload` is a chunk of bytes on one connection (say `(connection: Int,
/// bytes: [UInt8])`), its links `ordered: true` with no loss, as TCP is; each node's
/// outgoing bytes become `send`s, each `.delivery` is fed to the receiving node's connection,
/// each timer the node asks for becomes `schedule(_:for:at:)`. `partition` and `takeDown`
/// return or imply the links that dropped: the simulation tells both ends their connection
/// closed (bytes still in flight on it never arrive) and lets them redial after `heal` or
/// `bringUp`.
public struct SimulatedNetwork<Payload, Timer> {
    public enum Event {
        /// `payload`, sent by `from`, arrives at `to` (the link is up and both ends are).
        case delivery(from: Int, to: Int, Payload)
        /// A timer the node armed is due (the node is up and has not restarted since).
        case timer(node: Int, Timer)
        /// A timer of the simulation itself, tied to no node (scripted writes, restarts,
        /// trouble): it always fires.
        case scheduled(Timer)
    }

    /// What became of one `send`.
    public enum SendOutcome: Equatable {
        /// On its way; it arrives at this time unless the link or an end goes down first.
        case inFlight(arrivesAt: UInt64)
        /// Drawn lost by the link's loss rate.
        case lost
        /// No link, the link is cut, or an end is down.
        case unreachable
    }

    /// Running totals of what the network did.
    public struct Counters: Equatable, Sendable {
        public var sent = 0
        public var delivered = 0
        public var lost = 0
        public var unreachable = 0
        /// Sent while the link was up, but it (or an end) went down before arrival.
        public var droppedInFlight = 0
        public var timersFired = 0
        public var timersDropped = 0
    }

    private enum Pending {
        case delivery(from: Int, to: Int, epoch: UInt64, Payload)
        case timer(node: Int, incarnation: UInt64, Timer)
        case scheduled(Timer)
    }

    /// One direction of a link.
    private struct HalfLink {
        var profile: LinkProfile
        /// Bumped whenever the link is cut or an end goes down: payloads sent before are lost.
        var epoch: UInt64 = 0
        var cut = false
        /// Latest arrival scheduled this way, for ordered links.
        var lastArrival: UInt64 = 0
    }

    public let nodeCount: Int
    private var queue = EventQueue<Pending>()
    private var links: [[Int: HalfLink]]
    private var down: [Bool]
    private var incarnation: [UInt64]
    /// The network's own random source: latencies, jitter, losses.
    public var random: SplitMix64
    public private(set) var counters = Counters()

    public init(nodeCount: Int, seed: UInt64) {
        self.nodeCount = nodeCount
        links = Array(repeating: [:], count: nodeCount)
        down = Array(repeating: false, count: nodeCount)
        incarnation = Array(repeating: 0, count: nodeCount)
        random = SplitMix64(seed: seed)
    }

    /// Simulated milliseconds since the start.
    public var now: UInt64 { queue.now }
    /// Events (deliveries and timers) still to come.
    public var pendingCount: Int { queue.count }

    // MARK: - Topology

    /// Links `a` and `b` both ways with `profile` (replacing the profile of an existing link).
    public mutating func link(_ a: Int, _ b: Int, _ profile: LinkProfile) {
        precondition(a != b, "node \(a) cannot link to itself")
        if links[a][b] == nil {
            links[a][b] = HalfLink(profile: profile)
            links[b][a] = HalfLink(profile: profile)
        } else {
            links[a][b]!.profile = profile
            links[b][a]!.profile = profile
        }
    }

    /// Removes the link between `a` and `b`; what is in flight on it is lost.
    public mutating func unlink(_ a: Int, _ b: Int) {
        links[a][b] = nil
        links[b][a] = nil
    }

    public func hasLink(_ a: Int, _ b: Int) -> Bool { links[a][b] != nil }

    public func profile(_ a: Int, _ b: Int) -> LinkProfile? { links[a][b]?.profile }

    /// Every node `i` has a link to, cut or not, in increasing order.
    public func neighbours(of i: Int) -> [Int] { links[i].keys.sorted() }

    public var linkCount: Int { links.reduce(0) { $0 + $1.count } / 2 }
    public var averageDegree: Double { nodeCount == 0 ? 0 : Double(linkCount * 2) / Double(nodeCount) }

    /// True when a payload sent from `a` to `b` now can arrive: linked, not cut, both up.
    public func isConnected(_ a: Int, _ b: Int) -> Bool {
        guard let half = links[a][b] else { return false }
        return !half.cut && !down[a] && !down[b]
    }

    // MARK: - Trouble

    /// Cuts every link between two different groups (nodes in no group keep their links).
    /// Returns the links newly cut, smaller node first, so the caller can tell both ends
    /// their connection dropped.
    @discardableResult
    public mutating func partition(_ groups: [Set<Int>]) -> [(Int, Int)] {
        var group = [Int?](repeating: nil, count: nodeCount)
        for (g, members) in groups.enumerated() { for i in members { group[i] = g } }
        var newlyCut: [(Int, Int)] = []
        for a in 0..<nodeCount {
            guard let ga = group[a] else { continue }
            for b in links[a].keys.sorted() where a < b {
                guard let gb = group[b], gb != ga, links[a][b]!.cut == false else { continue }
                setCut(a, b, true)
                newlyCut.append((a, b))
            }
        }
        return newlyCut
    }

    /// Restores every cut link; returns them (smaller node first) so the caller can reconnect
    /// their ends. A link to a down node is restored too, and works once the node is up.
    @discardableResult
    public mutating func heal() -> [(Int, Int)] {
        var healed: [(Int, Int)] = []
        for a in 0..<nodeCount {
            for b in links[a].keys.sorted() where a < b && links[a][b]!.cut {
                setCut(a, b, false)
                healed.append((a, b))
            }
        }
        return healed
    }

    /// Cuts or restores one link.
    public mutating func setCut(_ a: Int, _ b: Int, _ cut: Bool) {
        guard links[a][b] != nil else { return }
        links[a][b]!.cut = cut
        links[b][a]!.cut = cut
        if cut { bumpEpoch(a, b) }
    }

    /// Stops node `i`: its links carry nothing, what is in flight to or from it is lost, its
    /// timers are dropped. Returns false if it was already down.
    @discardableResult
    public mutating func takeDown(_ i: Int) -> Bool {
        guard !down[i] else { return false }
        down[i] = true
        incarnation[i] += 1
        for b in links[i].keys { bumpEpoch(i, b) }
        return true
    }

    /// Starts node `i` again (a new incarnation: it arms its timers anew). Returns false if it
    /// was up.
    @discardableResult
    public mutating func bringUp(_ i: Int) -> Bool {
        guard down[i] else { return false }
        down[i] = false
        return true
    }

    public func isUp(_ i: Int) -> Bool { !down[i] }

    private mutating func bumpEpoch(_ a: Int, _ b: Int) {
        links[a][b]!.epoch += 1
        links[b][a]!.epoch += 1
    }

    // MARK: - Traffic and timers

    /// Sends `payload` from `a` to `b`: it arrives after the link's latency and jitter, unless
    /// drawn lost (skipped with `applyingLoss: false`, for a caller that lost parts of the
    /// payload itself with `dropsCopy`) or the link is not connected now.
    @discardableResult
    public mutating func send(_ payload: Payload, from a: Int, to b: Int, applyingLoss: Bool = true) -> SendOutcome {
        guard isConnected(a, b) else {
            counters.unreachable += 1
            return .unreachable
        }
        if applyingLoss, dropsCopy(from: a, to: b) {
            counters.lost += 1
            return .lost
        }
        let half = links[a][b]!
        var arrival = now + half.profile.latencyMillis
        if half.profile.jitterMillis > 0 { arrival += UInt64.random(in: 0...half.profile.jitterMillis, using: &random) }
        // Equal times keep their sending order (the queue's sequence), so max() suffices.
        if half.profile.ordered { arrival = max(arrival, half.lastArrival) }
        links[a][b]!.lastArrival = arrival
        queue.schedule(.delivery(from: a, to: b, epoch: half.epoch, payload), at: arrival)
        counters.sent += 1
        return .inFlight(arrivesAt: arrival)
    }

    /// Draws the link's loss once: true if one copy of something sent from `a` to `b` is lost.
    /// For a simulation that loses parts of a payload (messages inside an RPC) on its own,
    /// before sending the rest without loss through `send`.
    public mutating func dropsCopy(from a: Int, to b: Int) -> Bool {
        guard let loss = links[a][b]?.profile.loss, loss > 0 else { return false }
        return Double.random(in: 0..<1, using: &random) < loss
    }

    /// Arms a timer of node `i`, due at `at`. It fires only if the node is up then and has not
    /// gone down since.
    public mutating func schedule(_ timer: Timer, for i: Int, at: UInt64) {
        queue.schedule(.timer(node: i, incarnation: incarnation[i], timer), at: at)
    }

    public mutating func schedule(_ timer: Timer, for i: Int, after millis: UInt64) {
        schedule(timer, for: i, at: now + millis)
    }

    /// Arms a timer of the simulation itself, due at `at`; it fires whatever the nodes' state.
    public mutating func schedule(_ timer: Timer, at: UInt64) {
        queue.schedule(.scheduled(timer), at: at)
    }

    /// The next delivery or timer due at or before `until`, with the clock moved to its time;
    /// nil, with the clock at `until`, when there is none. Payloads whose link went down on
    /// the way and timers of a node that went down are dropped here, counted, never returned.
    public mutating func next(until: UInt64) -> Event? {
        while let pending = queue.next(until: until) {
            switch pending {
            case .delivery(let from, let to, let epoch, let payload):
                guard let half = links[from][to], half.epoch == epoch, isConnected(from, to) else {
                    counters.droppedInFlight += 1
                    continue
                }
                counters.delivered += 1
                return .delivery(from: from, to: to, payload)
            case .timer(let node, let armedIn, let timer):
                guard !down[node], armedIn == incarnation[node] else {
                    counters.timersDropped += 1
                    continue
                }
                counters.timersFired += 1
                return .timer(node: node, timer)
            case .scheduled(let timer):
                counters.timersFired += 1
                return .scheduled(timer)
            }
        }
        return nil
    }

    /// Moves the clock to `time` (events before it stay due and come out of `next` first).
    public mutating func advance(to time: UInt64) { queue.advance(to: time) }
}
