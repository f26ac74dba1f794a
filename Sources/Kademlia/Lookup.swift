import Wire

/// One iterative Kademlia lookup (libp2p-wire.md section 8.2), modelled on rust-libp2p's
/// `ClosestPeersIter`: keep the candidates sorted by XOR distance to the target, ask the
/// closest not yet asked, at most α at a time, merge the closer peers each answer names, and
/// stop when the k closest candidates not known to be dead have all answered.
///
/// ```
/// caller                         Lookup
///   nextQueries(now) ----------> up to α candidates, marked in flight
///   FIND_NODE to each ...
///   received(from:closerPeers:)  merges peers, frees the slot
///   failed(peer:now:)            drops the peer, frees the slot
///   timerFired(now) ------------ a query past `queryTimeout` frees its slot (a late answer
///                                still counts); past the overall deadline the lookup ends
///   ... until isFinished; closestAnswered is the result
/// ```
///
/// A value type with no I/O: time is `now` in nanoseconds, passed in. Two limits keep a
/// hostile peer from holding it open: a budget of `maxQueries` queries, and an overall
/// `timeout`; and memory stays bounded by keeping only the `maxCandidates` closest
/// candidates and remembering the seeds and at most k peer IDs per answer (budget × k).
///
/// Unlike rust, α is a hard bound: rust lets a stalled lookup (answers with no closer peer)
/// widen to k queries in flight; we keep α and rely on time-outs freeing slots.
public struct Lookup: Sendable {
    public struct Parameters: Sendable, Equatable {
        /// k: how many closest peers the lookup wants answers from (section 8.2).
        public var k = 20
        /// α: queries in flight at once (rust's `ALPHA_VALUE`).
        public var alpha = 3
        /// A query unanswered this long (ns) stops taking an α slot (go's 10 s).
        public var queryTimeout: UInt64 = 10_000_000_000
        /// The whole lookup ends this long (ns) after it starts, whatever is in flight.
        public var timeout: UInt64 = 60_000_000_000
        /// Queries sent at most. A healthy lookup in a 10,000-node network sends a few dozen
        /// (p2p-sync-sim dht); 120 leaves room for dead peers and stops a peer that answers
        /// every query with fresh, ever closer made-up peers.
        public var maxQueries = 120
        /// Candidates kept (the closest): 10 × k.
        public var maxCandidates = 200

        public init() {}
    }

    /// A peer to ask: its ID, point and addresses.
    public struct Candidate: Sendable, Equatable {
        public let peer: PeerID
        public let key: KadKey
        public let addresses: [Multiaddr]

        /// `key` must be `KadKey(peer: peer)` (a caller that already has it saves a SHA-256).
        public init(peer: PeerID, key: KadKey, addresses: [Multiaddr]) {
            self.peer = peer
            self.key = key
            self.addresses = addresses
        }

        public init(peer: PeerID, addresses: [Multiaddr]) {
            self.init(peer: peer, key: KadKey(peer: peer), addresses: addresses)
        }

        public init(_ entry: RoutingTable.Entry) {
            self.init(peer: entry.peer, key: entry.key, addresses: entry.addresses)
        }
    }

    /// Counts for reports and tests.
    public struct Stats: Sendable, Equatable {
        public var queriesSent = 0
        public var answers = 0
        public var failures = 0
        /// Queries that passed `queryTimeout` without an answer by then.
        public var timeouts = 0
        /// The longest chain of answers: 1 when only seeds answered, 2 when a peer a seed named
        /// answered, and so on (the hop depth the lookup reached).
        public var rounds = 0
    }

    enum State: Sendable, Equatable {
        case notContacted
        case waiting(since: UInt64)
        /// Past its time-out: no longer holds a slot; an answer still counts.
        case unresponsive
        case answered
        case failed
    }

    struct Slot: Sendable {
        var candidate: Candidate
        var distance: KadKey
        var state: State
        /// Answers between the seeds and this peer: 0 for a seed.
        var depth: Int
    }

    public let parameters: Parameters
    /// The key bytes asked for (a FIND_NODE `key`).
    public let target: [UInt8]
    public let targetKey: KadKey
    public let localPeer: PeerID
    /// Our point: comparing points is cheaper than comparing peer IDs byte by byte.
    private let localKey: KadKey
    public let startedAt: UInt64
    public private(set) var stats = Stats()
    public private(set) var isFinished = false
    /// Sorted by distance to the target, closest first; at most `maxCandidates`.
    private(set) var slots: [Slot] = []
    /// Every peer ever added, with its point, so a dropped or failed peer is not added again
    /// and an answer finds its slot by binary search.
    private var known: [PeerID: KadKey] = [:]
    /// Queries holding an α slot and when each was sent: at most α, so time-outs and the
    /// deadline are found without walking every candidate.
    private var waiting: [(peer: PeerID, since: UInt64)] = []
    private var inFlight: Int { waiting.count }

    /// A lookup for key bytes `target` (hashed to find its point), starting from `seeds`
    /// (normally `table.closest(to: targetKey, count: k)`).
    public init(target: [UInt8], localPeer: PeerID, seeds: [Candidate], parameters: Parameters = Parameters(), now: UInt64) {
        self.init(target: target, targetKey: KadKey(hashing: target), localPeer: localPeer, seeds: seeds,
                  parameters: parameters, now: now)
    }

    /// A lookup for a point chosen directly, with `target` the bytes to send (a simulation
    /// whose servers answer for points may pass none).
    public init(target: [UInt8], targetKey: KadKey, localPeer: PeerID, seeds: [Candidate],
                parameters: Parameters = Parameters(), now: UInt64) {
        precondition(parameters.k > 0 && parameters.alpha > 0 && parameters.maxCandidates >= parameters.k,
                     "lookup parameters need k > 0, α > 0, maxCandidates ≥ k: \(parameters)")
        self.parameters = parameters
        self.target = target
        self.targetKey = targetKey
        self.localPeer = localPeer
        localKey = KadKey(peer: localPeer)
        startedAt = now
        add(seeds[...], depth: 0)
        evaluate(now: now)
    }

    // MARK: - Events

    /// The peers to ask now (up to α minus those in flight), each marked in flight. Empty
    /// when finished, when α queries are out, or when the budget is spent.
    public mutating func nextQueries(now: UInt64) -> [Candidate] {
        expire(now: now)
        guard !isFinished else { return [] }
        var out: [Candidate] = []
        for i in slots.indices where slots[i].state == .notContacted {
            guard inFlight < parameters.alpha, stats.queriesSent < parameters.maxQueries else { break }
            slots[i].state = .waiting(since: now)
            waiting.append((slots[i].candidate.peer, now))
            stats.queriesSent += 1
            out.append(slots[i].candidate)
        }
        evaluate(now: now)
        return out
    }

    /// `peer` answered with `closerPeers` (ID and addresses each). Hashes each peer ID once.
    public mutating func received(from peer: PeerID, closerPeers: [(PeerID, [Multiaddr])], now: UInt64) {
        received(from: peer, closer: closerPeers.map { Candidate(peer: $0.0, addresses: $0.1) }, now: now)
    }

    /// `received` with the points already computed (see `Candidate.init(peer:key:addresses:)`).
    /// An answer from a peer we never asked, or after the end, changes nothing.
    public mutating func received(from peer: PeerID, closer: [Candidate], now: UInt64) {
        guard !isFinished, let i = slotIndex(of: peer) else { return }
        switch slots[i].state {
        case .waiting: release(peer)
        case .unresponsive: break
        case .notContacted, .answered, .failed: return
        }
        slots[i].state = .answered
        stats.answers += 1
        let depth = slots[i].depth + 1
        stats.rounds = max(stats.rounds, depth)
        // An answer names k peers; more is a peer inflating our memory: the first k are used.
        add(closer.prefix(parameters.k), depth: depth)
        evaluate(now: now)
    }

    /// The query to `peer` failed (could not dial, stream reset, bad answer): it is dropped
    /// from the result and its slot freed.
    public mutating func failed(peer: PeerID, now: UInt64) {
        guard !isFinished, let i = slotIndex(of: peer) else { return }
        switch slots[i].state {
        case .waiting: release(peer)
        case .unresponsive: break
        case .notContacted, .answered, .failed: return
        }
        slots[i].state = .failed
        stats.failures += 1
        evaluate(now: now)
    }

    /// Time passed: queries past their time-out free their slots; past the overall deadline
    /// the lookup ends. Call `nextQueries` afterwards. Returns the peers that just timed out,
    /// for a caller that drops unresponsive peers from its routing table (go removes a peer
    /// whose query failed; rust marks it disconnected, so a pending candidate replaces it).
    @discardableResult
    public mutating func timerFired(now: UInt64) -> [PeerID] {
        let expired = expire(now: now)
        evaluate(now: now)
        return expired
    }

    /// The caller found what it wanted (the target peer itself, a record): end now.
    public mutating func stop() { isFinished = true }

    /// When `timerFired` should next be called: the earliest query time-out or the overall
    /// deadline; nil once finished.
    public var deadline: UInt64? {
        guard !isFinished else { return nil }
        var earliest = startedAt + parameters.timeout
        for w in waiting { earliest = min(earliest, w.since + parameters.queryTimeout) }
        return earliest
    }

    /// Queries in flight that still hold an α slot.
    public var queriesInFlight: Int { inFlight }

    /// The result: the (at most) k closest candidates that answered, closest first.
    public var closestAnswered: [Candidate] {
        var out: [Candidate] = []
        for slot in slots where slot.state == .answered {
            out.append(slot.candidate)
            if out.count == parameters.k { break }
        }
        return out
    }

    // MARK: - Helpers

    /// The first slot not closer than `distance`.
    private func firstSlot(notCloserThan distance: KadKey) -> Int {
        var lo = 0, hi = slots.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if slots[mid].distance < distance { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The slot of `peer`, if it is still among the candidates kept. Distinct points are at
    /// distinct distances from the target (XOR is a bijection), so the search is exact.
    private func slotIndex(of peer: PeerID) -> Int? {
        guard let key = known[peer] else { return nil }
        let distance = key.distance(to: targetKey)
        // Equal distances only if a caller passed a wrong point for some peer: look past them.
        var i = firstSlot(notCloserThan: distance)
        while i < slots.count && slots[i].distance == distance {
            if slots[i].candidate.peer == peer { return i }
            i += 1
        }
        return nil
    }

    private mutating func add(_ candidates: ArraySlice<Candidate>, depth: Int) {
        for c in candidates where c.key != localKey {
            guard known.updateValue(c.key, forKey: c.peer) == nil else { continue }
            let distance = c.key.distance(to: targetKey)
            let lo = firstSlot(notCloserThan: distance)
            guard lo < parameters.maxCandidates else { continue }
            slots.insert(Slot(candidate: c, distance: distance, state: .notContacted, depth: depth), at: lo)
            if slots.count > parameters.maxCandidates {
                // The farthest goes; if it was in flight its slot is free again (its answer,
                // should it come, is ignored).
                let dropped = slots.removeLast()
                if case .waiting = dropped.state { release(dropped.candidate.peer) }
            }
        }
    }

    /// Frees the α slot of `peer`.
    private mutating func release(_ peer: PeerID) {
        if let w = waiting.firstIndex(where: { $0.peer == peer }) { waiting.remove(at: w) }
    }

    /// Marks queries past their time-out unresponsive; returns their peers.
    @discardableResult
    private mutating func expire(now: UInt64) -> [PeerID] {
        var expired: [PeerID] = []
        waiting.removeAll { w in
            guard now >= w.since + parameters.queryTimeout else { return false }
            expired.append(w.peer)
            return true
        }
        for peer in expired {
            if let i = slotIndex(of: peer) { slots[i].state = .unresponsive }
            stats.timeouts += 1
        }
        return expired
    }

    /// Ends the lookup when its work is done (rust's termination rule, with our budget and
    /// deadline): walking candidates closest first, skipping dead ones, k answers before any
    /// candidate still to ask or in flight; or nothing left to ask and nothing in flight.
    private mutating func evaluate(now: UInt64) {
        guard !isFinished else { return }
        if now >= startedAt + parameters.timeout {
            isFinished = true
            return
        }
        let canAsk = stats.queriesSent < parameters.maxQueries
        var answered = 0
        var undecided = false
        for slot in slots {
            switch slot.state {
            case .answered:
                answered += 1
                if answered >= parameters.k {
                    isFinished = true
                    return
                }
            case .waiting:
                undecided = true
            case .notContacted:
                if canAsk { undecided = true }
            case .unresponsive, .failed:
                continue
            }
            if undecided { break }
        }
        if !undecided && inFlight == 0 { isFinished = true }
    }
}
