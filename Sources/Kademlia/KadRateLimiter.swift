import Wire

/// A token bucket per peer, kept as one number each (GCRA, the "virtual scheduling" form of a
/// token bucket): `theoretical` is when the bucket would be full again. A request at `now` is
/// allowed when `theoretical - now` is within the burst, and moves `theoretical` on by one
/// interval. A peer whose bucket is full (`theoretical <= now`) is indistinguishable from a new
/// one, so its entry can be forgotten at no cost: that is how the table stays bounded.
public struct KadRateLimiter: Sendable {
    /// Sustained requests per second per peer.
    public let ratePerSecond: UInt64
    /// Requests a quiet peer may send at once.
    public let burst: UInt64
    /// Peers tracked at once; past it, idle entries are pruned, then the least recently used.
    public let maxTrackedPeers: Int

    private var theoretical: [PeerID: UInt64] = [:]

    public init(ratePerSecond: UInt64 = 10, burst: UInt64 = 50, maxTrackedPeers: Int = 1024) {
        precondition(ratePerSecond > 0 && burst > 0 && maxTrackedPeers > 0, "a rate limiter needs a positive rate, burst and table")
        self.ratePerSecond = ratePerSecond
        self.burst = burst
        self.maxTrackedPeers = maxTrackedPeers
    }

    private var interval: UInt64 { 1_000_000_000 / ratePerSecond }
    /// How far ahead of `now` the schedule may run: the burst, less the request being decided.
    private var tolerance: UInt64 { (burst - 1) * interval }

    public var trackedPeers: Int { theoretical.count }

    /// Takes one token for `peer`; false (and nothing taken) when its bucket is empty.
    public mutating func allow(_ peer: PeerID, now: UInt64) -> Bool {
        let tat = max(theoretical[peer] ?? now, now)
        guard tat - now <= tolerance else { return false }
        if theoretical[peer] == nil && theoretical.count >= maxTrackedPeers { makeRoom(now: now) }
        theoretical[peer] = tat + interval
        return true
    }

    /// Drops full buckets; if none is full, the one that refills soonest (the least recently
    /// busy). Only runs when the table is full, so its linear scan is paid by new peers only.
    private mutating func makeRoom(now: UInt64) {
        theoretical = theoretical.filter { $0.value > now }
        guard theoretical.count >= maxTrackedPeers,
              let soonest = theoretical.min(by: { ($0.value, $0.key) < ($1.value, $1.key) }) else { return }
        theoretical[soonest.key] = nil
    }
}
