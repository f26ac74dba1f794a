#if canImport(Glibc)
import Glibc
#endif
import SyncStore

/// One replica item as reconciliation sees it: a key and the version stored for it
/// (tombstones included, so deletes reconcile too).
public struct ItemID: Equatable, Sendable {
    public var key: [UInt8]
    public var version: Version

    public init(key: [UInt8], version: Version) {
        self.key = key
        self.version = version
    }

    /// The bytes hashed for the item's fingerprint (docs/PROTOCOL.md):
    /// `uvarint(len(key)) ‖ key ‖ u64be(hlc ms) ‖ u32be(hlc counter) ‖ origin`.
    public var hashInput: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(key.count + version.origin.count + 16)
        var n = UInt64(key.count)
        while n >= 0x80 { out.append(UInt8(n & 0x7f) | 0x80); n >>= 7 }
        out.append(UInt8(n))
        out += key
        for i in (0..<8).reversed() { out.append(UInt8(truncatingIfNeeded: version.hlc.physicalMillis >> (8 * i))) }
        for i in (0..<4).reversed() { out.append(UInt8(truncatingIfNeeded: version.hlc.logical >> (8 * i))) }
        out += version.origin
        return out
    }
}

/// An immutable snapshot of a replica for reconciliation: items in key-byte order with
/// prefix sums of their fingerprints, so the fingerprint of any key range costs two binary
/// searches. Built once per change of the store and shared by the sessions that use it.
public final class ReplicaIndex: @unchecked Sendable {
    public let keys: [[UInt8]]
    public let versions: [Version]
    /// `prefix[i]` = fingerprint of items `0..<i`.
    private let prefix: [Fingerprint]

    /// `items` must be sorted by key bytes with no duplicate key (the store's order);
    /// `hash` is SHA-256 (any function both sides share would do; the protocol says SHA-256).
    public init(sortedItems items: [ItemID], hash: ([UInt8]) -> [UInt8]) {
        keys = items.map(\.key)
        versions = items.map(\.version)
        var sums = [Fingerprint.empty]
        sums.reserveCapacity(items.count + 1)
        var running = Fingerprint.empty
        for item in items {
            running = running + Fingerprint(itemHash: hash(item.hashInput))
            sums.append(running)
        }
        prefix = sums
    }

    public var count: Int { keys.count }

    public var fingerprint: Fingerprint { prefix[prefix.count - 1] }

    /// The first index whose key is not less than `key`.
    public func lowerIndex(_ key: [UInt8]) -> Int {
        var lo = 0, hi = keys.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if ReplicaIndex.less(keys[mid], key) { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Indices of the items in `[lower, upper)`; a nil `upper` is the end of the key space.
    public func indices(_ lower: [UInt8], _ upper: [UInt8]?) -> Range<Int> {
        let start = lowerIndex(lower)
        let end = upper.map(lowerIndex) ?? keys.count
        return start..<max(start, end)
    }

    public func fingerprint(_ range: Range<Int>) -> Fingerprint { prefix[range.upperBound] - prefix[range.lowerBound] }

    public func fingerprint(_ lower: [UInt8], _ upper: [UInt8]?) -> Fingerprint { fingerprint(indices(lower, upper)) }

    public func item(_ i: Int) -> ItemID { ItemID(key: keys[i], version: versions[i]) }

    public func version(of key: [UInt8]) -> Version? {
        let i = lowerIndex(key)
        return i < keys.count && keys[i] == key ? versions[i] : nil
    }

    /// Byte-wise order, as SQLite's BINARY collation sorts the store's keys.
    public static func less(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        let n = min(a.count, b.count)
        let c = a.withUnsafeBytes { x in b.withUnsafeBytes { y in n == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, n) } }
        return c != 0 ? c < 0 : a.count < b.count
    }
}
