import P2PCrypto
import Reconcile
import SyncStore
import Testing
import TestSupport

/// Two replicas reconciled in memory through `ReconcileLoopback`.
struct ReconcilePair {
    var a: [String: Entry]
    var b: [String: Entry]
    var loopback = ReconcileLoopback()
    var rounds: Int { loopback.messages }
    var bytes: Int { loopback.bytes }
    var maxMessageBytes: Int { loopback.largestMessage }

    static func index(_ replica: [String: Entry]) -> ReplicaIndex { ReconcileLoopback.index(replica, hash: SHA256.hash) }
    static func merge(_ entries: [Entry], into replica: inout [String: Entry]) { ReconcileLoopback.merge(entries, into: &replica) }

    mutating func run(limits: ReconcileSession.Limits = .init()) throws -> (ReconcileSession, ReconcileSession) {
        try loopback.run(&a, &b, hash: SHA256.hash, limits: limits)
    }
}

@Suite struct ReconcileSessionTests {
    static let origins = (0..<4).map { [0, 36, 8, 1, 18, 32] + [UInt8](repeating: UInt8($0 + 1), count: 32) }

    static func replica(_ count: Int, seed: UInt64 = 1) -> [String: Entry] {
        var random = SeededRandom(seed: seed)
        var r: [String: Entry] = [:]
        for i in 0..<count {
            let key = "key/\(i)"
            r[key] = Entry(key: key, value: "value \(i) \(UInt32.random(in: 0...999, using: &random))",
                           version: Version(hlc: HLC(physicalMillis: 1_700_000_000_000 + UInt64(i), logical: 0), origin: origins[0]))
        }
        return r
    }

    static func newer(_ e: Entry, value: String?, origin: Int = 1) -> Entry {
        Entry(key: e.key, value: value, version: Version(hlc: HLC(physicalMillis: e.version.hlc.physicalMillis + 1000, logical: 0), origin: origins[origin]))
    }

    @Test func equalReplicasSettleInOneRoundTrip() throws {
        let r = Self.replica(10_000)
        var pair = ReconcilePair(a: r, b: r)
        let (initiator, responder) = try pair.run()
        #expect(pair.rounds == 2)  // fingerprint, then "done"
        #expect(pair.bytes < 100)
        #expect(initiator.finished && responder.finished)
        #expect(initiator.foundEqual && responder.foundEqual)
    }

    @Test func aFewDifferencesCostFewBytesWhateverTheSize() throws {
        let base = Self.replica(100_000)
        var b = base
        var random = SeededRandom(seed: 9)
        let keys = base.keys.sorted()
        for _ in 0..<10 {
            let key = keys.randomElement(using: &random)!
            b[key] = Self.newer(base[key]!, value: "changed on b")
        }
        var pair = ReconcilePair(a: base, b: b)
        let (initiator, _) = try pair.run()
        #expect(pair.a == pair.b)
        #expect(!initiator.foundEqual)
        print("100,000 keys differing in 10: \(pair.rounds) messages, \(pair.bytes) bytes")
        #expect(pair.bytes < 64 * 1024, "\(pair.bytes) bytes")
        #expect(pair.rounds <= 12)
    }

    @Test func anEmptyReplicaCatchesUpAndTombstonesTravel() throws {
        var full = Self.replica(5_000)
        for key in full.keys.sorted().prefix(500) { full[key] = Self.newer(full[key]!, value: nil) }
        var pair = ReconcilePair(a: [:], b: full)
        _ = try pair.run()
        #expect(pair.a == full)
        #expect(pair.a.values.filter { $0.value == nil }.count == 500)
        // Bounded messages: entries are sent in slices of about 512 KiB.
        #expect(pair.maxMessageBytes < 1 << 20)
    }

    @Test func bothSidesWriteTheSameKeysAndTheGreatestVersionWins() throws {
        let base = Self.replica(3_000)
        var a = base, b = base
        var random = SeededRandom(seed: 3)
        for key in base.keys.sorted() where Int.random(in: 0..<10, using: &random) == 0 {
            let old = base[key]!
            a[key] = Entry(key: key, value: "a", version: Version(hlc: HLC(physicalMillis: old.version.hlc.physicalMillis + 5, logical: 0), origin: Self.origins[1]))
            b[key] = Entry(key: key, value: Bool.random(using: &random) ? "b" : nil,
                           version: Version(hlc: HLC(physicalMillis: old.version.hlc.physicalMillis + 5, logical: 0), origin: Self.origins[2]))
        }
        a["only-a"] = Entry(key: "only-a", value: "x", version: Version(hlc: HLC(physicalMillis: 1, logical: 0), origin: Self.origins[1]))
        b["only-b"] = Entry(key: "only-b", value: nil, version: Version(hlc: HLC(physicalMillis: 1, logical: 0), origin: Self.origins[2]))
        var pair = ReconcilePair(a: a, b: b)
        _ = try pair.run()
        #expect(pair.a == pair.b)
        // origins[2] > origins[1] at equal hlc: every contested key holds b's write.
        #expect(pair.a.values.filter { $0.version.origin == Self.origins[1] && $0.key != "only-a" }.isEmpty)
        #expect(pair.a["only-b"]?.value == nil && pair.a["only-b"] != nil)
    }

    @Test(arguments: [UInt64(1), 2, 3, 4, 5])
    func randomReplicasConverge(seed: UInt64) throws {
        var random = SeededRandom(seed: seed)
        var a: [String: Entry] = [:], b: [String: Entry] = [:]
        // A version names one write: the logical counter keeps (hlc, origin) unique, as real clocks do.
        for n in 0..<Int.random(in: 0..<3000, using: &random) {
            let key = "k\(Int.random(in: 0..<2000, using: &random))"
            let e = Entry(key: key, value: Bool.random(using: &random) ? "v\(random.next() % 100)" : nil,
                          version: Version(hlc: HLC(physicalMillis: UInt64.random(in: 1...50, using: &random), logical: UInt32(n)),
                                           origin: Self.origins[Int.random(in: 0..<4, using: &random)]))
            if Bool.random(using: &random) { ReconcilePair.merge([e], into: &a) } else { ReconcilePair.merge([e], into: &b) }
        }
        var pair = ReconcilePair(a: a, b: b)
        _ = try pair.run()
        #expect(pair.a == pair.b)
        var expected = a
        ReconcilePair.merge(Array(b.values), into: &expected)
        #expect(pair.a == expected)
    }

    // MARK: - A peer that lies

    static let honest = ReconcilePair.index(replica(5_000))

    @Test func fingerprintsThatNeverMatchAreCutOffAfterBoundedRounds() throws {
        var session = ReconcileSession(role: .responder, index: Self.honest)
        var random = SeededRandom(seed: 5)
        var lastError: ReconcileError?
        for _ in 0..<600 {
            // Whatever we answer, the liar claims one range over everything with a random fingerprint.
            let lie = ReconcileMessage(ranges: [.init(lower: [], upper: nil, payload: .fingerprint(Fingerprint(low: random.next(), high: random.next(), count: 1_000_000)))])
            do { _ = try session.receive(lie) { _ in [] } } catch { lastError = error; break }
        }
        #expect(lastError == .limit("more than 512 rounds"))
        #expect(session.rounds <= 513)
    }

    @Test func rangesOutOfOrderOrOutsideTheirBoundsAreRefused() {
        let fp = ReconcileMessage.Payload.fingerprint(.empty)
        let cases: [ReconcileMessage] = [
            ReconcileMessage(ranges: [.init(lower: Array("b".utf8), upper: Array("c".utf8), payload: fp), .init(lower: Array("a".utf8), upper: Array("b".utf8), payload: fp)]),
            ReconcileMessage(ranges: [.init(lower: Array("b".utf8), upper: Array("a".utf8), payload: fp)]),
            ReconcileMessage(ranges: [.init(lower: [], upper: nil, payload: fp), .init(lower: Array("z".utf8), upper: nil, payload: fp)]),
            ReconcileMessage(ranges: [.init(lower: Array("m".utf8), upper: Array("n".utf8), payload: .ids([ItemID(key: Array("a".utf8), version: Version(hlc: .zero, origin: []))], reply: true))]),
            ReconcileMessage(ranges: [.init(lower: [], upper: nil, payload: .ids([ItemID(key: Array("b".utf8), version: Version(hlc: .zero, origin: [])), ItemID(key: Array("a".utf8), version: Version(hlc: .zero, origin: []))], reply: true))]),
        ]
        for message in cases {
            var session = ReconcileSession(role: .responder, index: Self.honest)
            #expect(throws: ReconcileError.self) { _ = try session.receive(message) { _ in [] } }
        }
    }

    @Test func endlessRangesAndHugeListsHitTheLimits() {
        var limits = ReconcileSession.Limits()
        limits.maxRangesPerMessage = 1000
        limits.maxIDsPerMessage = 1000
        var session = ReconcileSession(role: .responder, index: Self.honest, limits: limits)
        let many = (0..<1001).map { i in ReconcileMessage.RangeItem(lower: Array("r\(1000 + i)".utf8), upper: Array("r\(1000 + i)~".utf8), payload: .fingerprint(.empty)) }
        #expect(throws: ReconcileError.limit("1001 ranges in one message")) { _ = try session.receive(ReconcileMessage(ranges: many)) { _ in [] } }
        var other = ReconcileSession(role: .responder, index: Self.honest, limits: limits)
        let ids = (0..<1001).map { ItemID(key: Array("k\(100_000 + $0)".utf8), version: Version(hlc: .zero, origin: [])) }
        #expect(throws: ReconcileError.self) { _ = try other.receive(ReconcileMessage(ranges: [.init(lower: [], upper: nil, payload: .ids(ids, reply: true))])) { _ in [] } }
    }

    @Test func garbageDoesNotDecode() {
        for bytes: [UInt8] in [[0x0a, 0x05, 0x18, 0x07], [0x0a, 0x02, 0x18, 0x00], [0x1a, 0x03, 0x0a, 0x01, 0xff], [0xff, 0xff]] {
            #expect(throws: ReconcileError.self) { _ = try ReconcileMessage(decoding: bytes) }
        }
    }

    @Test func fingerprintsAddAndSubtract() {
        let x = Fingerprint(low: .max, high: 1, count: 2), y = Fingerprint(low: 1, high: 0, count: 1)
        #expect(x + y == Fingerprint(low: 0, high: 2, count: 3))
        #expect((x + y) - y == x)
        #expect(Self.honest.fingerprint(Self.honest.indices([], nil)) == Self.honest.fingerprint)
        let middle = Self.honest.indices(Array("key/2".utf8), Array("key/3".utf8))
        #expect(Self.honest.fingerprint(0..<middle.lowerBound) + Self.honest.fingerprint(middle)
                + Self.honest.fingerprint(middle.upperBound..<Self.honest.count) == Self.honest.fingerprint)
    }
}

extension ReconcileSessionTests {
    /// A third of 150,000 keys differ, spread over the key space: the lists would not fit one
    /// message, so they spread over several, each far under the 16 MiB frame limit.
    @Test func aLargeDifferenceSpreadsOverBoundedMessages() throws {
        let base = Self.replica(150_000)
        var b = base
        for (i, key) in base.keys.sorted().enumerated() where i % 3 == 0 { b[key] = Self.newer(base[key]!, value: "changed") }
        var pair = ReconcilePair(a: base, b: b)
        _ = try pair.run()
        #expect(pair.a == pair.b)
        #expect(pair.maxMessageBytes < 8 << 20, "largest message \(pair.maxMessageBytes) bytes")
        print("150,000 keys differing in 50,000: \(pair.rounds) messages, \(pair.bytes) bytes, largest \(pair.maxMessageBytes)")
    }

    /// A new, empty replica gets everything pushed: no item lists, no wants.
    @Test func anEmptyReplicaIsPushedEverythingWithoutLists() throws {
        let full = Self.replica(50_000)
        var pair = ReconcilePair(a: [:], b: full)
        _ = try pair.run()
        #expect(pair.a == full)
        let entryBytes = full.values.reduce(0) { $0 + $1.key.utf8.count + ($1.value?.utf8.count ?? 0) + 40 }
        #expect(pair.bytes < entryBytes + entryBytes / 4, "\(pair.bytes) bytes for about \(entryBytes) of entries")
    }
}
