@testable import SyncNode
import SyncStore
import Testing

/// The clock rule (issue 17, docs/PROTOCOL.md "Clock rule") in the engine alone, on a wall
/// clock the test moves.
@Suite struct SyncEngineClockRuleTests {
    final class Wall: @unchecked Sendable { var millis: UInt64 = 1_795_000_000_000 }

    static let writer: [UInt8] = [0x00, 0x24, 0x08, 0x01]
    static let here: [UInt8] = [0x00, 0x24, 0x08, 0x02]

    func engine(_ wall: Wall, limit: UInt64 = 2_000) throws -> SyncEngine {
        try SyncEngine(store: try Store(path: Store.inMemoryPath), localOrigin: Self.here,
                       logger: LogSink(filter: LogFilter(defaultLevel: .error)).logger("store"),
                       wallMillis: { wall.millis }, maxClockSkewMillis: limit)
    }

    func entry(_ key: String, _ value: String, at millis: UInt64) -> Entry {
        Entry(key: key, value: value, version: Version(hlc: HLC(physicalMillis: millis, logical: 0), origin: Self.writer))
    }

    @Test func aWriteTooFarAheadIsRefusedAloneAndStaysRefusedOnceInRange() throws {
        let wall = Wall()
        let engine = try engine(wall)
        let early = entry("k", "from the fast clock", at: wall.millis + 6_000)
        let fine = entry("other", "in range", at: wall.millis + 1_000)
        let refused = engine.stageRemote([early, fine])
        #expect(refused.map(\.entry) == [early])
        engine.commitStaged()
        #expect(try engine.get(key: "other")?.value == "in range")
        #expect(engine.clockRefusals == 1 && engine.clockRefusals(from: Self.writer) == 1)

        // A later local write; then the clock passes the early write's version minus the limit.
        wall.millis += 2_000
        var acknowledged: Entry?
        engine.stagePut(key: "k", value: "later, here") { acknowledged = try? $0.get().entry }
        engine.commitStaged()
        #expect(acknowledged != nil)
        wall.millis += 3_000
        #expect(engine.stageRemote([early]).count == 1)  // in range now, but kept out
        engine.commitStaged()
        #expect(try engine.get(key: "k")?.value == "later, here")
        #expect(engine.keptRefusedCount == 1)
        #expect(engine.stageRemote([early]).count == 1)
        #expect(engine.keptRefusedCount == 1)  // counted (and logged) once per write
        #expect(engine.clockRefusals == 1)
    }

    @Test func aRefusalOutlivesARestart() throws {
        let wall = Wall()
        let store = try Store(path: Store.inMemoryPath)
        let log = LogSink(filter: LogFilter(defaultLevel: .error)).logger("store")
        let early = entry("k", "from the fast clock", at: wall.millis + 6_000)
        do {
            let engine = try SyncEngine(store: store, localOrigin: Self.here, logger: log, wallMillis: { wall.millis }, maxClockSkewMillis: 2_000)
            #expect(engine.stageRemote([early]).count == 1)
        }
        wall.millis += 10_000
        let restarted = try SyncEngine(store: store, localOrigin: Self.here, logger: log, wallMillis: { wall.millis }, maxClockSkewMillis: 2_000)
        #expect(restarted.stageRemote([early]).count == 1)
        #expect(restarted.keptRefusedCount == 1)
        restarted.commitStaged()
        #expect(try restarted.get(key: "k") == nil)
    }

    @Test func exactlyTheLimitAheadIsAccepted() throws {
        let wall = Wall()
        let engine = try engine(wall)
        #expect(engine.stageRemote([entry("k", "v", at: wall.millis + 2_000)]).isEmpty)
        #expect(engine.stageRemote([entry("j", "v", at: wall.millis + 2_001)]).count == 1)
    }

    @Test func localWritesFailWithTheClockErrorWhileTheCheckSaysSo() throws {
        let wall = Wall()
        let engine = try engine(wall)
        engine.localWriteCheck = { "this node's clock is +300.0 s ahead" }
        var result: Result<CommittedWrite, StoreError>?
        engine.stagePut(key: "k", value: "v") { result = $0 }
        #expect(result.map { if case .failure(.clockAhead(let why)) = $0 { why.contains("+300.0 s") } else { false } } == true)
        engine.stageDelete(key: "k") { result = $0 }
        #expect(engine.localClockRefusals == 2)
        engine.localWriteCheck = { nil }
        engine.stagePut(key: "k", value: "v") { result = $0 }
        engine.commitStaged()
        #expect((try? result?.get()) != nil)
    }
}

/// Commit timing (issue 15): a commit of 10 ms or more is kept with its parts, so that a slow
/// loop turn's before-sleep phase says where its time went.
@Suite struct SyncEngineCommitTimingTests {
    @Test func slowCommitsAreKeptWithTheirParts() throws {
        let engine = try SyncEngine(store: try Store(path: Store.inMemoryPath), localOrigin: [0, 1],
                                    logger: LogSink(filter: LogFilter(defaultLevel: .error)).logger("store"),
                                    wallMillis: { 1_795_000_000_000 })
        final class Clock: @unchecked Sendable { var ns: UInt64 = 0; var step: UInt64 = 0 }
        let clock = Clock()
        engine.monotonicNanos = { clock.ns += clock.step; return clock.ns }
        engine.stagePut(key: "fast", value: "v") { _ in }
        engine.commitStaged()
        #expect(engine.slowCommits.isEmpty)
        clock.step = 4_000_000  // each reading 4 ms after the last: 16 ms in all
        engine.stagePut(key: "slow", value: "v") { _ in }
        engine.commitStaged()
        let timing = try #require(engine.slowCommits.first)
        #expect(timing.total == 16_000_000 && timing.store == 4_000_000 && timing.index == 4_000_000 && timing.rest == 4_000_000)
        #expect(timing.local == 1 && timing.remote == 0)
    }
}
