import Wire

/// Why a Kademlia message could not be decoded (libp2p-wire.md section 8.1). Each case names the
/// offending value; the handler resets the one stream that carried it.
public enum KadMessageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The protobuf framing itself is broken (truncated field, bad varint, ...).
    case malformed(String)
    /// A known field arrived with a wire type dht.proto does not give it.
    case wrongWireType(field: UInt64, in: String)
    /// `Message.type` is not one of PUT_VALUE..PING (0-5).
    case unknownMessageType(UInt64)
    /// `Record.timeReceived` is a protobuf string and must be UTF-8.
    case timeReceivedNotUTF8

    public var description: String {
        switch self {
        case .malformed(let why): "malformed Kademlia message: \(why)"
        case .wrongWireType(let field, let message):
            "malformed Kademlia message: field \(field) of \(message) has the wrong wire type (is the peer speaking dht.proto?)"
        case .unknownMessageType(let type):
            "Kademlia message type \(type) is unknown (dht.proto knows 0-5: PUT_VALUE, GET_VALUE, ADD_PROVIDER, GET_PROVIDERS, FIND_NODE, PING)"
        case .timeReceivedNotUTF8: "Kademlia record's timeReceived is not UTF-8 text (it should be an RFC 3339 time)"
        }
    }
}
