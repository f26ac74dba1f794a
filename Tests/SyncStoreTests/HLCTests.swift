import SyncStore
import Testing

/// The timestamp type and the version order built on it (DESIGN.md section 3).
@Suite struct HLCTests {
    @Test func textFormRoundTrips() {
        let samples = [HLC(physicalMillis: 1_764_040_000_123, logical: 7), .zero,
                       HLC(physicalMillis: .max, logical: .max), HLC(physicalMillis: 10, logical: 0)]
        for hlc in samples { #expect(HLC(hlc.description) == hlc) }
        #expect(HLC(physicalMillis: 1_764_040_000_123, logical: 0).description == "1764040000123:0")
        #expect(HLC("18446744073709551615:4294967295") == HLC(physicalMillis: .max, logical: .max))
    }

    @Test(arguments: ["", ":", "1:", ":1", "1", "-1:0", "1:-1", "+1:0", "1:+0", "1:2:3", "a:1", "1:b", " 1:2", "1 :2",
                      "1:2\n", "1.0:2", "0x1:2", "\u{FF11}:2", "01:0", "1:00",
                      "18446744073709551616:0", "1:4294967296", "99999999999999999999999:0"])
    func parseRejectsJunk(_ text: String) {
        #expect(HLC(text) == nil)
    }

    @Test func ordersByPhysicalThenLogical() {
        #expect(HLC(physicalMillis: 1, logical: 9) < HLC(physicalMillis: 2, logical: 0))
        #expect(HLC(physicalMillis: 2, logical: 0) < HLC(physicalMillis: 2, logical: 1))
        #expect(!(HLC(physicalMillis: 2, logical: 1) < HLC(physicalMillis: 2, logical: 1)))
        #expect(HLC(physicalMillis: .max, logical: 0) > HLC(physicalMillis: 1 << 62, logical: .max))
    }

    @Test func versionsOrderByClockThenOriginBytes() {
        let hlc = HLC(physicalMillis: 1, logical: 0)
        let short = Version(hlc: hlc, origin: [1])
        let a = Version(hlc: hlc, origin: [1, 2])
        let b = Version(hlc: hlc, origin: [1, 3])
        let high = Version(hlc: hlc, origin: [0xff])
        #expect(short < a && a < b && b < high)
        #expect(Version(hlc: HLC(physicalMillis: 0, logical: 5), origin: [0xff, 0xff]) < short)
        #expect(Version(hlc: hlc, origin: []) < short)
    }
}
