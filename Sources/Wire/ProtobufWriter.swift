/// A minimal protobuf encoder for libp2p messages. Fields are written in the order the
/// caller writes them, with minimal varints, so the output is deterministic (libp2p-wire.md §1.5).
public struct ProtobufWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    /// Wire type 0.
    public mutating func varintField(_ field: UInt64, _ value: UInt64) {
        tag(field, wireType: 0)
        Self.appendVarint(value, to: &bytes)
    }

    /// Wire type 2.
    public mutating func bytesField(_ field: UInt64, _ value: [UInt8]) {
        tag(field, wireType: 2)
        Self.appendVarint(UInt64(value.count), to: &bytes)
        bytes += value
    }

    /// Wire type 2, UTF-8.
    public mutating func stringField(_ field: UInt64, _ value: String) {
        bytesField(field, Array(value.utf8))
    }

    /// Wire type 1, little-endian.
    public mutating func fixed64Field(_ field: UInt64, _ value: UInt64) {
        tag(field, wireType: 1)
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(8 * i))) }
    }

    /// Wire type 5, little-endian.
    public mutating func fixed32Field(_ field: UInt64, _ value: UInt32) {
        tag(field, wireType: 5)
        for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(8 * i))) }
    }

    private mutating func tag(_ field: UInt64, wireType: UInt64) {
        precondition(field >= 1 && field <= ProtobufReader.maxFieldNumber, "protobuf field number \(field) out of range")
        Self.appendVarint(field << 3 | wireType, to: &bytes)
    }

    /// Protobuf varints may need 10 bytes for 64-bit values, unlike `Varint` (9 at most).
    static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }
}
