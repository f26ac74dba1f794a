#if canImport(Glibc)
import Glibc
#endif
import SyncStore

/// The replica's items in key-byte order as a persistent weight-balanced binary search tree:
/// every node holds one item (key, version, the first 16 bytes of its hash) and the
/// fingerprint of its subtree, whose count is the subtree's size. So the rank of a key, the
/// item at a rank and the fingerprint of the first `i` items each cost one walk from the root,
/// O(log n), and an insert copies only the O(log n) nodes on its path: the tree before it
/// stays valid and unchanged, which is what lets a reconcile session keep its snapshot while
/// the store moves on (issue 15).
///
/// Balance (Hirai and Yamamoto, "Balancing weight-balanced trees", JFP 2011, the variant of
/// Adams' trees that Haskell's `Data.Map` uses): with a subtree's weight = size + 1, no child
/// weighs more than `delta` times its sibling, restored after each insert or remove by one
/// single or double rotation per level. A child then weighs at most 3/4 of its parent, so the
/// height is at most log_{4/3}(n + 1), about 2.41 log2(n), whatever the order of the keys;
/// there is no randomness.
public struct ReplicaTree: Sendable {
    /// The rotation rule's parameters: (3, 2) is the one integer pair that keeps the invariant
    /// after every single insert and remove (Hirai and Yamamoto, section 5).
    static let delta = 3
    static let gamma = 2

    /// One item and the summary of the subtree below it. Immutable: a change builds new nodes
    /// along its path and shares the rest with the tree it came from.
    final class Node: Sendable {
        let key: [UInt8]
        let version: Version
        /// The item's fingerprint, kept as its two halves: the count of one is implied, and
        /// the node is 8 bytes smaller (104 bytes, a 112-byte malloc chunk).
        let hashLow: UInt64
        let hashHigh: UInt64
        /// The fingerprint of every item in this subtree; its count is the subtree's size.
        let sum: Fingerprint
        let left: Node?
        let right: Node?

        init(key: [UInt8], version: Version, hashLow: UInt64, hashHigh: UInt64, left: Node?, right: Node?) {
            self.key = key
            self.version = version
            self.hashLow = hashLow
            self.hashHigh = hashHigh
            self.left = left
            self.right = right
            sum = ReplicaTree.sum(left) + Fingerprint(low: hashLow, high: hashHigh, count: 1) + ReplicaTree.sum(right)
        }

        /// This node's item over other children.
        func with(left: Node?, right: Node?) -> Node {
            Node(key: key, version: version, hashLow: hashLow, hashHigh: hashHigh, left: left, right: right)
        }

        var size: Int { Int(truncatingIfNeeded: sum.count) }
        var fingerprint: Fingerprint { Fingerprint(low: hashLow, high: hashHigh, count: 1) }
        var item: ItemID { ItemID(key: key, version: version) }
    }

    private(set) var root: Node?

    /// The empty tree.
    public init() { root = nil }

    /// A perfectly balanced tree of `items`, in O(n). `items` must be sorted by key bytes
    /// with no key twice (the store's order); `fingerprint` is called once per item, in order.
    public init(sortedItems items: [ItemID], fingerprint: (ItemID) -> Fingerprint) {
        assert(zip(items, items.dropFirst()).allSatisfy { ReplicaTree.compare($0.key, $1.key) < 0 }, "items not in strictly ascending key order")
        var origins = OriginPool()
        root = ReplicaTree.build(items[...], &origins, fingerprint)
    }

    /// Equal origins as one array. The store reads each row's origin into an array of its own
    /// (80 bytes of heap for a 38-byte peer ID), and a replica has few writers: sharing them
    /// takes a third off the memory per key. At most `limit` distinct origins are kept, so a
    /// replica written by very many peers costs no more than without.
    struct OriginPool {
        static let limit = 1024
        private var arrays: [[UInt8]: [UInt8]] = [:]
        /// The origin shared last: runs of items by one writer skip the dictionary's hashing.
        private var last: [UInt8] = []

        mutating func shared(_ version: Version) -> Version {
            if version.origin == last { return Version(hlc: version.hlc, origin: last) }
            if let origin = arrays[version.origin] {
                last = origin
                return Version(hlc: version.hlc, origin: origin)
            }
            if arrays.count < OriginPool.limit { arrays[version.origin] = version.origin }
            return version
        }
    }

    public var count: Int { root?.size ?? 0 }

    /// The fingerprint of every item.
    public var fingerprint: Fingerprint { ReplicaTree.sum(root) }

    /// Nodes on the longest path from the root (0 for the empty tree).
    public var height: Int { ReplicaTree.height(root) }

    /// The number of items whose key is less than `key`: the rank `key` has or would have.
    public func rank(of key: [UInt8]) -> Int {
        var rank = 0
        var node = root
        while let n = node {
            if ReplicaTree.compare(key, n.key) <= 0 {
                node = n.left
            } else {
                rank += ReplicaTree.size(n.left) + 1
                node = n.right
            }
        }
        return rank
    }

    /// The fingerprint of the first `count` items (ranks `0..<count`), so that a range's
    /// fingerprint is the difference of two prefixes.
    public func prefixFingerprint(_ count: Int) -> Fingerprint {
        precondition(count >= 0 && count <= self.count, "prefix of \(count) items in a tree of \(self.count)")
        var sum = Fingerprint.empty
        var remaining = count
        var node = root
        while remaining > 0, let n = node {
            let leftSize = ReplicaTree.size(n.left)
            if remaining <= leftSize {
                node = n.left
            } else {
                sum = sum + ReplicaTree.sum(n.left) + n.fingerprint
                remaining -= leftSize + 1
                node = n.right
            }
        }
        return sum
    }

    /// The fingerprint of the items of ranks `ranks`.
    public func fingerprint(_ ranks: Range<Int>) -> Fingerprint {
        prefixFingerprint(ranks.upperBound) - prefixFingerprint(ranks.lowerBound)
    }

    /// The item of rank `rank`.
    public func item(at rank: Int) -> ItemID { node(at: rank).item }

    public func key(at rank: Int) -> [UInt8] { node(at: rank).key }

    public func version(at rank: Int) -> Version { node(at: rank).version }

    /// The version stored for `key`, or nil when the tree has no such key.
    public func version(of key: [UInt8]) -> Version? {
        guard let root else { return nil }
        // The walk borrows the nodes: `root` keeps them all alive for its length, and a walk
        // that retained and released each node spent most of its time doing that (the store
        // asks this for every entry a catch-up applies).
        return withExtendedLifetime(root) {
            var node = Unmanaged.passUnretained(root)
            while true {
                let (order, next): (Int, Unmanaged<Node>?) = node._withUnsafeGuaranteedRef { n in
                    let order = ReplicaTree.compare(key, n.key)
                    if order == 0 { return (0, nil) }
                    return (order, (order < 0 ? n.left : n.right).map { Unmanaged.passUnretained($0) })
                }
                if order == 0 { return node._withUnsafeGuaranteedRef { $0.version } }
                guard let next else { return nil }
                node = next
            }
        }
    }

    /// The items of ranks `ranks`, in key order: O(log n) to reach the first, then O(1)
    /// amortized per item.
    public func items(_ ranks: Range<Int>) -> Items {
        precondition(ranks.lowerBound >= 0 && ranks.upperBound <= count, "ranks \(ranks) in a tree of \(count)")
        return Items(root: root, ranks: ranks)
    }

    /// Adds `key` with `version`, or replaces the version and fingerprint it has.
    public mutating func insert(key: [UInt8], version: Version, fingerprint: Fingerprint) {
        root = ReplicaTree.inserting(key, version, fingerprint, into: root)
    }

    /// One item of a batch insert: its key, version and fingerprint.
    public typealias Insertion = (item: ItemID, fingerprint: Fingerprint)

    /// Adds or replaces every item of `batch`, which must be sorted by key bytes with no key
    /// twice. A union of the batch with the tree: split the batch at the root's key, merge
    /// each part into its side, join the two results under the root's item. O(k log(n/k + 1))
    /// for k items into n, so a catch-up that brings thousands of items per commit copies
    /// each path once per batch instead of once per item (one at a time, the copies and
    /// their reference counting were 46% of a new node's catch-up).
    public mutating func insert(sortedBatch batch: [Insertion]) {
        assert(zip(batch, batch.dropFirst()).allSatisfy { ReplicaTree.compare($0.item.key, $1.item.key) < 0 }, "batch not in strictly ascending key order")
        guard !batch.isEmpty else { return }
        var origins = OriginPool()
        root = ReplicaTree.merging(batch[...], into: root, &origins)
    }

    /// Removes `key`; returns the version it had, or nil (and leaves the tree as it was)
    /// when there was no such key.
    @discardableResult
    public mutating func remove(key: [UInt8]) -> Version? {
        guard let (node, removed) = ReplicaTree.removing(key, from: root) else { return nil }
        root = node
        return removed
    }

    /// Byte-wise order, as SQLite's BINARY collation sorts the store's keys: memcmp over the
    /// shorter length, then the shorter first. Negative, zero or positive.
    @inline(__always)
    public static func compare(_ a: [UInt8], _ b: [UInt8]) -> Int {
        let n = min(a.count, b.count)
        if n > 0 {
            let c = a.withUnsafeBytes { x in b.withUnsafeBytes { y in memcmp(x.baseAddress!, y.baseAddress!, n) } }
            if c != 0 { return Int(c) }
        }
        return a.count - b.count
    }

    // MARK: - Walks

    private func node(at rank: Int) -> Node {
        precondition(rank >= 0 && rank < count, "rank \(rank) in a tree of \(count)")
        var remaining = rank
        var node = root!
        while true {
            let leftSize = ReplicaTree.size(node.left)
            if remaining < leftSize {
                node = node.left!
            } else if remaining == leftSize {
                return node
            } else {
                remaining -= leftSize + 1
                node = node.right!
            }
        }
    }

    /// In-order items over a range of ranks: a stack of the nodes still to visit, each with
    /// the right subtree whose left spine is pushed when it is reached.
    public struct Items: Sequence, Sendable {
        let root: Node?
        let ranks: Range<Int>

        public var underestimatedCount: Int { ranks.count }

        public func makeIterator() -> Iterator { Iterator(root: root, ranks: ranks) }

        public struct Iterator: IteratorProtocol, Sendable {
            private var stack: [Node] = []
            private var remaining: Int

            init(root: Node?, ranks: Range<Int>) {
                remaining = ranks.count
                guard remaining > 0 else { return }
                // Down to the first item, keeping every node whose item comes after the path.
                var skip = ranks.lowerBound
                var node = root
                while let n = node {
                    let leftSize = ReplicaTree.size(n.left)
                    if skip < leftSize {
                        stack.append(n)
                        node = n.left
                    } else if skip == leftSize {
                        stack.append(n)
                        break
                    } else {
                        skip -= leftSize + 1
                        node = n.right
                    }
                }
            }

            public mutating func next() -> ItemID? {
                guard remaining > 0, let n = stack.popLast() else { return nil }
                remaining -= 1
                if remaining > 0 {
                    var node = n.right
                    while let m = node {
                        stack.append(m)
                        node = m.left
                    }
                }
                return n.item
            }
        }
    }

    // MARK: - Building and rebalancing

    static func size(_ node: Node?) -> Int { node?.size ?? 0 }

    static func sum(_ node: Node?) -> Fingerprint { node?.sum ?? .empty }

    static func height(_ node: Node?) -> Int {
        guard let node else { return 0 }
        return 1 + max(height(node.left), height(node.right))
    }

    /// The weight the balance rule compares: size + 1, so an empty subtree weighs 1.
    static func weight(_ node: Node?) -> Int { size(node) + 1 }

    private static func build(_ items: ArraySlice<ItemID>, _ origins: inout OriginPool, _ fingerprint: (ItemID) -> Fingerprint) -> Node? {
        guard !items.isEmpty else { return nil }
        let middle = items.startIndex + items.count / 2
        // Left subtree, then the middle item, then the right: `fingerprint` sees items in order.
        let left = build(items[..<middle], &origins, fingerprint)
        let item = items[middle]
        let hash = fingerprint(item)
        let right = build(items[(middle + 1)...], &origins, fingerprint)
        return Node(key: item.key, version: origins.shared(item.version), hashLow: hash.low, hashHigh: hash.high, left: left, right: right)
    }

    private static func inserting(_ key: [UInt8], _ version: Version, _ fingerprint: Fingerprint, into node: Node?) -> Node {
        guard let node else {
            return Node(key: key, version: version, hashLow: fingerprint.low, hashHigh: fingerprint.high, left: nil, right: nil)
        }
        let order = compare(key, node.key)
        if order < 0 { return balanced(node, left: inserting(key, version, fingerprint, into: node.left), right: node.right) }
        if order > 0 { return balanced(node, left: node.left, right: inserting(key, version, fingerprint, into: node.right)) }
        // Same key: same shape, so nothing to rebalance. The stored key bytes are kept, and
        // the stored origin when it is the same writer's (see OriginPool).
        let shared = version.origin == node.version.origin ? Version(hlc: version.hlc, origin: node.version.origin) : version
        return Node(key: node.key, version: shared, hashLow: fingerprint.low, hashHigh: fingerprint.high, left: node.left, right: node.right)
    }

    private static func merging(_ batch: ArraySlice<Insertion>, into node: Node?, _ origins: inout OriginPool) -> Node? {
        guard let first = batch.first else { return node }
        guard let node else {
            var fingerprints = batch.lazy.map(\.fingerprint).makeIterator()
            return build(ArraySlice(batch.map(\.item)), &origins) { _ in fingerprints.next()! }
        }
        if batch.count == 1 { return inserting(first.item.key, origins.shared(first.item.version), first.fingerprint, into: node) }
        // The first batch item not below the node's key (binary search: the batch is sorted).
        var low = batch.startIndex, high = batch.endIndex
        while low < high {
            let middle = (low + high) / 2
            if compare(batch[middle].item.key, node.key) < 0 { low = middle + 1 } else { high = middle }
        }
        var top = node
        var rightStart = low
        if low < batch.endIndex, compare(batch[low].item.key, node.key) == 0 {
            let replacement = batch[low]
            let version = replacement.item.version
            let shared = version.origin == node.version.origin ? Version(hlc: version.hlc, origin: node.version.origin) : origins.shared(version)
            top = Node(key: node.key, version: shared, hashLow: replacement.fingerprint.low, hashHigh: replacement.fingerprint.high, left: nil, right: nil)
            rightStart = low + 1
        }
        let left = merging(batch[..<low], into: node.left, &origins)
        let right = merging(batch[rightStart...], into: node.right, &origins)
        return joined(top, left, right)
    }

    /// `top`'s item between `left` (all keys below it) and `right` (all above), whatever their
    /// sizes: descend the heavier side's inner spine until the two sides are within the rule,
    /// then rebalance on the way up, one rotation per level (Adams' concat3; Data.Map's `link`).
    private static func joined(_ top: Node, _ left: Node?, _ right: Node?) -> Node {
        guard let l = left else { return inserting(top.key, top.version, top.fingerprint, into: right) }
        guard let r = right else { return inserting(top.key, top.version, top.fingerprint, into: left) }
        if delta * weight(l) < weight(r) { return balanced(r, left: joined(top, l, r.left), right: r.right) }
        if delta * weight(r) < weight(l) { return balanced(l, left: l.left, right: joined(top, l.right, r)) }
        return top.with(left: l, right: r)
    }

    /// The subtree without `key` and the version removed, or nil when `key` is not there.
    private static func removing(_ key: [UInt8], from node: Node?) -> (Node?, Version)? {
        guard let node else { return nil }
        let order = compare(key, node.key)
        if order < 0 {
            guard let (left, removed) = removing(key, from: node.left) else { return nil }
            return (balanced(node, left: left, right: node.right), removed)
        }
        if order > 0 {
            guard let (right, removed) = removing(key, from: node.right) else { return nil }
            return (balanced(node, left: node.left, right: right), removed)
        }
        return (glued(node.left, node.right), node.version)
    }

    /// Two balanced siblings joined once their parent is gone: the heavier gives up its
    /// extreme item as the new parent, so the pair stays within the balance rule.
    private static func glued(_ left: Node?, _ right: Node?) -> Node? {
        guard let left else { return right }
        guard let right else { return left }
        if left.size > right.size {
            let (top, rest) = removingLast(left)
            return balanced(top, left: rest, right: right)
        }
        let (top, rest) = removingFirst(right)
        return balanced(top, left: left, right: rest)
    }

    private static func removingFirst(_ node: Node) -> (first: Node, rest: Node?) {
        guard let left = node.left else { return (node, node.right) }
        let (first, rest) = removingFirst(left)
        return (first, balanced(node, left: rest, right: node.right))
    }

    private static func removingLast(_ node: Node) -> (last: Node, rest: Node?) {
        guard let right = node.right else { return (node, node.left) }
        let (last, rest) = removingLast(right)
        return (last, balanced(node, left: node.left, right: rest))
    }

    /// `node`'s item over `left` and `right`, which were balanced until one of them gained
    /// or lost one item: one single or double rotation restores the rule.
    private static func balanced(_ node: Node, left: Node?, right: Node?) -> Node {
        let leftWeight = weight(left), rightWeight = weight(right)
        if rightWeight > delta * leftWeight {
            // Right too heavy (so it holds at least 3 items): rotate left.
            let r = right!
            if weight(r.left) < gamma * weight(r.right) {
                return r.with(left: node.with(left: left, right: r.left), right: r.right)
            }
            let rl = r.left!
            return rl.with(left: node.with(left: left, right: rl.left), right: r.with(left: rl.right, right: r.right))
        }
        if leftWeight > delta * rightWeight {
            let l = left!
            if weight(l.right) < gamma * weight(l.left) {
                return l.with(left: l.left, right: node.with(left: l.right, right: right))
            }
            let lr = l.right!
            return lr.with(left: l.with(left: l.left, right: lr.left), right: node.with(left: lr.right, right: right))
        }
        return node.with(left: left, right: right)
    }
}

extension ReplicaTree {
    /// The first broken invariant (order, sizes, sums, balance) as text, or nil: for tests.
    func invariantViolation() -> String? {
        var previous: [UInt8]?
        func check(_ node: Node?) -> String? {
            guard let node else { return nil }
            if let problem = check(node.left) { return problem }
            if let previous, ReplicaTree.compare(previous, node.key) >= 0 { return "key \(node.key) not above \(previous)" }
            previous = node.key
            if let problem = check(node.right) { return problem }
            let expected = ReplicaTree.sum(node.left) + node.fingerprint + ReplicaTree.sum(node.right)
            if node.sum != expected { return "node \(node.key): sum \(node.sum), expected \(expected)" }
            let l = ReplicaTree.weight(node.left), r = ReplicaTree.weight(node.right)
            if l > ReplicaTree.delta * r || r > ReplicaTree.delta * l { return "node \(node.key): weights \(l) and \(r) out of balance" }
            return nil
        }
        return check(root)
    }
}
