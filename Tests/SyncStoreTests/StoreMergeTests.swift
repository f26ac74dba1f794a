import SyncStore
import Testing
import TestSupport

/// Last writer wins (DESIGN.md section 3): any order of arrival, any batching, same replica.
@Suite struct StoreMergeTests {
    /// Version order written out again by hand, so the expected replica does not depend on
    /// `Version.<`, the code under test.
    static func independentlyGreater(_ a: Version, than b: Version) -> Bool {
        if a.hlc.physicalMillis != b.hlc.physicalMillis { return a.hlc.physicalMillis > b.hlc.physicalMillis }
        if a.hlc.logical != b.hlc.logical { return a.hlc.logical > b.hlc.logical }
        for (x, y) in zip(a.origin, b.origin) where x != y { return x > y }
        return a.origin.count > b.origin.count
    }

    /// ~300 puts and deletes over 20 keys from 5 peers whose clocks collide often. Versions are
    /// unique, as in real life: a peer never issues the same clock value twice.
    static func randomWrites(_ rng: inout SeededRandom) -> [Entry] {
        // Origins include a prefix of another ([0, 36, 1] < [0, 36, 1, 0]) and a 1-byte one.
        let origins: [[UInt8]] = [[0, 36, 1], [0, 36, 1, 0], [0, 36, 2], [1], [0, 37]]
        // Keys include an NFC/NFD pair: one String to Swift's ==, two keys to the store.
        var keys = (0..<16).map { "key/\($0)" }
        keys += ["\u{E9}", "e\u{301}", "%", "日本"]
        var used = Set<Version>()
        var writes: [Entry] = []
        while writes.count < 300 {
            let version = Version(hlc: HLC(physicalMillis: UInt64.random(in: 1...25, using: &rng),
                                           logical: UInt32.random(in: 0...2, using: &rng)),
                                  origin: origins.randomElement(using: &rng)!)
            guard used.insert(version).inserted else { continue }
            let key = keys.randomElement(using: &rng)!
            let value: String? = Int.random(in: 0..<4, using: &rng) == 0 ? nil : "v\(writes.count)"
            writes.append(Entry(key: key, value: value, version: version))
        }
        return writes
    }

    @Test(arguments: [1 as UInt64, 2, 3, 42, 2026])
    func anyOrderAndAnyBatchingGiveTheSameReplica(seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        let writes = Self.randomWrites(&rng)
        var winners: [[UInt8]: Entry] = [:]
        for write in writes {
            let key = Array(write.key.utf8)
            if let held = winners[key], !Self.independentlyGreater(write.version, than: held.version) { continue }
            winners[key] = write
        }
        let expected = winners.values.sorted(by: Fixtures.byKeyBytes)
        #expect(expected.count == 20)
        #expect(expected.contains { $0.isTombstone } && expected.contains { !$0.isTombstone })

        for round in 0..<10 {
            let dir = TemporaryDirectory()
            let store = try Store(path: dir.file("store.db"))
            var pending = writes.shuffled(using: &rng)
            // Round 0: one batch. Round 1: one entry per call. Then random splits.
            var held: [[UInt8]: Version] = [:]
            while !pending.isEmpty {
                let size = round == 0 ? pending.count : round == 1 ? 1 : Int.random(in: 1...40, using: &rng)
                let batch = Array(pending.prefix(size))
                pending.removeFirst(batch.count)
                let changed = try store.apply(batch)
                if round == 1 {
                    // One at a time, a write changes the replica exactly when it beats what is held.
                    let key = Array(batch[0].key.utf8)
                    let wins = held[key].map { Self.independentlyGreater(batch[0].version, than: $0) } ?? true
                    #expect(changed == (wins ? batch : []))
                    if wins { held[key] = batch[0].version }
                }
            }
            let replica = try store.allEntries()
            #expect(replica == expected, "seed \(seed) round \(round)")
            #expect(replica.map { Array($0.key.utf8) } == expected.map { Array($0.key.utf8) })
            let tombstones = expected.filter(\.isTombstone).count
            #expect(try store.counts() == (live: expected.count - tombstones, tombstones: tombstones))
        }
    }

    @Test func aNewerDeleteHidesTheKeyAndBlocksOlderPuts() throws {
        let dir = TemporaryDirectory()
        let store = try Store(path: dir.file("store.db"))
        let put = Fixtures.put("k", "v1", at: 10)
        #expect(try store.apply([put]) == [put])
        let tombstone = Fixtures.delete("k", at: 20)
        #expect(try store.apply([tombstone]) == [tombstone])
        #expect(try store.list(prefix: nil).isEmpty)
        #expect(try store.list(prefix: "k").isEmpty)
        let stored = try #require(try store.entry(forKey: "k"))
        #expect(stored == tombstone && stored.isTombstone)
        #expect(try store.apply([Fixtures.put("k", "resurrected", at: 15)]) == [])
        #expect(try store.apply([Fixtures.put("k", "same clock, lower origin", at: 20, origin: 0)]) == [])
        #expect(try store.entry(forKey: "k") == tombstone)
        #expect(try store.counts() == (live: 0, tombstones: 1))
        // Same clock, greater origin: the put wins over the delete.
        let tie = Fixtures.put("k", "tie", at: 20, origin: 2)
        #expect(try store.apply([tie]) == [tie])
        #expect(try store.list(prefix: nil) == [tie])
    }

    @Test func anOlderDeleteChangesNothing() throws {
        let dir = TemporaryDirectory()
        let store = try Store(path: dir.file("store.db"))
        try store.apply([Fixtures.put("k", "v", at: 10)])
        #expect(try store.apply([Fixtures.delete("k", at: 9)]) == [])
        #expect(try store.entry(forKey: "k")?.value == "v")
    }

    @Test func reapplyingTheSameEntryIsANoOp() throws {
        let dir = TemporaryDirectory()
        let store = try Store(path: dir.file("store.db"))
        let put = Fixtures.put("k", "v", at: 10)
        #expect(try store.apply([put, put]) == [put])
        #expect(try store.apply([put]) == [])
        #expect(try store.apply([]) == [])
    }

    @Test func aBatchResolvesOneKeyByTheSameRuleAndReportsOnlyTheFinalWinner() throws {
        let dir = TemporaryDirectory()
        let store = try Store(path: dir.file("store.db"))
        try store.apply([Fixtures.put("k", "stored", at: 4)])
        let newest = Fixtures.put("k", "new", at: 9)
        let other = Fixtures.put("other", "x", at: 1)
        let changed = try store.apply([Fixtures.put("k", "a", at: 3), Fixtures.put("k", "b", at: 5), other, newest,
                                       Fixtures.delete("k", at: 8), Fixtures.put("k", "c", at: 6)])
        #expect(changed == [other, newest])
        #expect(try store.entry(forKey: "k") == newest)
    }

    @Test func canonicallyEquivalentKeysAreDistinctKeys() throws {
        let dir = TemporaryDirectory()
        let store = try Store(path: dir.file("store.db"))
        // Swift says these Strings are equal; their bytes differ, and so do the keys.
        let composed = Fixtures.put("caf\u{E9}", "composed", at: 10)
        let decomposed = Fixtures.put("cafe\u{301}", "decomposed", at: 5)
        #expect(composed.key == decomposed.key)
        #expect(composed != Fixtures.put("cafe\u{301}", "composed", at: 10))
        #expect(try store.apply([composed, decomposed]) == [composed, decomposed])
        #expect(try store.entry(forKey: "caf\u{E9}")?.value == "composed")
        #expect(try store.entry(forKey: "cafe\u{301}")?.value == "decomposed")
        #expect(try store.counts().live == 2)
    }
}
