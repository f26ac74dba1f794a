import Foundation
import SyncStore
import Testing
import TestSupport

@Suite struct StoreTests {
    func version(_ ms: UInt64, _ logical: UInt32 = 0, _ origin: UInt8 = 1) -> Version {
        Version(hlc: HLC(physicalMillis: ms, logical: logical), origin: [0, 36, origin])
    }

    @Test func lastWriterWinsAndTombstonesBlockOlderPuts() throws {
        let dir = TemporaryDirectory()
        let store = try Store(path: dir.file("store.db"))
        #expect(try store.apply([Entry(key: "k", value: "v1", version: version(10))]).count == 1)
        #expect(try store.apply([Entry(key: "k", value: "old", version: version(5))]).isEmpty)
        #expect(try store.entry(forKey: "k")?.value == "v1")
        let tombstone = Entry(key: "k", value: nil, version: version(20))
        #expect(try store.apply([tombstone]) == [tombstone])
        #expect(try store.list(prefix: nil).isEmpty)
        #expect(try store.entry(forKey: "k") == tombstone)
        #expect(try store.apply([Entry(key: "k", value: "resurrect", version: version(15))]).isEmpty)
        #expect(try store.counts() == (live: 0, tombstones: 1))
        // Same clock, greater origin wins.
        #expect(try store.apply([Entry(key: "k", value: "tie", version: version(20, 0, 2))]).count == 1)
        #expect(try store.entry(forKey: "k")?.value == "tie")
    }

    @Test(arguments: [1 as UInt64, 2, 3, 4, 5])
    func anyOrderAndBatchingGivesTheSameReplica(seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        var writes: [Entry] = []
        for _ in 0..<300 {
            let key = "key\(Int.random(in: 0..<20, using: &rng))"
            let v = Version(hlc: HLC(physicalMillis: UInt64.random(in: 1...40, using: &rng), logical: UInt32.random(in: 0...2, using: &rng)),
                            origin: [0, UInt8.random(in: 1...4, using: &rng)])
            let value: String? = Bool.random(using: &rng) && Int.random(in: 0..<4, using: &rng) == 0 ? nil : "v\(Int.random(in: 0..<1000, using: &rng))"
            writes.append(Entry(key: key, value: value, version: v))
        }
        // Two different writes with the same key and version would make the outcome depend on
        // order; real versions are unique (an origin never reuses a clock value), so drop such pairs.
        let dedupedWrites = writes.filter { w in !writes.contains { $0.key == w.key && $0.version == w.version && $0 != w } }
        // The expected replica, computed independently: per key, the entry of greatest version.
        var expectedDeduped: [String: Entry] = [:]
        for w in dedupedWrites where expectedDeduped[w.key].map({ w.version > $0.version }) ?? true { expectedDeduped[w.key] = w }
        #expect(expectedDeduped.count > 10)

        for round in 0..<10 {
            let dir = TemporaryDirectory()
            let store = try Store(path: dir.file("store.db"))
            var shuffled = dedupedWrites.shuffled(using: &rng)
            while !shuffled.isEmpty {
                let n = round == 0 ? shuffled.count : Int.random(in: 1...max(1, shuffled.count), using: &rng)
                try store.apply(Array(shuffled.prefix(n)))
                shuffled.removeFirst(n)
            }
            #expect(try store.allEntries() == expectedDeduped.values.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) })
        }
    }

    @Test func aBatchResolvesTheSameKeyByVersionAndReportsOneWinner() throws {
        let dir = TemporaryDirectory()
        let store = try Store(path: dir.file("store.db"))
        let newer = Entry(key: "k", value: "new", version: version(9))
        let changed = try store.apply([Entry(key: "k", value: "a", version: version(3)), newer, Entry(key: "k", value: "b", version: version(5))])
        #expect(changed == [newer])
        #expect(try store.entry(forKey: "k") == newer)
    }

    @Test func writesSurviveReopenAndAreVisibleToASecondConnection() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("store.db")
        do {
            let store = try Store(path: path)
            try store.apply((0..<100).map { Entry(key: "k\($0)", value: "v\($0)", version: version(UInt64($0 + 1), 2)) })
            let reader = try Store(path: path)
            #expect(try reader.counts().live == 100)
            store.close()
        }
        let reopened = try Store(path: path)
        #expect(try reopened.entry(forKey: "k42")?.value == "v42")
        #expect(try reopened.greatestHLC() == HLC(physicalMillis: 100, logical: 2))
    }

    @Test func limitsAreEnforcedAndAnInvalidBatchWritesNothing() throws {
        let dir = TemporaryDirectory()
        let store = try Store(path: dir.file("store.db"))
        #expect(throws: StoreError.invalidKey("key is empty")) { try store.apply([Entry(key: "", value: "v", version: version(1))]) }
        #expect(throws: StoreError.invalidKey("key is 1025 bytes; the limit is 1024")) {
            try store.apply([Entry(key: String(repeating: "k", count: 1025), value: "v", version: version(1))])
        }
        try store.apply([Entry(key: String(repeating: "k", count: 1024), value: String(repeating: "v", count: 256 * 1024), version: version(1))])
        #expect(throws: StoreError.self) {
            try store.apply([Entry(key: "ok", value: "v", version: version(2)),
                             Entry(key: "big", value: String(repeating: "v", count: 256 * 1024 + 1), version: version(2))])
        }
        #expect(try store.entry(forKey: "ok") == nil)
        #expect(try store.counts().live == 1)
    }

    @Test func prefixListingIsExactOnBytes() throws {
        let dir = TemporaryDirectory()
        let store = try Store(path: dir.file("store.db"))
        let keys = ["a%b", "a%c", "aXb", "a_b", "A%b", "é1", "é2", "e", "\u{FFFF}x", "zz"]
        try store.apply(keys.enumerated().map { Entry(key: $1, value: "v", version: version(UInt64($0 + 1))) })
        #expect(try store.list(prefix: "a%").map(\.key) == ["a%b", "a%c"])
        #expect(try store.list(prefix: "a_").map(\.key) == ["a_b"])
        #expect(try store.list(prefix: "é").map(\.key) == ["é1", "é2"])
        #expect(try store.list(prefix: "A").map(\.key) == ["A%b"])
        #expect(try store.list(prefix: "\u{FFFF}").map(\.key) == ["\u{FFFF}x"])
        #expect(try store.list(prefix: nil, limit: 3).count == 3)
        #expect(try store.list(prefix: "").count == keys.count)
    }

    @Test func aDamagedFileIsReportedNotReplaced() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("store.db")
        do {
            let store = try Store(path: path)
            try store.apply((0..<2000).map { Entry(key: "key-\($0)", value: String(repeating: "x", count: 100), version: version(UInt64($0 + 1))) })
            store.close()
        }
        // Checkpointed on close; now scribble over the middle of the file.
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: size / 2)
        handle.write(Data(repeating: 0xA5, count: 8192))
        try handle.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(throws: StoreError.self) { _ = try Store(path: path) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)

        let notADatabase = dir.file("text.db")
        FileManager.default.createFile(atPath: notADatabase, contents: Data(repeating: 0x41, count: 4096))
        do {
            _ = try Store(path: notADatabase)
            Issue.record("opened a file that is not a database")
        } catch {
            #expect("\(error)".contains(notADatabase))
        }
    }

    @Test func anUnwritableLocationIsAClearError() throws {
        let dir = TemporaryDirectory()
        FileManager.default.createFile(atPath: dir.file("file"), contents: Data())
        do {
            _ = try Store(path: dir.file("file/store.db"))
            Issue.record("opened a store under a regular file")
        } catch {
            guard case .cannotOpen(let path, _) = error else { Issue.record("wrong error \(error)"); return }
            #expect(path == dir.file("file/store.db"))
        }
    }
}
