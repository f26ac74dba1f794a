import SyncStore
import Testing
import TestSupport

/// Limits on keys and values, and listing by prefix.
@Suite struct StoreContentTests {
    @Test func keyLimitsCountBytes() throws {
        #expect(throws: StoreError.invalidKey("key is empty; a key must be 1 to 1024 bytes")) { try EntryLimits.validate(key: "") }
        try EntryLimits.validate(key: "k")
        try EntryLimits.validate(key: String(repeating: "k", count: 1024))
        #expect(throws: StoreError.invalidKey("key is 1025 bytes; the limit is 1024")) {
            try EntryLimits.validate(key: String(repeating: "k", count: 1025))
        }
        // 512 two-byte characters are 1024 bytes; 513 are too many though only 513 characters.
        try EntryLimits.validate(key: String(repeating: "\u{E9}", count: 512))
        #expect(throws: StoreError.invalidKey("key is 1026 bytes; the limit is 1024")) {
            try EntryLimits.validate(key: String(repeating: "\u{E9}", count: 513))
        }
        #expect(StoreError.invalidKey("key is 2000 bytes; the limit is 1024").description == "invalid key: key is 2000 bytes; the limit is 1024")
    }

    @Test func valueLimitCountsBytes() throws {
        try EntryLimits.validate(value: "")
        try EntryLimits.validate(value: String(repeating: "v", count: 1024 * 1024))
        #expect(throws: StoreError.invalidValue("value is 1048577 bytes; the limit is 1048576 (1 MiB)")) {
            try EntryLimits.validate(value: String(repeating: "v", count: 1024 * 1024 + 1))
        }
    }

    @Test func theStoreAcceptsEntriesAtTheLimits() throws {
        let dir = TemporaryDirectory()
        let store = try Store(path: dir.file("store.db"))
        let biggest = Fixtures.put(String(repeating: "k", count: 1024), String(repeating: "v", count: 1024 * 1024), at: 1)
        #expect(try store.apply([biggest]) == [biggest])
        #expect(try store.entry(forKey: biggest.key) == biggest)
    }

    @Test func aBatchWithOneInvalidEntryWritesNothing() throws {
        let dir = TemporaryDirectory()
        let store = try Store(path: dir.file("store.db"))
        let good = [Fixtures.put("a", "1", at: 1), Fixtures.delete("b", at: 1)]
        #expect(throws: StoreError.invalidValue("value is 1048577 bytes; the limit is 1048576 (1 MiB)")) {
            try store.apply(good + [Fixtures.put("big", String(repeating: "v", count: 1024 * 1024 + 1), at: 2)])
        }
        #expect(throws: StoreError.invalidKey("key is empty; a key must be 1 to 1024 bytes")) {
            try store.apply([good[0], Fixtures.put("", "v", at: 2), good[1]])
        }
        #expect(throws: StoreError.self) {
            try store.apply(good + [Fixtures.delete(String(repeating: "k", count: 1025), at: 2)])
        }
        #expect(try store.allEntries().isEmpty)
        // And the store still works afterwards.
        #expect(try store.apply(good) == good)
    }

    @Test func emptyValuesAndKeysWithNULBytesRoundTrip() throws {
        let dir = TemporaryDirectory()
        let store = try Store(path: dir.file("store.db"))
        let empty = Fixtures.put("empty", "", at: 1)
        let nul = Fixtures.put("a\u{0}b", "x\u{0}y", at: 1)
        try store.apply([empty, nul, Fixtures.put("a", "plain", at: 1)])
        let stored = try #require(try store.entry(forKey: "empty"))
        #expect(stored == empty && !stored.isTombstone)
        #expect(try store.entry(forKey: "a\u{0}b") == nul)
        #expect(try store.entry(forKey: "a")?.value == "plain")
        #expect(try store.counts() == (live: 3, tombstones: 0))
    }

    @Test func prefixListingIsExactOnBytes() throws {
        let dir = TemporaryDirectory()
        let store = try Store(path: dir.file("store.db"))
        let keys = ["a%b", "a%c", "aXb", "a_b", "abc", "A%b", "\u{E9}1", "\u{E9}2", "e", "\u{EA}", "e\u{301}",
                    "\u{10FFFF}z", "\u{FFFF}x", "zz", "gone/1", "gone/2", "live/1"]
        try store.apply(keys.enumerated().map { Fixtures.put($1, "v", at: UInt64($0 + 1)) })
        try store.apply([Fixtures.delete("gone/1", at: 100), Fixtures.delete("gone/2", at: 100)])

        func keysListed(_ prefix: String?, limit: Int? = nil) throws -> [String] {
            try store.list(prefix: prefix, limit: limit).map(\.key)
        }
        // LIKE would treat % and _ as wildcards, and match "A" with "a".
        #expect(try keysListed("a%") == ["a%b", "a%c"])
        #expect(try keysListed("a_") == ["a_b"])
        #expect(try keysListed("a") == ["a%b", "a%c", "aXb", "a_b", "abc"])
        #expect(try keysListed("A") == ["A%b"])
        // Multi-byte: "é" is C3 A9 and its upper bound C3 AA is "ê", which must not match;
        // "e" + U+0301 starts with the byte of "e", not with "é".
        #expect(try keysListed("\u{E9}") == ["\u{E9}1", "\u{E9}2"])
        #expect(try keysListed("e").map { Array($0.utf8) } == [Array("e".utf8), Array("e\u{301}".utf8)])
        #expect(try keysListed("\u{10FFFF}") == ["\u{10FFFF}z"])
        #expect(try keysListed("\u{FFFF}") == ["\u{FFFF}x"])
        // Tombstones are not listed.
        #expect(try keysListed("gone/").isEmpty)
        #expect(try keysListed("live/") == ["live/1"])
        #expect(try keysListed("nothing-here").isEmpty)
        // Everything, ordered by bytes.
        let all = try keysListed(nil)
        #expect(all.count == keys.count - 2)
        #expect(all.map { Array($0.utf8) } == all.map { Array($0.utf8) }.sorted { $0.lexicographicallyPrecedes($1) })
        #expect(try keysListed("").count == all.count)
        // Limits.
        #expect(try keysListed(nil, limit: 3) == Array(all.prefix(3)))
        #expect(try keysListed("a", limit: 2) == ["a%b", "a%c"])
        #expect(try keysListed("a", limit: 0).isEmpty)
        #expect(try keysListed("a", limit: -5).isEmpty)
        // Paging: `after` the last key of a page, the next page, to the end, under a prefix too.
        var paged: [String] = []
        var after: String?
        while true {
            let page = try store.list(prefix: nil, after: after, limit: 4).map(\.key)
            paged += page
            guard page.count == 4 else { break }
            after = page.last
        }
        #expect(paged.map { Array($0.utf8) } == all.map { Array($0.utf8) })
        #expect(try store.list(prefix: "a", after: "a%c", limit: nil).map(\.key) == ["aXb", "a_b", "abc"])
        // "e" then "e" + U+0301: the two differ only after the first byte, and paging keeps both.
        #expect(try store.list(prefix: "e", after: "e", limit: nil).map { Array($0.key.utf8) } == [Array("e\u{301}".utf8)])
        // `after` before the prefix starts at the prefix.
        #expect(try store.list(prefix: "live/", after: "a", limit: nil).map(\.key) == ["live/1"])
    }
}
