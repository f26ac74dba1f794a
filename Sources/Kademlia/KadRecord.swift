import Wire

/// A value record as dht.proto carries it (libp2p-wire.md section 8.1):
/// ```
/// message Record { bytes key = 1; bytes value = 2; string timeReceived = 5; }
/// ```
/// Fields 3 and 4 (author, signature) were removed from the spec; like any unknown field they
/// are skipped. `timeReceived` is RFC 3339 text set by the node that stored the record.
public struct KadRecord: Equatable, Hashable, Sendable {
    public var key: [UInt8]
    public var value: [UInt8]
    /// Nil when absent; proto3 cannot tell an empty string from an absent one, so an empty
    /// string decodes as nil too (and nil is what we encode for it).
    public var timeReceived: String?

    public init(key: [UInt8], value: [UInt8], timeReceived: String? = nil) {
        self.key = key
        self.value = value
        self.timeReceived = timeReceived
    }

    /// The protobuf bytes, fields in number order, empty proto3 fields omitted.
    public func encoded() -> [UInt8] {
        var w = ProtobufWriter()
        if !key.isEmpty { w.bytesField(1, key) }
        if !value.isEmpty { w.bytesField(2, value) }
        if let timeReceived, !timeReceived.isEmpty { w.stringField(5, timeReceived) }
        return w.bytes
    }

    public init(decoding bytes: [UInt8]) throws(KadMessageError) {
        var key: [UInt8] = [], value: [UInt8] = [], timeReceived: String?
        try ProtobufReader.forEachField(in: bytes, malformed: { KadMessageError.malformed("record: \($0)") }) {
            (field, wire) throws(KadMessageError) in
            guard field == 1 || field == 2 || field == 5 else { return }
            guard case .bytes(let b) = wire else { throw .wrongWireType(field: field, in: "Record") }
            switch field {
            case 1: key = b
            case 2: value = b
            default:
                guard let text = String(validating: b, as: UTF8.self) else { throw .timeReceivedNotUTF8 }
                timeReceived = text.isEmpty ? nil : text
            }
        }
        self.init(key: key, value: value, timeReceived: timeReceived)
    }
}
