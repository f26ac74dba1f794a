import P2PCrypto
import Wire

/// Bucket refresh (libp2p-wire.md section 8.3, bootstrap steps 3 and 4): a bucket no lookup
/// has touched for a while gets a lookup of a random key that falls in it, which fills it
/// with live peers and shows which of its entries are dead.
extension RoutingTable {
    /// go and py refresh every 10 minutes (rust every 5).
    public static let refreshInterval: UInt64 = 600_000_000_000
    /// Buckets beyond this shared prefix length are never refreshed, as in go
    /// (`maxCplForRefresh` = 15): finding a key for bucket b takes about 2^(b+1) hashes, and
    /// buckets that deep are empty or filled by the self-lookup in any network of fewer than
    /// about 2^15 × 20 peers.
    public static let maxRefreshBucket = 15

    /// A lookup for a key in `bucket` finished at `now`: the bucket counts as fresh.
    public mutating func markLookup(bucket: Int, now: UInt64) {
        buckets[bucket].lastLookup = now
    }

    /// A lookup for `key` finished at `now`: marks the bucket the key falls in.
    public mutating func markLookup(key: KadKey, now: UInt64) {
        if let b = bucketIndex(of: key) { markLookup(bucket: b, now: now) }
    }

    /// When a lookup in `bucket` last finished, nil if never.
    public func lastLookup(bucket: Int) -> UInt64? { buckets[bucket].lastLookup }

    /// Buckets that need a refresh lookup: those from 0 up to the deepest non-empty bucket
    /// (capped at `maxRefreshBucket`) that no lookup has touched for `olderThan` ns. go tracks
    /// the same range (`GetTrackedCplsForRefresh`): deeper empty buckets would cost many
    /// hashes to target and find nobody in a small network.
    public func staleBuckets(now: UInt64, olderThan: UInt64 = refreshInterval) -> [Int] {
        guard let deepest = buckets.lastIndex(where: { !$0.entries.isEmpty }) else { return [] }
        return (0...min(deepest, Self.maxRefreshBucket)).filter { b in
            guard let last = buckets[b].lastLookup else { return true }
            return now >= last && now - last >= olderThan
        }
    }

    /// Key bytes for a refresh lookup of `bucket`: a random peer-ID-shaped byte string (a
    /// sha2-256 multihash, as go's `GenRandPeerID`) whose SHA-256 shares exactly `bucket`
    /// leading bits with our point. Found by drawing candidates: about 2^(bucket+1) tries,
    /// 65,536 SHA-256s at bucket 15 (a few tens of ms), hence `maxRefreshBucket`.
    public func refreshKey(forBucket bucket: Int, random: inout SplitMix64) -> [UInt8] {
        precondition((0...Self.maxRefreshBucket).contains(bucket), "refresh covers buckets 0...\(Self.maxRefreshBucket), not \(bucket)")
        while true {
            var candidate: [UInt8] = [0x12, 0x20]
            candidate.reserveCapacity(34)
            for _ in 0..<4 {
                let w = random.next()
                for shift in stride(from: 56, through: 0, by: -8) { candidate.append(UInt8(truncatingIfNeeded: w >> UInt64(shift))) }
            }
            if localKey.commonPrefixLength(with: KadKey(hashing: candidate)) == bucket { return candidate }
        }
    }

    /// A random point (not key bytes) in `bucket`: our point with bit `bucket` flipped and
    /// every later bit random. For simulations, whose servers answer for a point directly; a
    /// real FIND_NODE carries key bytes the server hashes, so it needs `refreshKey`.
    public func randomKey(inBucket bucket: Int, random: inout SplitMix64) -> KadKey {
        precondition((0..<Self.bucketCount).contains(bucket), "no bucket \(bucket)")
        var words = [localKey.words.0, localKey.words.1, localKey.words.2, localKey.words.3]
        for w in 0..<4 {
            let first = w * 64, last = first + 63
            if last < bucket { continue }
            let r = random.next()
            if first > bucket {
                words[w] = r
            } else {
                // This word holds bit `bucket`: keep the bits above it, flip it, draw the rest.
                let offset = bucket - first
                let bit: UInt64 = 1 << UInt64(63 - offset)
                let keepMask: UInt64 = offset == 0 ? 0 : ~(UInt64.max >> UInt64(offset))
                let lowMask: UInt64 = bit - 1
                words[w] = (words[w] & keepMask) | (~words[w] & bit) | (r & lowMask)
            }
        }
        return KadKey(words: (words[0], words[1], words[2], words[3]))
    }
}
