#if canImport(Glibc)
import Glibc
#endif
import CSyncShim

extension Reactor {
    /// Listens on a TCP address: "0.0.0.0", "127.0.0.1", "::", "::1" (any IP literal);
    /// port 0 picks a free port (see `localPort`). SO_REUSEADDR, so a restarted daemon can
    /// bind while old connections sit in TIME_WAIT.
    ///
    /// IPv6 sockets are IPV6_V6ONLY: "::" means IPv6 only, so "0.0.0.0" and "::" can both be
    /// bound on one port (libp2p listens on /ip4 and /ip6 addresses separately) and the
    /// behaviour does not depend on the net.ipv6.bindv6only sysctl.
    public func listenTCP(host: String, port: UInt16, backlog: Int32 = 511) throws(ReactorError) -> StreamListener {
        let address = try SocketAddress(host: host, port: port)
        let fd = try makeSocket(address.family, csync_sock_stream())
        do {
            try Syscall.setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1, "setsockopt(SO_REUSEADDR)")
            if address.family == AF_INET6 {
                try Syscall.setOption(fd, csync_ipproto_ipv6(), IPV6_V6ONLY, 1, "setsockopt(IPV6_V6ONLY)")
            }
            try bind(fd, address)
            try Syscall.call("listen") { listen(fd, backlog) }
            return try StreamListener(reactor: self, fd: fd, address: address)
        } catch {
            Syscall.close(fd)
            throw error
        }
    }

    /// Listens on a Unix stream socket at `path`, created under umask 0177 and then chmod'ed
    /// to `mode`, so it is never reachable with wider permissions. An existing file at the
    /// path is not removed: bind fails with `.addressInUse(path)` and the caller decides
    /// (DESIGN: a stale socket is unlinked only after a failed connect proves it dead).
    ///
    /// The umask is process-wide for the instant of the bind; another thread creating a
    /// file at that moment would only get tighter permissions.
    public func listenUnix(path: String, mode: UInt32 = 0o600, backlog: Int32 = 128) throws(ReactorError) -> StreamListener {
        let address = try SocketAddress(unixPath: path)
        let fd = try makeSocket(AF_UNIX, csync_sock_stream())
        do {
            let previous = umask(0o177)
            defer { umask(previous) }
            try bind(fd, address)
            try Syscall.call("chmod") { chmod(path, mode_t(mode)) }
            try Syscall.call("listen") { listen(fd, backlog) }
            return try StreamListener(reactor: self, fd: fd, address: address)
        } catch {
            Syscall.close(fd)
            throw error
        }
    }

    /// Starts a non-blocking TCP connect. The outcome arrives as `onConnected`, or as
    /// `onClose(.error(...))` (ECONNREFUSED, ETIMEDOUT, ...) on a later turn, even when the
    /// kernel refuses at once. Throws only for a bad address or when no socket can be made.
    public func connectTCP(host: String, port: UInt16, inputCapacity: Int = ByteRing.defaultInputCapacity) throws(ReactorError) -> StreamConnection {
        let address = try SocketAddress(host: host, port: port)
        let fd = try makeSocket(address.family, csync_sock_stream())
        // Small protocol frames (handshakes, pings) should not wait for Nagle's algorithm.
        try? Syscall.setOption(fd, csync_ipproto_tcp(), TCP_NODELAY, 1, "setsockopt(TCP_NODELAY)")
        return try startConnect(fd, address, inputCapacity: inputCapacity)
    }

    /// Connects to a Unix stream socket; outcomes arrive as for `connectTCP` (a missing
    /// path is onClose(.error(ENOENT)), nobody listening is ECONNREFUSED).
    public func connectUnix(path: String, inputCapacity: Int = ByteRing.defaultInputCapacity) throws(ReactorError) -> StreamConnection {
        let address = try SocketAddress(unixPath: path)
        let fd = try makeSocket(AF_UNIX, csync_sock_stream())
        return try startConnect(fd, address, inputCapacity: inputCapacity)
    }

    /// Binds a UDP socket. `reuseAddress` sets SO_REUSEADDR and SO_REUSEPORT, so several
    /// processes can share a port (mDNS on 5353 beside avahi). IPv6 sockets are IPV6_V6ONLY.
    public func bindUDP(host: String, port: UInt16, reuseAddress: Bool = false) throws(ReactorError) -> DatagramSocket {
        let address = try SocketAddress(host: host, port: port)
        let fd = try makeBoundUDPSocket(address, reuseAddress: reuseAddress)
        do {
            return try DatagramSocket(reactor: self, fd: fd, address: address)
        } catch {
            Syscall.close(fd)
            throw error
        }
    }

    /// Opens the batched UDP socket a QUIC transport shares among all its connections on one
    /// listen address (port 0 picks a free port; see `UDPSocket.localAddress`).
    ///
    /// No SO_REUSEADDR: one node owns a UDP port, and a second bind must fail loudly
    /// (`.addressInUse`) rather than split the datagrams between two processes. IPv6 sockets
    /// are IPV6_V6ONLY, as for TCP, so "0.0.0.0" and "::" can share a port number.
    /// - Parameters:
    ///   - maxDatagramSize: bytes of each receive slot; a longer datagram is dropped and counted
    ///     in `truncatedDatagrams`. The default suits QUIC on Ethernet-sized paths.
    ///   - socketBufferBytes: requested SO_RCVBUF/SO_SNDBUF, best-effort (see `UDPSocket.init`).
    public func openUDP(bindTo address: SocketAddress,
                        maxDatagramSize: Int = UDPSocket.defaultMaxDatagramSize,
                        socketBufferBytes: Int32 = UDPSocket.defaultSocketBufferBytes) throws(ReactorError) -> UDPSocket {
        precondition(maxDatagramSize > 0 && maxDatagramSize <= UDPSocket.maxPayload(family: AF_INET6),
                     "maxDatagramSize \(maxDatagramSize) is not a UDP payload size")
        let fd = try makeBoundUDPSocket(address, reuseAddress: false)
        do {
            return try UDPSocket(reactor: self, fd: fd, address: address, maxDatagramSize: maxDatagramSize,
                                 socketBufferBytes: socketBufferBytes)
        } catch {
            Syscall.close(fd)
            throw error
        }
    }

    // MARK: Helpers

    private func makeSocket(_ family: Int32, _ type: Int32) throws(ReactorError) -> Int32 {
        try Syscall.call("socket") { socket(family, type | csync_sock_nonblock() | csync_sock_cloexec(), 0) }
    }

    /// A non-blocking, close-on-exec UDP socket bound to `address` (IPv4 or IPv6); closed
    /// again if any step fails.
    private func makeBoundUDPSocket(_ address: SocketAddress, reuseAddress: Bool) throws(ReactorError) -> Int32 {
        guard address.family == AF_INET || address.family == AF_INET6 else { throw .invalidAddress(address.text) }
        let fd = try makeSocket(address.family, csync_sock_dgram())
        do {
            if reuseAddress {
                try Syscall.setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1, "setsockopt(SO_REUSEADDR)")
                try Syscall.setOption(fd, SOL_SOCKET, SO_REUSEPORT, 1, "setsockopt(SO_REUSEPORT)")
            }
            if address.family == AF_INET6 {
                try Syscall.setOption(fd, csync_ipproto_ipv6(), IPV6_V6ONLY, 1, "setsockopt(IPV6_V6ONLY)")
            }
            try bind(fd, address)
            return fd
        } catch {
            Syscall.close(fd)
            throw error
        }
    }

    private func bind(_ fd: Int32, _ address: SocketAddress) throws(ReactorError) {
        let outcome = try address.withSockAddr { (pointer, length) throws(ReactorError) in
            Syscall.attempt("bind") { Glibc.bind(fd, pointer, length) }
        }
        switch outcome {
        case .done: return
        case .failed(let errno) where errno.rawValue == EADDRINUSE: throw .addressInUse(address.text)
        case .failed(let errno): throw .syscall("bind(\(address.text))", errno)
        case .wouldBlock: throw .syscall("bind(\(address.text))", Errno(EAGAIN))
        }
    }

    private func startConnect(_ fd: Int32, _ address: SocketAddress, inputCapacity: Int) throws(ReactorError) -> StreamConnection {
        let outcome = try address.withSockAddr { (pointer, length) throws(ReactorError) in
            Syscall.attempt("connect") { connect(fd, pointer, length) }
        }
        switch outcome {
        case .failed(let errno) where errno.rawValue != EINPROGRESS:
            Syscall.close(fd)
            return StreamConnection(reactor: self, failedConnect: errno, remoteAddress: address.text)
        default:
            // Done at once (Unix sockets), in progress, or EAGAIN (a full Unix backlog, which
            // also completes on writability): all wait for EPOLLOUT and read SO_ERROR there.
            do {
                return try StreamConnection(reactor: self, fd: fd, state: .connecting, remoteAddress: address.text,
                                            inputCapacity: inputCapacity)
            } catch {
                Syscall.close(fd)
                throw error
            }
        }
    }
}
