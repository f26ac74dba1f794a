import Wire

/// The Kademlia DHT message, `/ipfs/kad/1.0.0` (libp2p-wire.md section 8.1, dht.proto):
/// ```
/// message Message {
///   MessageType type = 1;  bytes key = 2;  Record record = 3;
///   repeated Peer closerPeers = 8;  repeated Peer providerPeers = 9;
///   int32 clusterLevelRaw = 10;      // unused: skipped, never sent
///   // py only: bytes senderRecord = 11 (skipped)
/// }
/// ```
/// proto3: PUT_VALUE is the zero value, so a message without `type` is a PUT_VALUE and we write
/// no `type` for one (py's `12016b1a060a016b120176` is PUT_VALUE key "k", record "k" = "v").
///
/// Decoding is bounded whatever the input: at most `maxPeersPerList` peers per list and
/// `maxAddressesPerPeer` addresses per peer are kept, the rest ignored, so a frame of the
/// handler's maximum size decodes to a structure of bounded size.
public struct KadMessage: Equatable, Hashable, Sendable {
    public enum MessageType: UInt64, Sendable, CustomStringConvertible {
        case putValue = 0, getValue = 1, addProvider = 2, getProviders = 3, findNode = 4
        /// Deprecated by the spec: answer it (py sends it), never send it.
        case ping = 5

        public var description: String {
            switch self {
            case .putValue: "PUT_VALUE"
            case .getValue: "GET_VALUE"
            case .addProvider: "ADD_PROVIDER"
            case .getProviders: "GET_PROVIDERS"
            case .findNode: "FIND_NODE"
            case .ping: "PING"
            }
        }
    }

    /// Peers kept per list when decoding: k = 20 is what honest peers send; 64 leaves room for
    /// generous implementations without letting a frame fill memory with peer structures.
    public static let maxPeersPerList = 64
    /// Addresses kept per peer when decoding: a peer with more than 16 is padding its entry.
    public static let maxAddressesPerPeer = 16

    public var type: MessageType
    public var key: [UInt8]
    public var record: KadRecord?
    public var closerPeers: [KadPeer]
    public var providerPeers: [KadPeer]

    public init(type: MessageType, key: [UInt8] = [], record: KadRecord? = nil, closerPeers: [KadPeer] = [],
                providerPeers: [KadPeer] = []) {
        self.type = type
        self.key = key
        self.record = record
        self.closerPeers = closerPeers
        self.providerPeers = providerPeers
    }

    /// The protobuf bytes, fields in number order; PUT_VALUE's type and an empty key are left
    /// out (proto3 zero values), as go and py do.
    public func encoded() -> [UInt8] {
        var w = ProtobufWriter()
        if type != .putValue { w.varintField(1, type.rawValue) }
        if !key.isEmpty { w.bytesField(2, key) }
        if let record { w.bytesField(3, record.encoded()) }
        for p in closerPeers { w.bytesField(8, p.encoded()) }
        for p in providerPeers { w.bytesField(9, p.encoded()) }
        return w.bytes
    }

    public init(decoding bytes: [UInt8]) throws(KadMessageError) {
        var type = MessageType.putValue
        var key: [UInt8] = []
        var record: KadRecord?
        var closer: [KadPeer] = []
        var providers: [KadPeer] = []
        try ProtobufReader.forEachField(in: bytes, malformed: { KadMessageError.malformed("\($0)") }) {
            (field, wire) throws(KadMessageError) in
            switch (field, wire) {
            case (1, .varint(let v)):
                guard let t = MessageType(rawValue: v) else { throw .unknownMessageType(v) }
                type = t
            case (2, .bytes(let b)): key = b
            case (3, .bytes(let b)): record = try KadRecord(decoding: b)
            case (8, .bytes(let b)):
                // Peers past the bound are not even decoded: no work grows with them but the read.
                guard closer.count < Self.maxPeersPerList,
                      let p = try KadPeer.decode(b, maxAddresses: Self.maxAddressesPerPeer) else { return }
                closer.append(p)
            case (9, .bytes(let b)):
                guard providers.count < Self.maxPeersPerList,
                      let p = try KadPeer.decode(b, maxAddresses: Self.maxAddressesPerPeer) else { return }
                providers.append(p)
            case (10, .varint): return  // clusterLevelRaw: unused by every implementation
            case (1...3, _), (8...10, _): throw .wrongWireType(field: field, in: "Message")
            default: return  // senderRecord = 11 (py) and anything newer
            }
        }
        self.init(type: type, key: key, record: record, closerPeers: closer, providerPeers: providers)
    }
}
