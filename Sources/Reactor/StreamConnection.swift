#if canImport(Glibc)
import Glibc
#endif
import CSyncShim

/// One stream socket (TCP or Unix), accepted or connected. Input lands in a fixed-capacity
/// `ByteRing` lent to `onRead`; output queues in a ring that grows (doubling) up to
/// `maxPendingOutput` and leaves through sendmsg of its two segments with MSG_NOSIGNAL.
///
/// `onClose` runs exactly once, after which the descriptor is closed and no other callback
/// runs. Every method may be called from inside any callback, for this connection or another.
public final class StreamConnection: EventSource {
    enum State {
        /// Outgoing connect in progress: waiting for EPOLLOUT and SO_ERROR.
        case connecting
        case open
        /// closeAfterFlush finished sending and shut down our side: reading and discarding
        /// until the peer closes (or `lingerLimit`), so that unread input does not make the
        /// kernel answer with a RST that could destroy our last bytes at the peer.
        case lingering
        case closed
    }

    /// The longest a flushed-and-shut-down connection waits for the peer's FIN.
    static let lingerLimit: Duration = .seconds(2)
    /// Reads per readiness event before yielding to other descriptors (fairness).
    static let maxReadsPerEvent = 16
    /// An output ring larger than this is given back once it drains.
    static let outputShrinkThreshold = 1 << 20

    unowned let reactor: Reactor
    private(set) var fileDescriptor: Int32
    private(set) var state: State

    /// Outgoing connects only: runs once the connection is established.
    public var onConnected: (() -> Void)?
    /// New bytes arrived. The ring holds all unconsumed input; consume what you used. While
    /// the ring stays full, reading pauses (EPOLLIN dropped) until room is made, here or
    /// later through `withInput`.
    public var onRead: ((inout ByteRing) -> Void)?
    /// The queued output drained completely after having had to wait for the socket.
    public var onWritable: (() -> Void)?
    /// Exactly once; afterwards the descriptor is gone.
    public var onClose: ((CloseReason) -> Void)?

    /// "127.0.0.1:4001", "[::1]:4001", or for Unix sockets the socket path.
    public let remoteAddress: String
    /// A write that would queue more than this closes the connection with .outputOverflow.
    public var maxPendingOutput = 16 << 20

    private var input: ByteRing
    private var output = ByteRing(capacity: 0)
    /// The input ring was full: EPOLLIN is off until the consumer makes room.
    private var readPaused = false
    /// The peer shut down its writing side (read returned 0).
    private var peerFinished = false
    /// EPOLLHUP seen while reads are paused: the fd is out of the epoll set until resumed.
    private var hungUp = false
    /// Once the output drains: .closedLocally (closeAfterFlush) or .endOfFile (peer finished first).
    private var closeWhenDrained: CloseReason?
    private var lendingInput = false
    /// How often reading paused on a full input ring (for tests and debug output).
    public private(set) var readPauses = 0
    private var lingerTimer: TimerID?

    public var pendingOutputBytes: Int { output.readableBytes }
    /// True until close()/closeAfterFlush() is called or the connection fails.
    public var isOpen: Bool { (state == .open || state == .connecting) && closeWhenDrained != .closedLocally }

    init(reactor: Reactor, fd: Int32, state: State, remoteAddress: String, inputCapacity: Int) throws(ReactorError) {
        self.reactor = reactor
        self.fileDescriptor = fd
        self.state = state
        self.remoteAddress = remoteAddress
        self.input = ByteRing(capacity: inputCapacity)
        let interest = state == .connecting ? EpollBits.output : EpollBits.input | EpollBits.readHangUp
        try reactor.register(fd, interest: interest, source: self)
    }

    /// A connection whose connect() failed at once: closed now, onClose(.error) next turn,
    /// so that outcomes reach the caller the same way whether they are immediate or not.
    init(reactor: Reactor, failedConnect errno: Errno, remoteAddress: String) {
        self.reactor = reactor
        self.fileDescriptor = -1
        self.state = .closed
        self.remoteAddress = remoteAddress
        self.input = ByteRing(capacity: 0)
        deliverCloseLater(.error(errno))
    }

    // MARK: Public operations

    /// Queues `bytes` and sends what the socket takes right away; the rest leaves on EPOLLOUT.
    /// Ignored once the connection is closed or closing.
    public func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write($0) }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) {
        guard isOpen, bytes.count > 0 else { return }
        var sent = 0
        // (A connection closing once drained keeps the old order: the ring drains on EPOLLOUT,
        // where the close happens.)
        if state == .open, closeWhenDrained == nil || output.isEmpty {
            // Bytes still queued go first, in the same sendmsg: the new bytes are copied into
            // the ring only if the socket has no room for them now (on a busy stream the ring
            // is rarely empty, and queueing behind it would copy every byte once more).
            let outcome = output.withReadableSegments { first, second in send(first, second, bytes) }
            switch outcome {
            case .done(let count):
                let fromRing = min(count, output.readableBytes)
                output.consume(fromRing)
                sent = count - fromRing
            case .wouldBlock: break
            case .failed(let errno):
                // Reported on the next turn, not from inside the caller's write.
                closeDescriptorAndDeliverLater(.error(errno))
                return
            }
        }
        let remaining = bytes.count - sent
        guard remaining > 0 else {
            if output.isEmpty {
                output.shrinkIfEmpty(above: StreamConnection.outputShrinkThreshold, to: 0)
                updateInterest()
            }
            return
        }
        guard output.readableBytes + remaining <= maxPendingOutput else {
            closeDescriptorAndDeliverLater(.outputOverflow)
            return
        }
        output.reserveCapacity(output.readableBytes + remaining)
        output.append(UnsafeRawBufferPointer(rebasing: bytes[sent...]))
        updateInterest()
    }

    /// Closes now, dropping queued output; onClose(.closedLocally) runs before this returns.
    public func close() {
        guard state != .closed else { return }
        finish(.closedLocally)
    }

    /// Sends everything queued, then shuts down our side and closes; onClose(.closedLocally).
    public func closeAfterFlush() {
        guard isOpen else { return }
        closeWhenDrained = .closedLocally
        if state == .open, output.isEmpty { shutDownAndLinger() } else { updateInterest() }
    }

    /// Lends the input ring outside `onRead` (for a consumer that catches up on a timer);
    /// reading resumes if the ring was full and now has room. Not from inside `onRead`,
    /// which already holds the ring.
    public func withInput<R>(_ body: (inout ByteRing) throws -> R) rethrows -> R {
        precondition(!lendingInput, "withInput called inside onRead: use the ring onRead lends")
        let result = try body(&input)
        resumeReadingIfRoom()
        return result
    }

    // MARK: Events

    /// Errors first (a pending SO_ERROR closes at once), then writes, then reads. A hang-up
    /// is acted on last, after reading: a Unix peer that wrote and closed reports HUP with
    /// its last bytes still unread, and those are delivered before the close.
    func handleEvents(_ events: UInt32) {
        if state == .connecting {
            finishConnecting(events)
            return
        }
        if state == .lingering {
            // Everything we had was sent and our side is shut: whatever the peer does now
            // (FIN, reset), closeAfterFlush ends as .closedLocally.
            if events & EpollBits.error != 0 { finish(.closedLocally) } else { discardUntilPeerCloses() }
            return
        }
        if events & EpollBits.error != 0, let errno = Syscall.socketError(fileDescriptor) {
            finish(.error(errno))
            return
        }
        if events & EpollBits.output != 0, !output.isEmpty {
            flush(afterWaiting: true)
            guard state == .open else { return }
        }
        if events & (EpollBits.input | EpollBits.readHangUp | EpollBits.hangUp) != 0, wantsInput {
            readAvailable()
            guard state == .open else { return }
        }
        if events & EpollBits.hangUp != 0 {
            // Both directions are shut (a Unix peer that closed, or our shutdown plus its FIN).
            // epoll reports HUP whatever the mask says. While we still read, the next turn
            // reads on (unread bytes first, then end of file); a paused reader takes the fd
            // out of the set until it makes room; otherwise nothing is left to wait for.
            if wantsInput { return }
            if readPaused, !peerFinished {
                hungUp = true
                updateInterest()
            } else {
                finish(closeWhenDrained ?? .endOfFile)
            }
        }
    }

    private var wantsInput: Bool { !readPaused && !peerFinished && closeWhenDrained != .closedLocally }

    private func finishConnecting(_ events: UInt32) {
        if let errno = Syscall.socketError(fileDescriptor) {
            finish(.error(errno))
            return
        }
        guard events & EpollBits.output != 0 else {
            // Hang-up without a pending error: the peer went away during the handshake.
            finish(.error(Errno(ECONNRESET)))
            return
        }
        state = .open
        if output.isEmpty, closeWhenDrained == .closedLocally {
            onConnected?()
            if state == .open { shutDownAndLinger() }
            return
        }
        updateInterest()
        onConnected?()
    }

    /// Reads into the ring's free segments with readv until the socket is drained, the ring
    /// is full (then pauses), or `maxReadsPerEvent`.
    private func readAvailable() {
        for _ in 0 ..< StreamConnection.maxReadsPerEvent {
            guard state == .open, wantsInput else { return }
            if input.isFull {
                readPaused = true
                readPauses += 1
                updateInterest()
                return
            }
            let fd = fileDescriptor
            let room = input.writableBytes
            var outcome: Syscall.Outcome<Int> = .wouldBlock
            input.append { first, second in
                var vectors = [
                    iovec(iov_base: first.baseAddress, iov_len: first.count),
                    iovec(iov_base: second.baseAddress, iov_len: second.count),
                ]
                let segments: Int32 = second.count > 0 ? 2 : 1
                outcome = Syscall.attempt("readv") { readv(fd, &vectors, segments) }
                if case .done(let count) = outcome { return count }
                return 0
            }
            switch outcome {
            case .done(0):
                peerFinished = true
                if output.isEmpty { finish(closeWhenDrained ?? .endOfFile) } else {
                    // Half-close: the peer may still read what we queued.
                    closeWhenDrained = closeWhenDrained ?? .endOfFile
                    updateInterest()
                }
                return
            case .done(let count):
                deliverInput()
                // A short read drained the socket; epoll says when more arrives.
                if count < room { return }
            case .wouldBlock:
                return
            case .failed(let errno):
                finish(.error(errno))
                return
            }
        }
    }

    private func deliverInput() {
        guard let onRead else { return }
        // Lend the ring by moving it out, so that callbacks which close or touch this
        // connection never overlap an access to the stored property.
        var ring = ByteRing(capacity: 0)
        swap(&ring, &input)
        lendingInput = true
        onRead(&ring)
        lendingInput = false
        swap(&ring, &input)
    }

    private func resumeReadingIfRoom() {
        guard readPaused, !input.isFull, state == .open else { return }
        readPaused = false
        // After a hang-up the fd goes back into the epoll set; HUP and any unread bytes
        // are reported again next turn.
        hungUp = false
        updateInterest()
    }

    /// Sends from the output ring until it is empty or the socket is full.
    private func flush(afterWaiting: Bool) {
        while !output.isEmpty {
            let outcome = output.withReadableSegments { first, second in send(first, second) }
            switch outcome {
            case .done(let count):
                output.consume(count)
            case .wouldBlock:
                updateInterest()
                return
            case .failed(let errno):
                finish(.error(errno))
                return
            }
        }
        output.shrinkIfEmpty(above: StreamConnection.outputShrinkThreshold, to: 0)
        if let reason = closeWhenDrained {
            if reason == .closedLocally { shutDownAndLinger() } else { finish(reason) }
            return
        }
        updateInterest()
        if afterWaiting { onWritable?() }
    }

    /// One sendmsg of the non-empty buffers, in order.
    private func send(_ buffers: UnsafeRawBufferPointer...) -> Syscall.Outcome<Int> {
        withUnsafeTemporaryAllocation(of: iovec.self, capacity: buffers.count) { vectors in
            var used = 0
            for buffer in buffers where buffer.count > 0 {
                vectors[used] = iovec(iov_base: UnsafeMutableRawPointer(mutating: buffer.baseAddress), iov_len: buffer.count)
                used += 1
            }
            var message = msghdr()
            message.msg_iov = vectors.baseAddress
            message.msg_iovlen = used
            let fd = fileDescriptor
            // MSG_NOSIGNAL: a peer that went away gives EPIPE, not SIGPIPE.
            return Syscall.attempt("sendmsg") { sendmsg(fd, &message, csync_msg_nosignal()) }
        }
    }

    // MARK: Closing

    private func updateInterest() {
        guard state == .open || state == .lingering else { return }
        var interest: UInt32? = 0
        if state == .lingering {
            interest = EpollBits.input | EpollBits.readHangUp
        } else {
            if wantsInput { interest! |= EpollBits.input | EpollBits.readHangUp }
            if !output.isEmpty { interest! |= EpollBits.output }
            if hungUp { interest = nil }
        }
        do {
            try reactor.setInterest(fileDescriptor, interest)
        } catch {
            if case .syscall(_, let errno) = error { finish(.error(errno)) } else { finish(.error(Errno(EINVAL))) }
        }
    }

    private func shutDownAndLinger() {
        if peerFinished {
            finish(.closedLocally)
            return
        }
        // shutdown(SHUT_WR) sends our FIN after the queued bytes; ENOTCONN means the peer
        // already reset, and then there is nothing left to wait for.
        let fd = fileDescriptor
        guard case .done = Syscall.attempt("shutdown", { shutdown(fd, csync_shut_wr()) }) else {
            finish(.closedLocally)
            return
        }
        state = .lingering
        updateInterest()
        lingerTimer = reactor.schedule(after: StreamConnection.lingerLimit) { [self] in
            lingerTimer = nil
            if state == .lingering { finish(.closedLocally) }
        }
    }

    private func discardUntilPeerCloses() {
        var scratch = [UInt8](repeating: 0, count: 16 * 1024)
        let fd = fileDescriptor
        while true {
            let outcome = scratch.withUnsafeMutableBytes { buffer in
                Syscall.attempt("read") { read(fd, buffer.baseAddress, buffer.count) }
            }
            switch outcome {
            case .done(0), .failed:
                finish(.closedLocally)
                return
            case .done:
                continue
            case .wouldBlock:
                return
            }
        }
    }

    /// Releases the descriptor and delivers onClose now.
    private func finish(_ reason: CloseReason) {
        guard state != .closed else { return }
        releaseDescriptor()
        deliverClose(reason)
    }

    /// Releases the descriptor now and delivers onClose on the next timer pass: for failures
    /// found inside a caller's own write(), which should not see its onClose re-entered.
    private func closeDescriptorAndDeliverLater(_ reason: CloseReason) {
        guard state != .closed else { return }
        releaseDescriptor()
        deliverCloseLater(reason)
    }

    private func deliverCloseLater(_ reason: CloseReason) {
        reactor.schedule(after: .zero) { [self] in deliverClose(reason) }
    }

    private func releaseDescriptor() {
        if let lingerTimer { reactor.cancel(lingerTimer) }
        lingerTimer = nil
        reactor.deregister(fileDescriptor)
        Syscall.close(fileDescriptor)
        fileDescriptor = -1
        state = .closed
        output = ByteRing(capacity: 0)
    }

    private func deliverClose(_ reason: CloseReason) {
        let callback = onClose
        // Drop every callback: they often capture this connection, and it is done.
        onClose = nil
        onRead = nil
        onWritable = nil
        onConnected = nil
        callback?(reason)
    }

    func closeForShutdown() { close() }

    func reactorDeinitializing() {
        guard state != .closed else { return }
        Syscall.close(fileDescriptor)
        fileDescriptor = -1
        state = .closed
        onClose = nil
        onRead = nil
        onWritable = nil
        onConnected = nil
    }
}
