/// The multiformats unsigned varint (libp2p-wire.md §1.1): unsigned LEB128, minimal, at most
/// 9 bytes. Not the protobuf varint (see `ProtobufReader`), which allows 10 bytes and padding.
public enum Varint {
    /// The longest encoding the multiformats spec allows (63-bit values).
    public static let maxBytes = 9
    /// The largest value that fits in `maxBytes`.
    public static let maxValue: UInt64 = (1 << 63) - 1

    /// The minimal encoding of `value`. Values above `maxValue` are a caller bug.
    public static func encode(_ value: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(maxBytes)
        append(value, to: &out)
        return out
    }

    /// Appends the minimal encoding of `value` to `out`.
    public static func append(_ value: UInt64, to out: inout [UInt8]) {
        precondition(value <= maxValue, "Varint.append: \(value) does not fit in a 9-byte multiformats varint")
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    /// How many bytes `encode(value)` would produce.
    public static func encodedCount(_ value: UInt64) -> Int {
        var v = value
        var n = 1
        while v >= 0x80 { v >>= 7; n += 1 }
        return n
    }

    /// Decodes one varint from the front of `bytes`. Returns nil when `bytes` ends before the
    /// varint does, so stream parsers can call it on partial input and wait for more.
    /// Throws when the bytes seen so far can never become a valid varint.
    @inlinable
    public static func decode<C: Collection>(_ bytes: C) throws(VarintError) -> (value: UInt64, byteCount: Int)?
    where C.Element == UInt8 {
        var value: UInt64 = 0
        var count = 0
        for byte in bytes {
            value |= UInt64(byte & 0x7f) << (7 * count)
            count += 1
            if byte & 0x80 == 0 {
                // Only the number 0 itself may end in a 0x00 byte (§1.1).
                if byte == 0 && count > 1 { throw .notMinimal }
                return (value, count)
            }
            // A ninth byte that still says "more follows" would need a tenth: past 2^63-1.
            if count == 9 { throw .overflow }
        }
        return nil
    }
}
