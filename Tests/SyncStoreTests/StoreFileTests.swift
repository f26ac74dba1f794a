import Foundation
@testable import SyncStore
import Testing
import TestSupport

/// The database file: settings, durability across reopen, concurrent readers, and every way
/// opening can fail without ever replacing the user's data.
@Suite struct StoreFileTests {
    @Test func opensInWALModeWithFullSyncAndASchemaVersion() throws {
        let dir = TemporaryDirectory()
        let store = try Store(path: dir.file("store.db"))
        #expect(try store.pragma("journal_mode") == "wal")
        #expect(try store.pragma("synchronous") == "2")  // FULL
        #expect(try store.pragma("user_version") == "4")
        #expect(try store.pragma("application_id") == "\(0x5032_5053)")
        #expect(try Int(store.pragma("busy_timeout") ?? "") ?? 0 > 0)
    }

    /// The log is checkpointed every 128 pages (issue 15: SQLite's 1,000-page checkpoint
    /// held one commit for 15-25 ms at a million keys), so it stays small while writes go
    /// on, and everything is there after a reopen.
    @Test func theLogIsCheckpointedOftenAndStaysSmall() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("store.db")
        let value = String(repeating: "v", count: 2_000)
        var largestLog = 0
        do {
            let store = try Store(path: path)
            #expect(try store.pragma("wal_autocheckpoint") == "128")
            // 30 commits of 20 entries of 2 KB: over 1 MB through the log.
            for batch in 0..<30 {
                try store.apply((0..<20).map { Fixtures.put("k\(batch)-\($0)", value, at: UInt64(1_000 + batch), 0) })
                let size = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
                largestLog = max(largestLog, size)
            }
            store.close()
        }
        // 128 pages and one commit's worth of pages beyond them, at most.
        #expect(largestLog < 1 << 20, "the log grew to \(largestLog) bytes")
        let reopened = try Store(path: path)
        #expect(try reopened.counts().live == 30 * 20)
        #expect(try reopened.entry(forKey: "k29-19")?.value == value)
    }

    @Test func writesSurviveCloseAndReopen() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("store.db")
        var writes: [Entry] = []
        for i in 0..<100 {
            writes.append(Fixtures.put("k\(i)", "v\(i)", at: UInt64(1_000 + i * 7 % 100), UInt32(i % 3)))
        }
        writes.append(Fixtures.delete("k5", at: 5_000, 4))
        do {
            let store = try Store(path: path)
            try store.apply(writes)
            store.close()
            store.close()  // harmless twice
        }
        let reopened = try Store(path: path)
        #expect(reopened.path == path)
        #expect(try reopened.counts() == (live: 99, tombstones: 1))
        #expect(try reopened.tombstoneCount() == 1)
        #expect(try reopened.entry(forKey: "k42") == writes[42])
        #expect(try reopened.entry(forKey: "k5")?.isTombstone == true)
        #expect(try reopened.greatestHLC() == HLC(physicalMillis: 5_000, logical: 4))
        // Reopening an existing store does not touch its schema.
        #expect(try reopened.pragma("user_version") == "4")
    }

    @Test func greatestHLCIsZeroWhenEmptyAndOrdersMillisecondsAsUnsigned() throws {
        let dir = TemporaryDirectory()
        let store = try Store(path: dir.file("store.db"))
        #expect(try store.greatestHLC() == .zero)
        try store.apply([Fixtures.put("a", "v", at: 10, 99), Fixtures.put("b", "v", at: 11)])
        #expect(try store.greatestHLC() == HLC(physicalMillis: 11, logical: 0))
        // 2^63 and above are stored as negative SQLite integers; they are still the greatest.
        try store.apply([Fixtures.put("c", "v", at: 1 << 63), Fixtures.put("d", "v", at: .max - 1, 3), Fixtures.put("e", "v", at: 1 << 62)])
        #expect(try store.greatestHLC() == HLC(physicalMillis: .max - 1, logical: 3))
        #expect(try store.entry(forKey: "c")?.version.hlc.physicalMillis == 1 << 63)
    }

    @Test func aSecondConnectionSeesCommittedWritesWithoutAClose() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("store.db")
        let writer = try Store(path: path)
        try writer.apply([Fixtures.put("a", "1", at: 1)])
        let reader = try Store(path: path)
        #expect(try reader.entry(forKey: "a")?.value == "1")
        // Later commits show up in the reader's next read, and it can write too.
        try writer.apply([Fixtures.put("b", "2", at: 2)])
        #expect(try reader.list(prefix: nil).map(\.key) == ["a", "b"])
        try reader.apply([Fixtures.put("a", "3", at: 3)])
        #expect(try writer.entry(forKey: "a")?.value == "3")
        reader.close()
        writer.close()
    }

    @Test func aClosedStoreThrowsInsteadOfCrashing() throws {
        let dir = TemporaryDirectory()
        let store = try Store(path: dir.file("store.db"))
        store.close()
        let error = #expect(throws: StoreError.self) { try store.entry(forKey: "k") }
        #expect(error?.description.contains("closed") == true)
        #expect(throws: StoreError.self) { try store.apply([Fixtures.put("k", "v", at: 1)]) }
    }

    /// Writes `count` bytes of 0xA5 at `offset` into the file.
    static func scribble(_ path: String, at offset: UInt64, count: Int) throws {
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        try handle.seek(toOffset: offset)
        handle.write(Data(repeating: 0xA5, count: count))
        try handle.close()
    }

    static func filledStore(_ path: String) throws -> UInt64 {
        let store = try Store(path: path)
        try store.apply((0..<2_000).map { Fixtures.put("key-\($0)", String(repeating: "x", count: 100), at: UInt64($0 + 1)) })
        store.close()  // the last close checkpoints the WAL into the main file
        return try #require(FileManager.default.attributesOfItem(atPath: path)[.size] as? UInt64)
    }

    @Test func aDamagedFileIsReportedAndLeftAsItWas() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("store.db")
        let size = try Self.filledStore(path)
        #expect(size > 100_000)
        try Self.scribble(path, at: size / 2, count: 8192)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let error = #expect(throws: StoreError.self) { _ = try Store(path: path) }
        guard case .damaged(let reported, let detail)? = error else {
            Issue.record("expected .damaged, got \(String(describing: error))")
            return
        }
        #expect(reported == path)
        #expect(!detail.isEmpty)
        let message = error?.description ?? ""
        #expect(message.contains(path) && message.contains("damaged") && message.contains("backup"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        // Still refused the second time: nothing was "repaired" into an empty store.
        #expect(throws: StoreError.self) { _ = try Store(path: path) }
    }

    @Test func aTruncatedFileIsReportedAsDamaged() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("store.db")
        let size = try Self.filledStore(path)
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))  // all in the main file
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        try handle.truncate(atOffset: size / 3)
        try handle.close()
        let error = #expect(throws: StoreError.self) { _ = try Store(path: path) }
        guard case .damaged? = error else { Issue.record("expected .damaged, got \(String(describing: error))"); return }
    }

    @Test(arguments: [Data(repeating: 0x41, count: 4096), Data("hello, I am a text file\n".utf8)])
    func aFileThatIsNotADatabaseIsAClearError(contents: Data) throws {
        let dir = TemporaryDirectory()
        let path = dir.file("store.db")
        try contents.write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: StoreError.self) { _ = try Store(path: path) }
        guard case .damaged(let reported, let detail)? = error else { Issue.record("expected .damaged, got \(String(describing: error))"); return }
        #expect(reported == path)
        #expect(detail.contains("not an SQLite database"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == contents)
    }

    @Test func anotherProgramsDatabaseIsRefusedAndNotModified() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("other.db")
        do {
            let other = try SQLiteConnection(path: path)
            try other.execute("CREATE TABLE photos(id INTEGER PRIMARY KEY, name TEXT); INSERT INTO photos(name) VALUES('cat')")
            other.close()
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let error = #expect(throws: StoreError.self) { _ = try Store(path: path) }
        guard case .cannotOpen(_, let reason)? = error else { Issue.record("expected .cannotOpen, got \(String(describing: error))"); return }
        #expect(reason.contains("another program"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }

    @Test func aSchemaOneStoreGainsTheRefusedTableAndKeepsItsEntries() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("store.db")
        let entry = Entry(key: "k", value: "v", version: Version(hlc: HLC(physicalMillis: 5, logical: 0), origin: [1]))
        do {
            let store = try Store(path: path)
            try store.apply([entry])
            store.close()
            // Back to schema 1 as an older p2p-syncd left it.
            let raw = try SQLiteConnection(path: path)
            try raw.execute("DROP TABLE refused; DROP INDEX entries_tombstones; DROP TABLE proofs; PRAGMA user_version=1")
            raw.close()
        }
        let store = try Store(path: path)
        #expect(try store.pragma("user_version") == "4")
        #expect(try store.entry(forKey: "k") == entry)
        // Schema 3's index of tombstones is built from the entries already there.
        try store.apply([Entry(key: "gone", value: nil, version: Version(hlc: HLC(physicalMillis: 6, logical: 0), origin: [1]))])
        #expect(try store.tombstoneCount() == 1 && store.counts() == (live: 1, tombstones: 1))
        let refused = Version(hlc: HLC(physicalMillis: 9_000, logical: 2), origin: [7, 8])
        try store.recordRefused([("far", refused), ("far", refused)])
        store.close()
        let reopened = try Store(path: path)
        let remembered = try reopened.refusedWrites()
        #expect(remembered.count == 1 && remembered.first?.key == "far" && remembered.first?.version == refused)
    }

    /// Schema 4 (issue 14): a batch's proof is stored with the writes in one transaction and
    /// found for any write in its author's clock range; the same proof twice is kept once.
    @Test func proofsAreFoundByAuthorAndClockRange() throws {
        let dir = TemporaryDirectory()
        let store = try Store(path: dir.file("store.db"))
        func hlc(_ ms: UInt64, _ l: UInt32 = 0) -> HLC { HLC(physicalMillis: ms, logical: l) }
        let a: [UInt8] = [1, 2], b: [UInt8] = [3]
        let batch1 = WriteProofRecord(origin: a, first: hlc(10), last: hlc(20, 5), bytes: [0xaa])
        let batch2 = WriteProofRecord(origin: a, first: hlc(21), last: hlc(30), bytes: [0xbb])
        let lone = WriteProofRecord(origin: a, first: hlc(15), last: hlc(15), bytes: [0xcc])  // announced inside batch 1
        let other = WriteProofRecord(origin: b, first: hlc(10), last: hlc(40), bytes: [0xdd])
        try store.apply([Entry(key: "k", value: "v", version: Version(hlc: hlc(12), origin: a))], proofs: [batch1, batch2, lone, other, batch1])
        #expect(try store.proofCount() == 4)
        #expect(try store.proofs(covering: Version(hlc: hlc(12), origin: a)) == [batch1])
        #expect(try store.proofs(covering: Version(hlc: hlc(20, 5), origin: a)) == [batch1])
        #expect(try store.proofs(covering: Version(hlc: hlc(15), origin: a)).map(\.bytes).sorted { $0.lexicographicallyPrecedes($1) } == [[0xaa], [0xcc]])
        #expect(try store.proofs(covering: Version(hlc: hlc(25), origin: a)) == [batch2])
        #expect(try store.proofs(covering: Version(hlc: hlc(31), origin: a)).isEmpty)
        #expect(try store.proofs(covering: Version(hlc: hlc(5), origin: a)).isEmpty)
        #expect(try store.proofs(covering: Version(hlc: hlc(25), origin: b)) == [other])
        #expect(try store.proofs(covering: Version(hlc: hlc(25), origin: [9])).isEmpty)
    }

    @Test func aStoreFromANewerSchemaIsRefused() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("store.db")
        try Store(path: path).close()
        do {
            let raw = try SQLiteConnection(path: path)
            try raw.execute("PRAGMA user_version=5")
            raw.close()
        }
        let error = #expect(throws: StoreError.self) { _ = try Store(path: path) }
        guard case .cannotOpen(_, let reason)? = error else { Issue.record("expected .cannotOpen, got \(String(describing: error))"); return }
        #expect(reason.contains("newer p2p-syncd"))
    }

    @Test func aPathUnderARegularFileCannotBeOpened() throws {
        // Tests may run as root, which ignores permissions; a regular file as the parent
        // directory fails for everyone.
        let dir = TemporaryDirectory()
        #expect(FileManager.default.createFile(atPath: dir.file("file"), contents: Data("x".utf8)))
        let path = dir.file("file/store.db")
        let error = #expect(throws: StoreError.self) { _ = try Store(path: path) }
        guard case .cannotOpen(let reported, _)? = error else { Issue.record("expected .cannotOpen, got \(String(describing: error))"); return }
        #expect(reported == path)
        #expect(error?.description == "cannot open store \(path): unable to open database file (is the data dir writable?)")
    }
}
