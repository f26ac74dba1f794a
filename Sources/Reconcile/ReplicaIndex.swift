import SyncStore

/// An immutable snapshot of a replica for reconciliation: its items in key-byte order, each
/// with its fingerprint, in a `ReplicaTree`, so the fingerprint of any key range costs
/// O(log n). A copy costs one reference; `inserting` returns the next snapshot in O(log n)
/// and leaves this one as it was, so the node keeps one index up to date as writes commit
/// (issue 15) while each session goes on with the snapshot it started with.
public struct ReplicaIndex: Sendable {
    public private(set) var tree: ReplicaTree

    /// The empty replica.
    public init() { tree = ReplicaTree() }

    /// `items` must be sorted by key bytes with no duplicate key (the store's order);
    /// `hash` is SHA-256 (any function both sides share would do; the protocol says SHA-256).
    public init(sortedItems items: [ItemID], hash: ([UInt8]) -> [UInt8]) {
        tree = ReplicaTree(sortedItems: items) { ReplicaIndex.fingerprint(of: $0, hash: hash) }
    }

    /// The fingerprint one item contributes: the first 16 bytes of the hash of its `hashInput`.
    public static func fingerprint(of item: ItemID, hash: ([UInt8]) -> [UInt8]) -> Fingerprint {
        Fingerprint(itemHash: hash(item.hashInput))
    }

    public var count: Int { tree.count }

    public var fingerprint: Fingerprint { tree.fingerprint }

    /// The first index whose key is not less than `key`.
    public func lowerIndex(_ key: [UInt8]) -> Int { tree.rank(of: key) }

    /// Indices of the items in `[lower, upper)`; a nil `upper` is the end of the key space.
    public func indices(_ lower: [UInt8], _ upper: [UInt8]?) -> Range<Int> {
        let start = lowerIndex(lower)
        let end = upper.map(lowerIndex) ?? count
        return start..<max(start, end)
    }

    public func fingerprint(_ range: Range<Int>) -> Fingerprint { tree.fingerprint(range) }

    public func fingerprint(_ lower: [UInt8], _ upper: [UInt8]?) -> Fingerprint { fingerprint(indices(lower, upper)) }

    public func item(_ i: Int) -> ItemID { tree.item(at: i) }

    public func key(at i: Int) -> [UInt8] { tree.key(at: i) }

    public func version(at i: Int) -> Version { tree.version(at: i) }

    /// The items at indices `range`, in key order, in O(log n + range.count): walk a range
    /// with this rather than `item(_:)` per index, which costs O(log n) each.
    public func items(_ range: Range<Int>) -> ReplicaTree.Items { tree.items(range) }

    public func version(of key: [UInt8]) -> Version? { tree.version(of: key) }

    /// Adds `item`, or replaces the version its key had, older or not: the merge rule is the
    /// store's, and the index takes what the store applied.
    public mutating func insert(_ item: ItemID, hash: ([UInt8]) -> [UInt8]) {
        tree.insert(key: item.key, version: item.version, fingerprint: ReplicaIndex.fingerprint(of: item, hash: hash))
    }

    /// Adds or replaces every item of `items`, in any order with no key twice, as one batch
    /// (see `ReplicaTree.insert(sortedBatch:)`).
    public mutating func insert<Items: Sequence>(contentsOf items: Items, hash: ([UInt8]) -> [UInt8]) where Items.Element == ItemID {
        var batch = items.map { (item: $0, fingerprint: ReplicaIndex.fingerprint(of: $0, hash: hash)) }
        // Often already in order (a streamed catch-up): check before sorting.
        if !zip(batch, batch.dropFirst()).allSatisfy({ ReplicaIndex.less($0.item.key, $1.item.key) }) {
            batch.sort { ReplicaIndex.less($0.item.key, $1.item.key) }
        }
        tree.insert(sortedBatch: batch)
    }

    /// Adds or replaces `items`, which must be sorted by key bytes with no key twice.
    public mutating func insert(sortedItems items: [ItemID], hash: ([UInt8]) -> [UInt8]) {
        tree.insert(sortedBatch: items.map { (item: $0, fingerprint: ReplicaIndex.fingerprint(of: $0, hash: hash)) })
    }

    /// This snapshot with `item` added or replaced; this one is unchanged.
    public func inserting(_ item: ItemID, hash: ([UInt8]) -> [UInt8]) -> ReplicaIndex {
        var next = self
        next.insert(item, hash: hash)
        return next
    }

    /// Removes `key`; returns the version it had, or nil when it was not there. The store
    /// never removes a key (a delete is a tombstone), so only tests need this.
    @discardableResult
    public mutating func remove(_ key: [UInt8]) -> Version? { tree.remove(key: key) }

    /// Byte-wise order, as SQLite's BINARY collation sorts the store's keys.
    public static func less(_ a: [UInt8], _ b: [UInt8]) -> Bool { ReplicaTree.compare(a, b) < 0 }
}
