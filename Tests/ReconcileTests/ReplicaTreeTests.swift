import Foundation
import P2PCrypto
@testable import Reconcile
import SyncStore
import Testing
import TestSupport

/// The index kept up to date one write at a time (issue 15) against a reference rebuilt by
/// brute force: sorted arrays, linear scans and sums, with an order of its own
/// (`lexicographicallyPrecedes`), as the index was before it was a tree.
@Suite struct ReplicaTreeTests {
    static let origins: [[UInt8]] = [[0, 36, 8, 1, 18, 32, 7, 7], [0, 36, 8, 1, 18, 32, 9], [5]]

    /// What the index should answer, from the items alone.
    struct Reference {
        let items: [ItemID]
        let fingerprints: [Fingerprint]

        init(_ versions: [[UInt8]: Version]) {
            items = versions.map { ItemID(key: $0.key, version: $0.value) }.sorted { $0.key.lexicographicallyPrecedes($1.key) }
            fingerprints = items.map { Fingerprint(itemHash: SHA256.hash($0.hashInput)) }
        }

        func rank(_ key: [UInt8]) -> Int { items.filter { $0.key.lexicographicallyPrecedes(key) }.count }

        func fingerprint(_ range: Range<Int>) -> Fingerprint { fingerprints[range].reduce(.empty, +) }

        var index: ReplicaIndex { ReplicaIndex(sortedItems: items, hash: SHA256.hash) }
    }

    /// Keys of 0 to `maxLength` bytes over a four-letter alphabet with the extremes in it, so
    /// that overwrites, prefixes of other keys and the empty key all come up often.
    static func key(_ random: inout SeededRandom, maxLength: Int) -> [UInt8] {
        let alphabet: [UInt8] = [0x00, 0x61, 0x62, 0xff]
        return (0..<Int.random(in: 0...maxLength, using: &random)).map { _ in alphabet.randomElement(using: &random)! }
    }

    /// The replica being changed: versions by key, and the keys in the order they came, to
    /// choose from (a dictionary's order changes from run to run, and a seed must replay).
    struct Replica {
        var versions: [[UInt8]: Version] = [:]
        var keys: [[UInt8]] = []

        mutating func set(_ key: [UInt8], _ version: Version) {
            if versions.updateValue(version, forKey: key) == nil { keys.append(key) }
        }

        mutating func remove(_ key: [UInt8]) -> Version? {
            guard let old = versions.removeValue(forKey: key) else { return nil }
            keys.remove(at: keys.firstIndex(of: key)!)
            return old
        }

        func anyKey(_ random: inout SeededRandom) -> [UInt8]? { keys.randomElement(using: &random) }
    }

    static func version(_ random: inout SeededRandom) -> Version {
        Version(hlc: HLC(physicalMillis: UInt64.random(in: 0..<1000, using: &random), logical: UInt32.random(in: 0..<3, using: &random)),
                origin: origins.randomElement(using: &random)!)
    }

    /// The most nodes on a path when no child weighs more than 3/4 of its parent (weight =
    /// size + 1, a leaf weighs 2): 1 + log_{4/3}((n + 1) / 2).
    static func heightBound(_ n: Int) -> Int {
        n == 0 ? 0 : 1 + Int((log(Double(n + 1) / 2) / log(4.0 / 3)).rounded(.down))
    }

    /// Every question the reconcile session asks, asked of both; `label` names the case.
    static func expectAgreement(_ index: ReplicaIndex, _ versions: [[UInt8]: Version], _ random: inout SeededRandom,
                                maxLength: Int, _ label: String) {
        let reference = Reference(versions)
        let n = reference.items.count
        #expect(index.count == n, "\(label): count")
        #expect(index.fingerprint == reference.fingerprint(0..<n), "\(label): total fingerprint")
        #expect(index.tree.invariantViolation() == nil, "\(label): \(index.tree.invariantViolation() ?? "")")
        #expect(index.tree.height <= heightBound(n), "\(label): height \(index.tree.height) for \(n) items")
        #expect(Array(index.items(0..<n)) == reference.items, "\(label): the whole walk")

        // Ranks and versions of present keys, absent ones, the empty key and prefixes of present keys.
        var probes: [[UInt8]] = [[], [0x00], [0xff], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]]
        probes += (0..<8).map { _ in key(&random, maxLength: maxLength + 1) }
        if let some = reference.items.randomElement(using: &random) {
            probes += [some.key, Array(some.key.dropLast()), some.key + [0x00]]
        }
        for probe in probes {
            #expect(index.lowerIndex(probe) == reference.rank(probe), "\(label): rank of \(probe)")
            #expect(index.version(of: probe) == versions[probe], "\(label): version of \(probe)")
        }
        for _ in 0..<6 where n > 0 {
            let i = Int.random(in: 0..<n, using: &random)
            #expect(index.item(i) == reference.items[i], "\(label): item \(i)")
            #expect(index.key(at: i) == reference.items[i].key && index.version(at: i) == reference.items[i].version, "\(label): key and version at \(i)")
        }
        for _ in 0..<6 {
            let a = Int.random(in: 0...n, using: &random), b = Int.random(in: 0...n, using: &random)
            let range = min(a, b)..<max(a, b)
            #expect(index.fingerprint(range) == reference.fingerprint(range), "\(label): fingerprint of \(range)")
            #expect(Array(index.items(range)) == Array(reference.items[range]), "\(label): walk of \(range)")
        }
        // Key ranges as the session receives them, the open-ended one included.
        for _ in 0..<4 {
            let lower = key(&random, maxLength: maxLength)
            let upper: [UInt8]? = Bool.random(using: &random) ? nil : key(&random, maxLength: maxLength)
            let start = reference.rank(lower), end = upper.map(reference.rank) ?? n
            #expect(index.indices(lower, upper) == start..<max(start, end), "\(label): indices of \(lower)..<\(String(describing: upper))")
            #expect(index.fingerprint(lower, upper) == reference.fingerprint(start..<max(start, end)), "\(label): fingerprint of \(lower)..<\(String(describing: upper))")
        }
    }

    @Test func randomInsertsOverwritesRemovesAndRestartsAgreeWithARebuild() {
        for seed in 0..<UInt64(1000) {
            var random = SeededRandom(seed: seed)
            let maxLength = Int.random(in: 1...6, using: &random)
            var index = ReplicaIndex()
            var replica = Replica()
            var snapshots: [(index: ReplicaIndex, items: [ItemID])] = []
            for _ in 0..<Int.random(in: 0...200, using: &random) {
                switch Int.random(in: 0..<100, using: &random) {
                case 0..<6:
                    // A batch, as a commit inserts it: new keys and keys already there, no key twice.
                    var batch: [[UInt8]: Version] = [:]
                    for _ in 0..<Int.random(in: 0...60, using: &random) {
                        let key = Bool.random(using: &random) ? replica.anyKey(&random) ?? [] : Self.key(&random, maxLength: maxLength)
                        batch[key] = Self.version(&random)
                    }
                    let items = batch.keys.sorted { $0.lexicographicallyPrecedes($1) }.map { ItemID(key: $0, version: batch[$0]!) }
                    index.insert(contentsOf: items.shuffled(using: &random), hash: SHA256.hash)
                    for item in items { replica.set(item.key, item.version) }
                case 6..<55:
                    // A new key, or by chance one already there.
                    let item = ItemID(key: Self.key(&random, maxLength: maxLength), version: Self.version(&random))
                    index.insert(item, hash: SHA256.hash)
                    replica.set(item.key, item.version)
                case 55..<80:
                    // Another version of a key already there, older or newer.
                    guard let key = replica.anyKey(&random) else { continue }
                    let item = ItemID(key: key, version: Self.version(&random))
                    index = index.inserting(item, hash: SHA256.hash)
                    replica.set(key, item.version)
                case 80..<92:
                    let key = Bool.random(using: &random) ? replica.anyKey(&random) ?? [] : Self.key(&random, maxLength: maxLength)
                    #expect(index.remove(key) == replica.remove(key), "seed \(seed): remove \(key)")
                case 92..<96:
                    // A restart: the index built again from the store's sorted items.
                    index = Reference(replica.versions).index
                default:
                    snapshots.append((index, Reference(replica.versions).items))
                }
            }
            Self.expectAgreement(index, replica.versions, &random, maxLength: maxLength, "seed \(seed)")
            for (i, snapshot) in snapshots.enumerated() {
                #expect(Array(snapshot.index.items(0..<snapshot.index.count)) == snapshot.items, "seed \(seed): snapshot \(i) changed")
            }
        }
    }

    /// A cheap stand-in for an item's fingerprint where the hash does not matter, only the sum.
    static func fakeFingerprint(_ i: Int) -> Fingerprint { Fingerprint(low: UInt64(i) &* 0x9E37_79B9_7F4A_7C15, high: UInt64(i), count: 1) }

    static func bigEndian(_ i: Int) -> [UInt8] { (0..<4).reversed().map { UInt8(truncatingIfNeeded: i >> (8 * $0)) } }

    /// Sorted input is the worst case of an unbalanced tree: here every level still holds.
    @Test(arguments: [false, true])
    func keysInOrderStayBalanced(descending: Bool) {
        let n = 100_000
        var tree = ReplicaTree()
        let version = Version(hlc: HLC(physicalMillis: 1, logical: 0), origin: Self.origins[0])
        for i in 0..<n {
            let k = descending ? n - 1 - i : i
            tree.insert(key: Self.bigEndian(k), version: version, fingerprint: Self.fakeFingerprint(k))
        }
        #expect(tree.count == n)
        #expect(tree.invariantViolation() == nil, "\(tree.invariantViolation() ?? "")")
        #expect(tree.height <= 2 * Int(log2(Double(n)).rounded(.up)) + 2, "height \(tree.height)")
        #expect(tree.fingerprint == (0..<n).map(Self.fakeFingerprint).reduce(.empty, +))
        #expect(tree.rank(of: Self.bigEndian(n / 3)) == n / 3)
        #expect(Array(tree.items(n / 2..<(n / 2 + 3)).map(\.key)) == (n / 2..<(n / 2 + 3)).map(Self.bigEndian))
    }

    /// Batches of every proportion to the tree (one item into 100,000, 100,000 into one,
    /// interleaved or all on one side): the union keeps order, sums and balance.
    @Test(arguments: [(1, 100_000), (100_000, 1), (5_000, 100_000), (100_000, 5_000), (3, 7)])
    func batchesOfAnySizeKeepTheTreeBalanced(batchSize: Int, treeSize: Int) {
        let version = Version(hlc: HLC(physicalMillis: 1, logical: 0), origin: Self.origins[0])
        let newer = Version(hlc: HLC(physicalMillis: 2, logical: 0), origin: Self.origins[1])
        for layout in ["interleaved", "below", "above"] {
            // Tree keys are even numbers; batch keys odd (interleaved), or all below or above, plus
            // every tenth batch item replaces a tree key.
            var tree = ReplicaTree()
            tree.insert(sortedBatch: (0..<treeSize).map { (ItemID(key: Self.bigEndian(4_000_000 + 2 * $0), version: version), Self.fakeFingerprint(4_000_000 + 2 * $0)) })
            var expected = Dictionary(uniqueKeysWithValues: (0..<treeSize).map { (4_000_000 + 2 * $0, Self.fakeFingerprint(4_000_000 + 2 * $0)) })
            let keys: [Int] = (0..<batchSize).map { i in
                if i % 10 == 0 && i / 10 < treeSize { return 4_000_000 + 2 * (i / 10) }
                switch layout {
                case "interleaved": return 4_000_000 + 2 * (i * treeSize / batchSize) + 1
                case "below": return i
                default: return 9_000_000 + i
                }
            }
            let batch = Array(Set(keys)).sorted().map { (item: ItemID(key: Self.bigEndian($0), version: newer), fingerprint: Self.fakeFingerprint($0 + 1)) }
            tree.insert(sortedBatch: batch)
            for entry in batch { expected[Int(entry.item.key.reduce(0) { $0 << 8 | UInt32($1) })] = entry.fingerprint }
            #expect(tree.count == expected.count, "\(layout)")
            #expect(tree.invariantViolation() == nil, "\(layout): \(tree.invariantViolation() ?? "")")
            #expect(tree.height <= Self.heightBound(tree.count), "\(layout): height \(tree.height) for \(tree.count)")
            #expect(tree.fingerprint == expected.values.reduce(.empty, +), "\(layout): sum")
            let walked = tree.items(0..<tree.count).map { Int($0.key.reduce(0) { $0 << 8 | UInt32($1) }) }
            #expect(walked == expected.keys.sorted(), "\(layout): order")
        }
    }

    @Test func aSnapshotIsUnchangedByLaterWrites() {
        var random = SeededRandom(seed: 15)
        var replica = Replica()
        for _ in 0..<2000 { replica.set(Self.key(&random, maxLength: 8), Self.version(&random)) }
        let before = Reference(replica.versions)
        var index = before.index
        let snapshot = index
        for _ in 0..<2000 {
            let key = Bool.random(using: &random) ? replica.anyKey(&random)! : Self.key(&random, maxLength: 8)
            if Int.random(in: 0..<5, using: &random) == 0 { index.remove(key) } else { index.insert(ItemID(key: key, version: Self.version(&random)), hash: SHA256.hash) }
        }
        #expect(index.fingerprint != before.fingerprint(0..<before.items.count))
        #expect(snapshot.count == before.items.count)
        #expect(snapshot.fingerprint == before.fingerprint(0..<before.items.count))
        #expect(Array(snapshot.items(0..<snapshot.count)) == before.items)
        #expect(snapshot.tree.invariantViolation() == nil)
    }

    @Test func theOrderIsSQLiteBinaryCollation() {
        #expect(ReplicaIndex.less([], [0x00]))
        #expect(ReplicaIndex.less([0x61], [0x61, 0x00]))
        #expect(ReplicaIndex.less([0x61, 0xff], [0x62]))
        #expect(ReplicaIndex.less([0x7f], [0x80]))  // unsigned bytes
        #expect(!ReplicaIndex.less([0x61], [0x61]))
        #expect(ReplicaTree.compare([0x61, 0x62], [0x61, 0x62]) == 0)
    }
}
