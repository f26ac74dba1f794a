import SyncStore
import Testing

@Suite struct HybridClockTests {
    @Test func textFormRoundTripsAndIsStrict() {
        let hlc = HLC(physicalMillis: 1_764_040_000_123, logical: 7)
        #expect(hlc.description == "1764040000123:7")
        #expect(HLC("1764040000123:7") == hlc)
        for bad in ["", "1:", ":1", "-1:0", "1:-1", "1:2:3", "a:1", "1 :2", "18446744073709551616:0", "1:4294967296", "+1:0"] {
            #expect(HLC(bad) == nil, "\(bad)")
        }
    }

    @Test func ordersByPhysicalThenLogical() {
        #expect(HLC(physicalMillis: 1, logical: 9) < HLC(physicalMillis: 2, logical: 0))
        #expect(HLC(physicalMillis: 2, logical: 0) < HLC(physicalMillis: 2, logical: 1))
    }

    @Test func tickIsStrictlyIncreasingEvenWhenWallTimeStandsOrGoesBack() {
        var clock = HybridClock()
        var last = HLC.zero
        for wall: UInt64 in [100, 100, 100, 99, 50, 101, 101, 200, 10] {
            let next = clock.tick(wallMillis: wall)
            #expect(next > last)
            last = next
        }
        #expect(last == HLC(physicalMillis: 200, logical: 1))
    }

    @Test func observedRemoteVersionsAreExceeded() throws {
        var clock = HybridClock()
        try clock.observe(HLC(physicalMillis: 5_000, logical: 3), wallMillis: 1_000)
        #expect(clock.tick(wallMillis: 1_000) == HLC(physicalMillis: 5_000, logical: 4))
    }

    @Test func refusesVersionsMoreThanAMinuteAhead() throws {
        var clock = HybridClock()
        try clock.observe(HLC(physicalMillis: 61_000, logical: 0), wallMillis: 1_000)  // exactly 60 s: accepted
        #expect(throws: ClockError.tooFarAhead(remote: HLC(physicalMillis: 61_001, logical: 0), localWallMillis: 1_000)) {
            try clock.observe(HLC(physicalMillis: 61_001, logical: 0), wallMillis: 1_000)
        }
        #expect(clock.last == HLC(physicalMillis: 61_000, logical: 0))
    }

    @Test func versionsOrderByClockThenOrigin() {
        let a = Version(hlc: HLC(physicalMillis: 1, logical: 0), origin: [1, 2])
        let b = Version(hlc: HLC(physicalMillis: 1, logical: 0), origin: [1, 3])
        let c = Version(hlc: HLC(physicalMillis: 1, logical: 0), origin: [1])
        #expect(a < b && c < a)
        #expect(Version(hlc: HLC(physicalMillis: 0, logical: 5), origin: [9]) < a)
    }
}
