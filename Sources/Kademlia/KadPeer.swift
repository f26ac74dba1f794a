import Wire

/// A peer as dht.proto carries it in `closerPeers` and `providerPeers` (libp2p-wire.md section 8.1):
/// ```
/// message Peer { bytes id = 1; repeated bytes addrs = 2; ConnectionType connection = 3; }
/// ```
/// py also sends `signedRecord = 4` (a signed peer-record envelope): skipped like any unknown field.
public struct KadPeer: Equatable, Hashable, Sendable {
    /// dht.proto's ConnectionType: the sender's view of its link to this peer (advisory only).
    public enum ConnectionType: UInt64, Sendable {
        case notConnected = 0, connected = 1, canConnect = 2, cannotConnect = 3
    }

    public var id: PeerID
    /// Binary multiaddrs, normally without `/p2p`.
    public var addresses: [Multiaddr]
    public var connection: ConnectionType

    public init(id: PeerID, addresses: [Multiaddr] = [], connection: ConnectionType = .notConnected) {
        self.id = id
        self.addresses = addresses
        self.connection = connection
    }

    /// The protobuf bytes. NOT_CONNECTED is proto3's zero and is left out, as go and py do.
    public func encoded() -> [UInt8] {
        var w = ProtobufWriter()
        w.bytesField(1, id.bytes)
        for a in addresses { w.bytesField(2, a.bytes) }
        if connection != .notConnected { w.varintField(3, connection.rawValue) }
        return w.bytes
    }

    /// Decodes one peer. Nil (skip the peer, keep the message) when its ID is missing or not a
    /// valid peer ID; addresses that do not parse are dropped and the peer kept; only the first
    /// `maxAddresses` good addresses are kept. A broken protobuf is an error: the frame is corrupt.
    static func decode(_ bytes: [UInt8], maxAddresses: Int) throws(KadMessageError) -> KadPeer? {
        var idBytes: [UInt8]?
        var addresses: [Multiaddr] = []
        var connection = ConnectionType.notConnected
        try ProtobufReader.forEachField(in: bytes, malformed: { KadMessageError.malformed("peer: \($0)") }) {
            (field, value) throws(KadMessageError) in
            switch (field, value) {
            case (1, .bytes(let b)): idBytes = b
            case (2, .bytes(let b)):
                guard addresses.count < maxAddresses, let a = try? Multiaddr(bytes: b) else { return }
                addresses.append(a)
            // An unknown connection value (proto3 enums are open) is read as NOT_CONNECTED: the
            // field is advisory and nothing we do depends on it.
            case (3, .varint(let v)): connection = ConnectionType(rawValue: v) ?? .notConnected
            case (1...3, _): throw .wrongWireType(field: field, in: "Peer")
            default: return
            }
        }
        guard let idBytes, let id = try? PeerID(bytes: idBytes) else { return nil }
        return KadPeer(id: id, addresses: addresses, connection: connection)
    }
}
