/// The shared encoding of the `PublicKey` and `PrivateKey` messages, which have the same
/// shape: `required KeyType Type = 1; required bytes Data = 2;` (libp2p-wire.md §1.5).
///
/// Decoding is strict: it accepts only the deterministic encoding (`08 <type> 12 <len> <data>`,
/// both fields, in tag order, minimal varints, nothing else), so `encode(decode(x)) == x` for
/// every accepted `x`. A proto3 writer that drops `Type = RSA (0)` is therefore rejected; we
/// only use Ed25519 keys, whose `Type` is never left out.
enum KeyProtobufCodec {
    static func encode(type: KeyType, data: [UInt8]) -> [UInt8] {
        var writer = ProtobufWriter()
        writer.varintField(1, type.rawValue)
        writer.bytesField(2, data)
        return writer.bytes
    }

    static func decode(_ bytes: [UInt8]) throws(KeyProtobufError) -> (type: KeyType, data: [UInt8]) {
        var reader = ProtobufReader(bytes)
        var type: KeyType?
        var data: [UInt8]?
        while true {
            let next: (field: UInt64, value: ProtobufValue)?
            do { next = try reader.next() } catch { throw .malformed(error) }
            guard let (field, value) = next else { break }
            switch (field, value) {
            case (1, .varint(let raw)):
                guard type == nil, data == nil else { throw .fieldsOutOfOrder }
                guard let known = KeyType(rawValue: raw) else { throw .unknownKeyType(raw) }
                type = known
            case (2, .bytes(let b)):
                guard data == nil else { throw .fieldsOutOfOrder }
                guard type != nil else { throw .fieldsOutOfOrder }
                data = b
            case (1, _), (2, _):
                throw .wrongWireType(field: field)
            default:
                throw .unknownField(field)
            }
        }
        guard let type else { throw .missingField("Type") }
        guard let data else { throw .missingField("Data") }
        guard encode(type: type, data: data) == bytes else { throw .notCanonical }
        return (type, data)
    }
}
