// libFuzzer target: ProtobufReader.

import Wire

/// Whatever the reader yields, writing it back and reading again gives the same fields.
@_cdecl("LLVMFuzzerTestOneInput")
public func protobufReaderFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var reader = ProtobufReader(Array(UnsafeBufferPointer(start: data, count: size)))
    var fields: [(UInt64, ProtobufValue)] = []
    while let field = try? reader.next() { fields.append(field) }
    var writer = ProtobufWriter()
    for (number, value) in fields {
        switch value {
        case .varint(let v): writer.varintField(number, v)
        case .bytes(let b): writer.bytesField(number, b)
        case .fixed64(let v): writer.fixed64Field(number, v)
        case .fixed32(let v): writer.fixed32Field(number, v)
        }
    }
    var again = ProtobufReader(writer.bytes)
    for (number, value) in fields {
        guard let field = try? again.next() else { preconditionFailure("re-encoded field \(number) did not read back") }
        precondition(field.field == number && field.value == value, "field \(number) changed on re-encoding")
    }
    precondition(again.isAtEnd, "re-encoding produced extra bytes")
    return 0
}
