import PrivateNetwork
import Identify
import Wire
import Yamux

/// What a connection tells the node: one type for every protocol (issue 11). Connection-level
/// facts have their own cases; what a protocol handler reports travels in `.handler`, tagged
/// with the key it was registered under, so the node routes it to the service that owns it.
public enum ConnectionEvent: Sendable {
    /// The upgrade moved on (Handshaking, Authenticating, Negotiating, Identifying, Connected).
    case stateChanged(PeerState)
    /// Noise proved who the peer is; streams can be opened from now on.
    case secured(PeerID)
    /// The peer's identify message (or a push merged onto it).
    case identified(IdentifyMessage)
    /// A keep-alive ping came back.
    case roundTrip(nanoseconds: UInt64)
    /// Something worth a log line that changes nothing else (a refused stream, a bad identify).
    case notice(String)
    /// The private network layer refused the peer (another swarm key, or none); the connection closes.
    case privateNetworkRefused(PrivateNetworkError)
    /// The peer is not admitted (not a member of this node's private group); the connection closes.
    case peerRefused(PeerID, String)
    /// A protocol handler's report.
    case handler(HandlerEvent)
}

/// A protocol handler's report: the registration key, the stream, and the handler's own payload
/// (each handler documents its payload type, e.g. `PubsubHandler.Event`).
public struct HandlerEvent: Sendable {
    public let key: String
    public let stream: StreamID
    public let payload: any Sendable

    public init(key: String, stream: StreamID, payload: any Sendable) {
        self.key = key
        self.stream = stream
        self.payload = payload
    }
}

/// What the caller must do after feeding a `Connection` one event.
public struct ConnectionOutput: Sendable {
    /// Bytes for the socket, in order.
    public var send: [UInt8] = []
    /// Datagrams for a QUIC connection's peer, in order (instead of `send`).
    public var datagrams = DatagramBatch()
    public var events: [ConnectionEvent] = []
    /// Set when the connection is over: send `send`, then close the socket.
    public var close: String?

    public init() {}
}
