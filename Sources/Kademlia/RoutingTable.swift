import Wire

/// The Kademlia routing table (libp2p-wire.md section 8.2): 256 buckets of at most k = 20
/// peers, a peer in bucket `commonPrefixLength(ourKey, KadKey(peer: peer))`. A value type
/// with no I/O: time is passed in as `now` (nanoseconds, any monotonic origin) and the caller
/// does the talking (checking a peer that may be dead, running lookups).
///
/// Only DHT *servers* belong here (section 8.3: peers that list `/ipfs/kad/1.0.0` in
/// identify). The table cannot tell; checking that is the caller's job before `insert`.
///
/// A full bucket prefers the peers it has (they have proved they stay up): a newcomer waits
/// as the bucket's one replacement candidate, the caller checks the least recently seen
/// entry, and `checkResult` either keeps that entry (the candidate is dropped) or evicts it
/// (the candidate goes in). This is rust-libp2p's `KBucket` pending-entry scheme.
///
/// Diversity: at most `maxPeersPerSubnet` peers of one IPv4 /24 or IPv6 /48 in one bucket,
/// judged by the peer's first IP address (`SubnetGroup`; private and loopback ranges exempt).
public struct RoutingTable: Sendable {
    /// k: peers per bucket (section 8.2).
    public static let bucketSize = 20
    public static let bucketCount = KadKey.byteCount * 8
    /// Peers from one /24 (IPv4) or /48 (IPv6) in one bucket (go-libp2p-kbucket's default).
    public static let maxPeersPerSubnet = 2
    /// A replacement candidate not resolved by `checkResult` within this long (ns) may be
    /// displaced by a newer one, so a check the caller lost cannot block a bucket for ever.
    /// 60 s: six times the 10 s query time-out a check would use.
    public static let pendingTimeout: UInt64 = 60_000_000_000

    /// One peer in the table.
    public struct Entry: Sendable, Equatable {
        public let peer: PeerID
        public let key: KadKey
        public internal(set) var addresses: [Multiaddr] { didSet { subnet = SubnetGroup(firstIPOf: addresses) } }
        /// The diversity group of `addresses`, kept so an insert does not re-parse a bucket.
        public private(set) var subnet: SubnetGroup?
        /// When the peer last answered us or asked us something (ns).
        public internal(set) var lastSeen: UInt64

        init(peer: PeerID, key: KadKey, addresses: [Multiaddr], lastSeen: UInt64) {
            self.peer = peer
            self.key = key
            self.addresses = addresses
            self.lastSeen = lastSeen
            subnet = SubnetGroup(firstIPOf: addresses)
        }
    }

    public enum RefusalReason: Equatable, Sendable {
        /// The peer is this node.
        case isSelf
        /// The bucket already holds `maxPeersPerSubnet` peers of this group.
        case subnetFull(SubnetGroup)
        /// The bucket is full and already has a candidate waiting on a check.
        case bucketFull
    }

    public enum InsertResult: Equatable, Sendable {
        case added
        /// Already present: last seen and (when given) addresses refreshed.
        case updated
        /// The bucket is full: the peer waits as its replacement candidate; the caller should
        /// check `check` (the least recently seen entry) and report with `checkResult`.
        case pending(check: PeerID)
        case refused(RefusalReason)
    }

    struct Pending: Sendable {
        var entry: Entry
        /// The entry the caller was asked to check.
        var check: PeerID
        var since: UInt64
    }

    struct Bucket: Sendable {
        var entries: [Entry] = []
        var pending: Pending?
        /// When a lookup for a key in this bucket last finished; nil: never.
        var lastLookup: UInt64?
    }

    public let localPeer: PeerID
    public let localKey: KadKey
    var buckets: [Bucket]
    public private(set) var count = 0
    /// At least the deepest bucket that ever held a peer (it never shrinks), so `closest`
    /// need not visit the hundreds of empty buckets beyond it.
    var deepest = 0

    public init(localPeer: PeerID) {
        self.localPeer = localPeer
        localKey = KadKey(peer: localPeer)
        buckets = Array(repeating: Bucket(), count: Self.bucketCount)
    }

    /// The bucket `key` falls in, or nil for our own key.
    public func bucketIndex(of key: KadKey) -> Int? {
        let cpl = localKey.commonPrefixLength(with: key)
        return cpl < Self.bucketCount ? cpl : nil
    }

    /// Peers in each bucket, index = shared prefix length.
    public var bucketSizes: [Int] { buckets.map(\.entries.count) }

    /// Every entry, nearest buckets last.
    public var entries: [Entry] { buckets.flatMap(\.entries) }

    public func entry(for peer: PeerID) -> Entry? {
        entry(for: peer, key: KadKey(peer: peer))
    }

    public func contains(_ peer: PeerID) -> Bool { entry(for: peer) != nil }

    /// The replacement candidate waiting in `bucket`, if any.
    public func pendingCandidate(inBucket bucket: Int) -> PeerID? { buckets[bucket].pending?.entry.peer }

    // MARK: - Events

    /// Adds `peer` (a DHT server the caller has talked to) or refreshes it. See `InsertResult`.
    public mutating func insert(_ peer: PeerID, addresses: [Multiaddr], now: UInt64) -> InsertResult {
        insert(peer, key: KadKey(peer: peer), addresses: addresses, now: now)
    }

    /// `insert` for a caller that already holds the peer's point (a lookup candidate, an
    /// entry of another table): `key` must be `KadKey(peer: peer)`; passing it skips a
    /// SHA-256, which matters in simulations of thousands of tables.
    public mutating func insert(_ peer: PeerID, key: KadKey, addresses: [Multiaddr], now: UInt64) -> InsertResult {
        guard let b = bucketIndex(of: key), peer != localPeer else { return .refused(.isSelf) }
        if let i = buckets[b].entries.firstIndex(where: { $0.key == key }) {
            buckets[b].entries[i].lastSeen = now
            // New addresses replace the old only if they keep the bucket diverse: otherwise a
            // peer admitted on an exempt address could move into a crowded /24 afterwards.
            if !addresses.isEmpty, addresses != buckets[b].entries[i].addresses,
               subnetAdmits(addresses, bucket: b, excluding: i) == nil {
                buckets[b].entries[i].addresses = addresses
            }
            return .updated
        }
        if let group = subnetAdmits(addresses, bucket: b, excluding: nil) { return .refused(.subnetFull(group)) }
        let entry = Entry(peer: peer, key: key, addresses: addresses, lastSeen: now)
        if buckets[b].entries.count < Self.bucketSize {
            buckets[b].entries.append(entry)
            count += 1
            deepest = max(deepest, b)
            return .added
        }
        if let pending = buckets[b].pending {
            if pending.entry.key == key {
                buckets[b].pending!.entry = entry
                return .pending(check: pending.check)
            }
            guard now >= pending.since + Self.pendingTimeout else { return .refused(.bucketFull) }
        }
        let oldest = buckets[b].entries.min { $0.lastSeen < $1.lastSeen }!
        buckets[b].pending = Pending(entry: entry, check: oldest.peer, since: now)
        return .pending(check: oldest.peer)
    }

    /// The outcome of checking `peer` after `.pending(check: peer)`: alive, it stays (seen now)
    /// and the candidate is dropped; dead, it is evicted and the candidate takes its place
    /// (if the diversity rule still admits it).
    public mutating func checkResult(_ peer: PeerID, alive: Bool, now: UInt64) {
        let key = KadKey(peer: peer)
        guard let b = bucketIndex(of: key) else { return }
        let pending = buckets[b].pending
        if pending?.check == peer { buckets[b].pending = nil }
        if alive {
            seen(peer, key: key, bucket: b, now: now)
            return
        }
        guard let i = buckets[b].entries.firstIndex(where: { $0.key == key }) else { return }
        buckets[b].entries.remove(at: i)
        count -= 1
        if let candidate = pending?.entry, pending?.check == peer,
           subnetAdmits(candidate.addresses, bucket: b, excluding: nil) == nil {
            buckets[b].entries.append(candidate)
            count += 1
            deepest = max(deepest, b)
        }
    }

    /// Forgets `peer` (it turned out not to be a DHT server, or it misbehaved). A waiting
    /// candidate takes its place at once: nothing needs checking any more.
    public mutating func remove(_ peer: PeerID) {
        let key = KadKey(peer: peer)
        guard let b = bucketIndex(of: key) else { return }
        if buckets[b].pending?.entry.key == key {
            buckets[b].pending = nil
            return
        }
        guard let i = buckets[b].entries.firstIndex(where: { $0.key == key }) else { return }
        buckets[b].entries.remove(at: i)
        count -= 1
        if let candidate = buckets[b].pending?.entry {
            buckets[b].pending = nil
            if subnetAdmits(candidate.addresses, bucket: b, excluding: nil) == nil {
                buckets[b].entries.append(candidate)
                count += 1
                deepest = max(deepest, b)
            }
        }
    }

    /// `peer` answered us or asked us something: it is alive now.
    public mutating func seen(_ peer: PeerID, now: UInt64) {
        let key = KadKey(peer: peer)
        guard let b = bucketIndex(of: key) else { return }
        seen(peer, key: key, bucket: b, now: now)
    }

    // MARK: - Queries

    /// The `count` entries closest to `target` by XOR distance, closest first. Visits only the
    /// buckets it needs. With c = commonPrefixLength(local, target), XOR distance orders by
    /// the first bit that differs from the target: peers in bucket c agree with the target on
    /// bit c, so they come first; then peers in buckets above c (they all first differ at bit
    /// c), then bucket c - 1, c - 2, ... down to 0. It sorts one group at a time and stops once
    /// it has `count`: for a random target, usually bucket c alone.
    public func closest(to target: KadKey, count wanted: Int) -> [Entry] {
        guard wanted > 0 else { return [] }
        let c = localKey.commonPrefixLength(with: target)
        // Picks are (distance, bucket, index): plain values, so inserting into the sorted
        // prefix moves no reference counts; the entries are copied out once at the end. (A
        // sort with closures was a third of a debug-build simulation.)
        var picks: [(distance: KadKey, bucket: Int, index: Int)] = []
        picks.reserveCapacity(wanted + 1)
        func take(_ b: Int, floor: Int) {
            let entries = buckets[b].entries
            for i in entries.indices {
                let d = entries[i].key.distance(to: target)
                if picks.count == wanted {
                    guard d < picks[wanted - 1].distance else { continue }
                    picks.removeLast()
                }
                var at = picks.count
                while at > floor && d < picks[at - 1].distance { at -= 1 }
                picks.insert((d, b, i), at: at)
            }
        }
        if c < Self.bucketCount {
            take(c, floor: 0)
            if picks.count < wanted {
                let floor = picks.count
                var b = c + 1
                while b <= deepest {
                    take(b, floor: floor)
                    b += 1
                }
            }
        }
        var b = min(c, Self.bucketCount) - 1
        while picks.count < wanted && b >= 0 {
            take(b, floor: picks.count)
            b -= 1
        }
        return picks.map { buckets[$0.bucket].entries[$0.index] }
    }

    // MARK: - Helpers

    func entry(for peer: PeerID, key: KadKey) -> Entry? {
        guard let b = bucketIndex(of: key) else { return nil }
        return buckets[b].entries.first { $0.key == key }
    }

    mutating func seen(_ peer: PeerID, key: KadKey, bucket b: Int, now: UInt64) {
        if let i = buckets[b].entries.firstIndex(where: { $0.key == key }) { buckets[b].entries[i].lastSeen = now }
    }

    /// nil when a peer with `addresses` may join bucket `b` (entry `excluding` not counted:
    /// the peer itself when its addresses change); else the group that is full.
    func subnetAdmits(_ addresses: [Multiaddr], bucket b: Int, excluding: Int?) -> SubnetGroup? {
        guard let group = SubnetGroup(firstIPOf: addresses) else { return nil }
        var same = 0
        for (i, e) in buckets[b].entries.enumerated() where i != excluding && e.subnet == group {
            same += 1
        }
        return same >= Self.maxPeersPerSubnet ? group : nil
    }
}
