/// A minimal protobuf decoder: yields `(field, value)` pairs in wire order and leaves
/// meaning (required fields, repeated fields, unknown fields) to the caller.
/// Malformed input is always a thrown `ProtobufError`, never a trap.
public struct ProtobufReader: Sendable {
    /// Protobuf field numbers are 29 bits.
    public static let maxFieldNumber: UInt64 = (1 << 29) - 1
    /// A protobuf varint holds 64 bits in at most 10 bytes.
    static let maxVarintBytes = 10

    private let bytes: [UInt8]
    private var position = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// True when every byte has been read.
    public var isAtEnd: Bool { position == bytes.count }

    /// The next field, or nil at the end of the message.
    public mutating func next() throws(ProtobufError) -> (field: UInt64, value: ProtobufValue)? {
        guard position < bytes.count else { return nil }
        let start = position
        let key = try readVarint()
        let field = key >> 3
        guard field >= 1 && field <= Self.maxFieldNumber else { throw .invalidFieldNumber(field, offset: start) }
        switch UInt8(key & 7) {
        case 0:
            return (field, .varint(try readVarint()))
        case 1:
            return (field, .fixed64(try readFixed(8)))
        case 2:
            let lengthOffset = position
            let length = try readVarint()
            let remaining = bytes.count - position
            guard length <= UInt64(remaining) else {
                throw .lengthExceedsMessage(offset: lengthOffset, length: length, remaining: remaining)
            }
            let value = Array(bytes[position..<position + Int(length)])
            position += Int(length)
            return (field, .bytes(value))
        case 5:
            return (field, .fixed32(UInt32(truncatingIfNeeded: try readFixed(4))))
        case let type:
            throw .unsupportedWireType(type, offset: start)
        }
    }

    /// Reads a protobuf varint: up to 10 bytes, padding tolerated as protobuf allows.
    private mutating func readVarint() throws(ProtobufError) -> UInt64 {
        let start = position
        var value: UInt64 = 0
        for i in 0..<Self.maxVarintBytes {
            guard position < bytes.count else { throw .truncated(offset: start) }
            let byte = bytes[position]
            position += 1
            // The 10th byte holds only bit 63; anything more is past 64 bits.
            if i == 9 && byte > 1 { throw .varintTooLong(offset: start) }
            value |= UInt64(byte & 0x7f) << UInt64(7 * i)
            if byte & 0x80 == 0 { return value }
        }
        throw .varintTooLong(offset: start)
    }

    /// Reads `count` bytes as a little-endian integer.
    private mutating func readFixed(_ count: Int) throws(ProtobufError) -> UInt64 {
        guard bytes.count - position >= count else { throw .truncated(offset: position) }
        var value: UInt64 = 0
        for i in 0..<count { value |= UInt64(bytes[position + i]) << UInt64(8 * i) }
        position += count
        return value
    }
}

extension ProtobufReader {
    /// Calls `body` for each field of `bytes` in wire order; a malformed message throws
    /// `malformed(error)`, so each codec reports it in its own error type.
    public static func forEachField<E: Error>(in bytes: [UInt8], malformed: (ProtobufError) -> E,
                                              _ body: (UInt64, ProtobufValue) throws(E) -> Void) throws(E) {
        var reader = ProtobufReader(bytes)
        while true {
            let next: (field: UInt64, value: ProtobufValue)?
            do { next = try reader.next() } catch { throw malformed(error) }
            guard let (field, value) = next else { return }
            try body(field, value)
        }
    }
}
