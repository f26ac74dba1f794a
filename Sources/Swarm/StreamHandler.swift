import Wire
import Yamux

/// Serves one protocol on one stream. The connection negotiates the stream with multistream,
/// then hands it to the handler registered for the agreed protocol ID; the handler never knows
/// whether the stream is a yamux stream or a transport's native one (QUIC).
///
/// Every callback gets a `StreamIO` to write, close, reset and report through; a handler does
/// no I/O and reads no clock (`io.now`) or randomness (`io.random`) of its own.
public protocol StreamHandler: Sendable {
    /// We opened the stream (outbound handlers only); the peer has not agreed yet.
    mutating func opened(_ io: inout StreamIO)
    /// The protocol was agreed (`io.protocolID` says which). An outbound handler exists before
    /// this (it may already have queued bytes, which wait for the agreement).
    mutating func negotiated(_ io: inout StreamIO) throws(StreamFailure)
    /// Bytes arrived: a slice of the muxer's input, valid to keep (copy-on-write) but cheapest
    /// when used at once.
    mutating func received(_ bytes: ArraySlice<UInt8>, _ io: inout StreamIO) throws(StreamFailure)
    /// The peer will send nothing more on this stream.
    mutating func remoteClosedWrite(_ io: inout StreamIO) throws(StreamFailure)
    /// The stream is gone; the handler is dropped after this.
    mutating func ended(_ reason: StreamEnd, _ io: inout StreamIO)
    /// A command from the node (each handler documents the types it takes).
    mutating func command(_ command: any Sendable, _ io: inout StreamIO) throws(StreamFailure)
    /// The stream has room for more (called while `wantsWritable`): bulk senders top up here.
    mutating func writable(_ io: inout StreamIO)
    /// `deadline` has passed.
    mutating func timerFired(_ io: inout StreamIO)
    /// When `timerFired` is due, on the connection's clock (nanoseconds).
    var deadline: UInt64? { get }
    var wantsWritable: Bool { get }
}

extension StreamHandler {
    public mutating func opened(_ io: inout StreamIO) {}
    public mutating func negotiated(_ io: inout StreamIO) throws(StreamFailure) {}
    public mutating func remoteClosedWrite(_ io: inout StreamIO) throws(StreamFailure) { io.closeWrite() }
    public mutating func ended(_ reason: StreamEnd, _ io: inout StreamIO) {}
    public mutating func command(_ command: any Sendable, _ io: inout StreamIO) throws(StreamFailure) {}
    public mutating func writable(_ io: inout StreamIO) {}
    public mutating func timerFired(_ io: inout StreamIO) {}
    public var deadline: UInt64? { nil }
    public var wantsWritable: Bool { false }
}

/// How a stream ended, as its handler is told.
public enum StreamEnd: Equatable, Sendable {
    /// Both sides closed it normally.
    case closed
    /// The peer reset it.
    case reset
    /// The peer refused every protocol we proposed (outbound streams only).
    case refused(String)
    /// The whole connection closed.
    case connectionClosed(String)
}

/// A handler's verdict on bad input: reset this one stream, or drop the whole connection
/// (for a peer that breaks a protocol where that is the rule, e.g. a malformed pubsub RPC).
public enum StreamFailure: Error, Equatable, Sendable, CustomStringConvertible {
    case resetStream(String)
    case closeConnection(String)

    public var description: String {
        switch self {
        case .resetStream(let why), .closeConnection(let why): why
        }
    }
}

/// What the connection knows that handlers may need: who we are, who the peer is, where it is.
public struct ConnectionContext: Sendable {
    public var local: LocalIdentity
    public var remotePeer: PeerID?
    /// The peer's address as our socket sees it (identify's `observedAddr`).
    public var remoteAddress: Multiaddr?
    /// Our listen addresses, without `/p2p/`.
    public var listenAddresses: [Multiaddr]
    /// Every protocol ID we serve (identify's `protocols`).
    public var servedProtocols: [String]
}

/// One handler callback's effects, collected and carried out by the connection afterwards.
public struct StreamIO: Sendable {
    public let stream: StreamID
    /// The agreed protocol (nil on an outbound stream before the peer agreed).
    public let protocolID: String?
    /// We opened the stream.
    public let initiator: Bool
    public let now: UInt64
    public let context: ConnectionContext
    let key: String
    /// Bytes already waiting for this stream before this callback, in the connection's queue
    /// and in the muxer.
    let queuedBefore: Int
    var random: SplitMix64

    var writes: [[UInt8]] = []
    var writtenBytes = 0
    var wantsCloseWrite = false
    var wantsReset = false
    var events: [ConnectionEvent] = []
    var closeConnectionReason: String?

    /// `writes` and `events` are empty buffers lent by the connection (reused, so a callback
    /// allocates nothing for them in the steady state).
    init(stream: StreamID, protocolID: String?, initiator: Bool, now: UInt64, context: ConnectionContext, key: String,
         queuedBefore: Int, random: SplitMix64, writes: [[UInt8]] = [], events: [ConnectionEvent] = []) {
        self.writes = writes
        self.events = events
        self.stream = stream
        self.protocolID = protocolID
        self.initiator = initiator
        self.now = now
        self.context = context
        self.key = key
        self.queuedBefore = queuedBefore
        self.random = random
    }

    /// Bytes waiting to be sent on this stream, this callback's writes included.
    public var queuedBytes: Int { queuedBefore + writtenBytes }

    /// Queues bytes on the stream (they wait for the agreement and for the peer's window).
    public mutating func write(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        writtenBytes += bytes.count
        writes.append(bytes)
    }

    /// Half-closes our side once everything queued has gone.
    public mutating func closeWrite() { wantsCloseWrite = true }
    /// Abandons the stream at once (queued bytes are dropped).
    public mutating func reset() { wantsReset = true }
    public mutating func report(_ payload: any Sendable) {
        events.append(.handler(HandlerEvent(key: key, stream: stream, payload: payload)))
    }
    public mutating func report(_ event: ConnectionEvent) { events.append(event) }
    public mutating func closeConnection(_ reason: String) { closeConnectionReason = reason }
    /// Bytes from the connection's seeded generator (not for keys: ping payloads and the like).
    public mutating func randomBytes(_ count: Int) -> [UInt8] { random.bytes(count) }
}
