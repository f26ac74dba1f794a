import SyncStore
import Testing

/// The clock: never backwards, above everything seen, and refusing far-future peers.
@Suite struct HybridClockTests {
    @Test func tickStrictlyIncreasesWhenWallTimeStandsStillOrGoesBack() {
        var clock = HybridClock()
        var issued: [HLC] = []
        for wall: UInt64 in [100, 100, 100, 99, 50, 101, 101, 200, 10, 0] {
            issued.append(clock.tick(wallMillis: wall))
        }
        for (earlier, later) in zip(issued, issued.dropFirst()) { #expect(earlier < later) }
        #expect(issued.map(\.description) == ["100:0", "100:1", "100:2", "100:3", "100:4", "101:0", "101:1", "200:0", "200:1", "200:2"])
        #expect(clock.last == issued.last)
    }

    @Test func aRestartedClockStartsAboveWhatItIsGiven() {
        var clock = HybridClock(lastIssued: HLC(physicalMillis: 5_000, logical: 9))
        #expect(clock.tick(wallMillis: 1_000) == HLC(physicalMillis: 5_000, logical: 10))
    }

    @Test func anExhaustedLogicalCounterBorrowsTheNextMillisecond() {
        var clock = HybridClock(lastIssued: HLC(physicalMillis: 100, logical: .max))
        #expect(clock.tick(wallMillis: 100) == HLC(physicalMillis: 101, logical: 0))
    }

    @Test func observeThenTickExceedsTheRemote() throws {
        var clock = HybridClock()
        _ = clock.tick(wallMillis: 1_000)
        let remote = HLC(physicalMillis: 5_000, logical: 3)
        try clock.observe(remote, wallMillis: 1_000)
        let next = clock.tick(wallMillis: 1_000)
        #expect(next > remote)
        #expect(next == HLC(physicalMillis: 5_000, logical: 4))
        // An older remote does not move the clock back.
        try clock.observe(HLC(physicalMillis: 10, logical: 0), wallMillis: 1_000)
        #expect(clock.last == next)
        // A remote in our own millisecond with a higher counter.
        var other = HybridClock()
        try other.observe(HLC(physicalMillis: 7_000, logical: 41), wallMillis: 7_000)
        #expect(other.tick(wallMillis: 7_000) == HLC(physicalMillis: 7_000, logical: 42))
    }

    @Test func exactlySixtySecondsAheadIsAcceptedOneMoreMillisecondIsRefused() throws {
        var clock = HybridClock()
        try clock.observe(HLC(physicalMillis: 61_000, logical: 7), wallMillis: 1_000)
        #expect(clock.last == HLC(physicalMillis: 61_000, logical: 7))
        let tooFar = HLC(physicalMillis: 61_001, logical: 0)
        let error = #expect(throws: ClockError.self) { try clock.observe(tooFar, wallMillis: 1_000) }
        #expect(error == .tooFarAhead(remote: tooFar, localWallMillis: 1_000))
        #expect(error?.description.contains("61001:0") == true)
        #expect(error?.description.contains("60.001 s ahead") == true)
        // A refused timestamp leaves the clock alone.
        #expect(clock.last == HLC(physicalMillis: 61_000, logical: 7))
    }

    @Test func aWallClockNearTheEndOfTimeDoesNotWrapTheLimit() throws {
        var clock = HybridClock()
        try clock.observe(HLC(physicalMillis: .max, logical: 0), wallMillis: .max - 10)
        #expect(clock.last.physicalMillis == .max)
    }

    @Test func aHandBuiltErrorDescribesItselfWithoutTrapping() {
        let error = ClockError.tooFarAhead(remote: .zero, localWallMillis: 5)
        #expect(error.description.contains("0.000 s ahead"))
    }
}
