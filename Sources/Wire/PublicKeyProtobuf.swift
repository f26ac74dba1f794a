/// A libp2p `PublicKey` protobuf (libp2p-wire.md §1.5): the bytes peer IDs are made from and
/// that identify, Noise and pubsub carry. `Data` is key-type specific (raw 32 bytes for Ed25519).
public struct PublicKeyProtobuf: Hashable, Sendable {
    public var type: KeyType
    public var data: [UInt8]

    public init(type: KeyType, data: [UInt8]) {
        self.type = type
        self.data = data
    }

    /// Decodes the canonical encoding only; see `KeyProtobufCodec` for what is rejected.
    public init(decoding bytes: [UInt8]) throws(KeyProtobufError) {
        (type, data) = try KeyProtobufCodec.decode(bytes)
    }

    /// The deterministic encoding: both fields always, in tag order.
    public func encoded() -> [UInt8] { KeyProtobufCodec.encode(type: type, data: data) }
}
