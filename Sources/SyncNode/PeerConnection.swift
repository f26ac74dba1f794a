import Reactor
import Swarm
import Wire
import Yamux

/// One connection's file-descriptor plumbing: bytes from the socket into the `Connection`
/// machine, its bytes back out, its deadline onto a Reactor timer, its events up to the swarm.
/// Every protocol decision is the machine's (Sources/Swarm).
final class PeerConnection {
    enum Direction: String { case outbound, inbound }

    /// Two whole Noise frames (65,537 bytes each) fit in the input ring.
    static let inputCapacity = 2 * 65_537

    let number: Int
    let direction: Direction
    /// The address we dialed (outbound) or the peer's socket address (inbound).
    let address: Multiaddr
    let expectedPeer: PeerID?
    /// A reconciliation is running on this connection (`peers` shows Syncing).
    var syncing = false
    /// When the handshake finished (the swarm's duplicate rule looks at it).
    var securedAt: Instant?
    private(set) var machine: Connection
    /// TCP: the socket. QUIC: this connection's share of a UDP socket.
    private enum Link {
        case stream(any ByteChannel)
        case datagrams(QUICLink)
    }
    private let link: Link
    private let loop: NodeLoop
    private var timer: (id: TimerID, at: UInt64)?
    private var reportedClose = false
    /// Every event, and the close (`.stateChanged` to Disconnected or Failed) last of all.
    var onEvent: ((PeerConnection, ConnectionEvent) -> Void)?
    var onClosed: ((PeerConnection, String) -> Void)?

    init(number: Int, direction: Direction, socket: any ByteChannel, address: Multiaddr, expectedPeer: PeerID?,
         machine: Connection, loop: NodeLoop) {
        self.number = number
        self.direction = direction
        link = .stream(socket)
        self.address = address
        self.expectedPeer = expectedPeer
        self.machine = machine
        self.loop = loop
        socket.onRead = { [weak self] ring in
            guard let self else { return }
            // Noise frames are decrypted in place in the ring, so it must hold a whole one.
            ring.reserveCapacity(PeerConnection.inputCapacity)
            var output = ConnectionOutput()
            ring.withContiguousReadable { buffer in
                let step = self.machine.receivedBytes(inPlace: buffer, now: self.now)
                output = step.output
                return step.consumed
            }
            self.perform(output)
            self.machine.recycle(&output)
        }
        socket.onClose = { [weak self] reason in
            guard let self else { return }
            self.perform(self.machine.transportClosed(Self.describe(reason), now: self.now))
        }
        if direction == .outbound {
            socket.onConnected = { [weak self] in
                guard let self else { return }
                self.perform(self.machine.start(now: self.now))
            }
        }
    }

    /// A QUIC connection: datagrams arrive through `receivedDatagrams` (the QUIC transport routes
    /// them here by connection ID); a dialer's first datagrams go out at `begin`.
    init(number: Int, direction: Direction, link quicLink: QUICLink, address: Multiaddr, expectedPeer: PeerID?,
         machine: Connection, loop: NodeLoop) {
        self.number = number
        self.direction = direction
        link = .datagrams(quicLink)
        self.address = address
        self.expectedPeer = expectedPeer
        self.machine = machine
        self.loop = loop
    }

    /// Datagrams of one receive batch, in order.
    func receivedDatagrams(_ datagrams: [UnsafeRawBufferPointer]) {
        var output = machine.receivedDatagrams(datagrams, now: now)
        perform(output)
        machine.recycle(&output)
    }

    /// The transport the connection runs on, as `peers` shows it.
    var transport: String {
        if case .datagrams = link { return "quic" }
        return "tcp"
    }

    /// Inbound connections start at once; outbound ones when the TCP connect completes.
    func begin() {
        if direction == .inbound || transport == "quic" { perform(machine.start(now: now)) }
    }

    var now: UInt64 { loop.now.nanoseconds }
    var remotePeer: PeerID? { machine.remotePeer }
    var state: PeerState { machine.state }
    var label: String { remotePeer.map { "\($0)" } ?? expectedPeer.map { "\($0)" } ?? address.description }

    @discardableResult
    func open(_ key: String, request: (any Sendable)? = nil) -> StreamID? {
        let (id, output) = machine.open(key, request: request, now: now)
        perform(output)
        return id
    }

    @discardableResult
    func send(_ command: any Sendable, to key: String) -> Bool {
        let (ok, output) = machine.send(command, to: key, now: now)
        perform(output)
        return ok
    }

    func send(_ command: any Sendable, onStream id: StreamID) { perform(machine.send(command, onStream: id, now: now)) }

    func close(_ reason: String) { perform(machine.close(reason, now: now)) }

    /// Carries out one machine step: bytes to the socket, the timer re-armed, events up.
    private func perform(_ output: ConnectionOutput) {
        switch link {
        case .stream(let socket): if !output.send.isEmpty { socket.write(output.send) }
        case .datagrams(let link): if !output.datagrams.isEmpty { link.send(output.datagrams) }
        }
        rearm()
        for event in output.events { onEvent?(self, event) }
        guard let reason = output.close else { return }
        // Reported (and logged) before the socket closes: whoever sees the close can read why.
        if !reportedClose {
            reportedClose = true
            onClosed?(self, reason)
        }
        switch link {
        case .stream(let socket): output.send.isEmpty ? socket.close() : socket.closeAfterFlush()
        case .datagrams(let link): link.close()
        }
    }

    private func rearm() {
        let due = machine.deadline
        if let timer, timer.at == due { return }
        if let timer { loop.cancel(timer.id) }
        timer = nil
        guard let due else { return }
        let at = Instant(nanoseconds: due)
        timer = (loop.schedule(at: at) { [weak self] in
            guard let self else { return }
            self.timer = nil
            self.perform(self.machine.timerFired(now: self.now))
        }, due)
    }

    private static func describe(_ reason: CloseReason) -> String {
        switch reason {
        case .endOfFile: "peer closed the connection"
        case .closedLocally: "closed"
        case .outputOverflow: "peer stopped reading (output buffer full)"
        case .error(let errno): "\(errno)"
        }
    }
}
