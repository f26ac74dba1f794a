import Reactor

/// The loop the node's services run on: the Reactor in the daemon, a simulated clock in the
/// whole-node simulation (issue 11). Services read time only from here.
protocol NodeLoop: AnyObject {
    /// The loop's clock (CLOCK_MONOTONIC in the daemon), read once per turn.
    var now: Instant { get }
    @discardableResult func schedule(at deadline: Instant, _ callback: @escaping () -> Void) -> TimerID
    func cancel(_ timer: TimerID)
}

extension NodeLoop {
    /// Runs `callback` once `delay` has passed from `now`.
    @discardableResult func after(_ delay: Duration, _ callback: @escaping () -> Void) -> TimerID {
        schedule(at: now + delay, callback)
    }
}

/// A byte stream to a peer: a TCP connection in the daemon, a simulated link in tests.
protocol ByteChannel: AnyObject {
    var onConnected: (() -> Void)? { get set }
    var onRead: ((inout ByteRing) -> Void)? { get set }
    var onClose: ((CloseReason) -> Void)? { get set }
    /// "host:port" as the socket sees the peer.
    var remoteAddress: String { get }
    func write(_ bytes: [UInt8])
    func close()
    func closeAfterFlush()
}

/// Opens byte streams to peers.
protocol StreamDialer: AnyObject {
    func dial(host: String, port: UInt16) throws -> any ByteChannel
}

extension Reactor: NodeLoop {}
extension StreamConnection: ByteChannel {}

extension Reactor: StreamDialer {
    // Peer sockets start with the input ring a connection needs (two whole Noise frames).
    func dial(host: String, port: UInt16) throws -> any ByteChannel {
        try connectTCP(host: host, port: port, inputCapacity: PeerConnection.inputCapacity)
    }
}
