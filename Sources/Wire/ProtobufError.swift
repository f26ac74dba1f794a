/// Why `ProtobufReader` could not read the next field.
public enum ProtobufError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The message ends inside a tag, varint, length or value.
    case truncated(offset: Int)
    /// A varint longer than 10 bytes, or a 10th byte carrying bits past 2^64.
    case varintTooLong(offset: Int)
    /// A length-delimited field claims more bytes than remain.
    case lengthExceedsMessage(offset: Int, length: UInt64, remaining: Int)
    /// Wire types 3 and 4 (groups, deprecated) and 6, 7 (undefined).
    case unsupportedWireType(UInt8, offset: Int)
    /// Field number 0, or one above 2^29-1.
    case invalidFieldNumber(UInt64, offset: Int)

    public var description: String {
        switch self {
        case .truncated(let offset): "protobuf message ends in the middle of a field (at byte \(offset))"
        case .varintTooLong(let offset): "protobuf varint at byte \(offset) is longer than 10 bytes or exceeds 64 bits"
        case .lengthExceedsMessage(let offset, let length, let remaining):
            "protobuf field at byte \(offset) claims \(length) bytes but only \(remaining) remain"
        case .unsupportedWireType(let type, let offset):
            "protobuf wire type \(type) at byte \(offset) is not supported (groups and types 6-7 are not used by libp2p)"
        case .invalidFieldNumber(let number, let offset): "protobuf field number \(number) at byte \(offset) is invalid"
        }
    }
}
