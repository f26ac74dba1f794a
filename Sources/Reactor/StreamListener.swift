#if canImport(Glibc)
import Glibc
#endif
import CSyncShim

/// A listening stream socket (TCP or Unix). Accepts until EAGAIN each time it is readable;
/// when the process or system runs out of descriptors it pauses accepting for
/// `Reactor.acceptPauseAfterExhaustion` instead of spinning, and keeps serving the rest.
public final class StreamListener: EventSource {
    unowned let reactor: Reactor
    private(set) var fileDescriptor: Int32
    private var paused = false
    private let isUnix: Bool

    /// Runs for each accepted connection; without it, connections are closed at once.
    public var onAccept: ((StreamConnection) -> Void)?
    /// The bound port (the real one after binding port 0); 0 for Unix sockets.
    public let localPort: UInt16
    /// "127.0.0.1:4001", "[::1]:4001", or the Unix socket path.
    public let localAddress: String

    /// Capacity of each accepted connection's input ring; reading pauses while it is full.
    public var inputCapacity = ByteRing.defaultInputCapacity

    public var isOpen: Bool { fileDescriptor >= 0 }

    init(reactor: Reactor, fd: Int32, address: SocketAddress) throws(ReactorError) {
        self.reactor = reactor
        self.fileDescriptor = fd
        if case .unix = address { isUnix = true } else { isUnix = false }
        let bound = isUnix ? address : (SocketAddress.local(of: fd) ?? address)
        localPort = bound.port
        localAddress = bound.text
        try reactor.register(fd, interest: EpollBits.input, source: self)
    }

    /// Stops listening and closes the socket. A Unix socket file stays; the caller unlinks it.
    public func close() {
        guard fileDescriptor >= 0 else { return }
        reactor.deregister(fileDescriptor)
        Syscall.close(fileDescriptor)
        fileDescriptor = -1
        onAccept = nil
    }

    func handleEvents(_ events: UInt32) {
        while fileDescriptor >= 0, !paused {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = fileDescriptor
            let outcome = withUnsafeMutablePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                    Syscall.attempt("accept4") { csync_accept4(fd, address, &length, csync_sock_nonblock() | csync_sock_cloexec()) }
                }
            }
            switch outcome {
            case .done(let accepted):
                accept(accepted, peer: storage)
            case .wouldBlock:
                return
            case .failed(let errno) where errno.rawValue == ECONNABORTED || errno.rawValue == EPROTO:
                // The client gave up before we got to it: nothing to do, take the next one.
                continue
            case .failed:
                // EMFILE/ENFILE/ENOBUFS/ENOMEM (or anything unexpected): the pending connection
                // stays queued and level-triggered epoll would report it again at once, so stop
                // watching for a moment instead of spinning.
                pause()
                return
            }
        }
    }

    private func accept(_ fd: Int32, peer: sockaddr_storage) {
        let remote = isUnix ? localAddress : (SocketAddress(storage: peer)?.text ?? "unknown")
        if !isUnix {
            // Small protocol frames (handshakes, pings) should not wait for Nagle's algorithm.
            try? Syscall.setOption(fd, csync_ipproto_tcp(), TCP_NODELAY, 1, "setsockopt(TCP_NODELAY)")
        }
        let connection: StreamConnection
        do {
            connection = try StreamConnection(reactor: reactor, fd: fd, state: .open, remoteAddress: remote,
                                              inputCapacity: inputCapacity)
        } catch {
            // Registration failed (ENOMEM/ENOSPC in epoll_ctl): refuse this one client.
            Syscall.close(fd)
            return
        }
        if let onAccept { onAccept(connection) } else { connection.close() }
    }

    private func pause() {
        paused = true
        try? reactor.setInterest(fileDescriptor, 0)
        reactor.schedule(after: Reactor.acceptPauseAfterExhaustion) { [weak self] in
            guard let self, self.fileDescriptor >= 0 else { return }
            self.paused = false
            try? self.reactor.setInterest(self.fileDescriptor, EpollBits.input)
        }
    }

    func closeForShutdown() { close() }

    func reactorDeinitializing() {
        guard fileDescriptor >= 0 else { return }
        Syscall.close(fileDescriptor)
        fileDescriptor = -1
        onAccept = nil
    }
}
