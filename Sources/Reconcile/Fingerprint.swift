/// The fingerprint of a set of items: the sum, modulo 2^128, of each item's 16-byte hash,
/// and the number of items. A sum (not XOR) so that two copies of an item do not cancel; an
/// additive one so that the fingerprint of any range comes from two prefix sums.
public struct Fingerprint: Equatable, Sendable, CustomStringConvertible {
    public var low: UInt64
    public var high: UInt64
    public var count: UInt64

    public static let empty = Fingerprint(low: 0, high: 0, count: 0)

    public init(low: UInt64, high: UInt64, count: UInt64) {
        self.low = low
        self.high = high
        self.count = count
    }

    /// An item's contribution: the first 16 bytes of its hash, little-endian halves.
    public init(itemHash hash: [UInt8]) {
        precondition(hash.count >= 16)
        var l: UInt64 = 0, h: UInt64 = 0
        for i in 0..<8 { l |= UInt64(hash[i]) << (8 * i); h |= UInt64(hash[8 + i]) << (8 * i) }
        self.init(low: l, high: h, count: 1)
    }

    public static func + (a: Fingerprint, b: Fingerprint) -> Fingerprint {
        let (low, carry) = a.low.addingReportingOverflow(b.low)
        return Fingerprint(low: low, high: a.high &+ b.high &+ (carry ? 1 : 0), count: a.count &+ b.count)
    }

    public static func - (a: Fingerprint, b: Fingerprint) -> Fingerprint {
        let (low, borrow) = a.low.subtractingReportingOverflow(b.low)
        return Fingerprint(low: low, high: a.high &- b.high &- (borrow ? 1 : 0), count: a.count &- b.count)
    }

    /// The 16 sum bytes as sent on the wire (little-endian low half, then high half).
    public var sumBytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: low >> (8 * $0)) } + (0..<8).map { UInt8(truncatingIfNeeded: high >> (8 * $0)) }
    }

    public init?(sumBytes bytes: [UInt8], count: UInt64) {
        guard bytes.count == 16 else { return nil }
        self.init(itemHash: bytes)
        self.count = count
    }

    /// The 64 bits sent on the wire for a range: the sum's halves XORed. A range comparison
    /// then misses a difference with probability 2^-64, and a fingerprint range costs 8 bytes
    /// less; `digest` keeps all 128 bits.
    public var folded: UInt64 { low ^ high }

    /// A fingerprint as received: only the folded sum is known.
    public init(folded: UInt64, count: UInt64) { self.init(low: folded, high: 0, count: count) }

    /// True when `other`, received folded, matches this full fingerprint.
    public func matches(folded other: Fingerprint) -> Bool { folded == other.folded && count == other.count }

    /// Hex of the sum, then the count: what `p2p-syncctl digest` prints.
    public var description: String {
        sumBytes.reversed().map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() + "/\(count)"
    }
}
