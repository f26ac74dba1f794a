/// A libp2p `PrivateKey` protobuf (libp2p-wire.md §1.5), the format of identity key files.
/// `Data` is key-type specific (for Ed25519, seed(32) ‖ pub(32)). It holds secrets: keep copies short-lived.
public struct PrivateKeyProtobuf: Hashable, Sendable {
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
