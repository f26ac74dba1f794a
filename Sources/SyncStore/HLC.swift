/// A hybrid logical clock timestamp: wall-clock milliseconds and a logical counter that
/// orders events within one millisecond (DESIGN.md section 3). Ordered by `physicalMillis`,
/// then `logical`.
///
/// Text form `"<physicalMillis>:<logical>"`, e.g. `1764040000123:0`. Parsing is strict and
/// canonical: two unsigned decimal numbers without sign, spaces or leading zeros, so that
/// every timestamp has exactly one spelling and `HLC(hlc.description) == hlc`.
public struct HLC: Comparable, Hashable, Sendable, CustomStringConvertible, LosslessStringConvertible {
    public var physicalMillis: UInt64
    public var logical: UInt32

    public static let zero = HLC(physicalMillis: 0, logical: 0)

    public init(physicalMillis: UInt64, logical: UInt32) {
        self.physicalMillis = physicalMillis
        self.logical = logical
    }

    /// Parses the text form; nil for anything that `description` would not produce.
    public init?(_ text: String) {
        let parts = text.utf8.split(separator: UInt8(ascii: ":"), maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 2,
              let physical = HLC.canonicalDecimal(parts[0], as: UInt64.self),
              let logical = HLC.canonicalDecimal(parts[1], as: UInt32.self) else { return nil }
        self.init(physicalMillis: physical, logical: logical)
    }

    public var description: String { "\(physicalMillis):\(logical)" }

    public static func < (a: HLC, b: HLC) -> Bool {
        (a.physicalMillis, a.logical) < (b.physicalMillis, b.logical)
    }

    /// ASCII digits only, no leading zero unless the number is 0, and no overflow.
    /// (`UInt64(_:)` alone would accept "+1" and "007".)
    private static func canonicalDecimal<T: FixedWidthInteger & UnsignedInteger>(_ digits: Substring.UTF8View.SubSequence, as: T.Type) -> T? {
        guard let first = digits.first, digits.count == 1 || first != UInt8(ascii: "0") else { return nil }
        var value: T = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(T(byte - UInt8(ascii: "0")))
            guard !o1, !o2 else { return nil }
            value = sum
        }
        return value
    }
}
