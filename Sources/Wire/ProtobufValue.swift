/// One field value as it appears on the protobuf wire (wire types 0, 1, 2 and 5).
public enum ProtobufValue: Equatable, Sendable {
    case varint(UInt64)
    case bytes([UInt8])
    case fixed64(UInt64)
    case fixed32(UInt32)
}
