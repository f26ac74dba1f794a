#if canImport(Glibc)
import Glibc
#endif
import CSyncShim

/// A bound UDP socket. Received datagrams go to `onDatagram` with the sender's address;
/// sends that the kernel cannot queue right now (EAGAIN) are dropped, as UDP may drop them anyway.
public final class DatagramSocket: EventSource {
    /// Large enough for any UDP payload (65507 bytes over IPv4).
    static let receiveBufferSize = 65536
    /// Datagrams read per readiness event before yielding to other descriptors.
    static let maxReadsPerEvent = 64

    unowned let reactor: Reactor
    private(set) var fileDescriptor: Int32
    private let family: Int32
    private var receiveBuffer = [UInt8](repeating: 0, count: DatagramSocket.receiveBufferSize)

    /// payload, sender host ("127.0.0.1", "::1"), sender port.
    public var onDatagram: (([UInt8], _ from: String, _ fromPort: UInt16) -> Void)?
    public let localPort: UInt16
    /// Sends dropped because the socket buffer was full.
    public private(set) var droppedSends = 0

    public var isOpen: Bool { fileDescriptor >= 0 }

    init(reactor: Reactor, fd: Int32, address: SocketAddress) throws(ReactorError) {
        self.reactor = reactor
        self.fileDescriptor = fd
        self.family = address.family
        localPort = SocketAddress.local(of: fd)?.port ?? address.port
        try reactor.register(fd, interest: EpollBits.input, source: self)
    }

    /// Sends one datagram. Throws for an address of the other family or a send error
    /// (ENETUNREACH, EMSGSIZE, ...); a full socket buffer drops it silently (`droppedSends`).
    public func send(_ bytes: [UInt8], to host: String, port: UInt16) throws(ReactorError) {
        guard fileDescriptor >= 0 else { throw .syscall("sendto", Errno(EBADF)) }
        let target = try SocketAddress(host: host, port: port)
        guard target.family == family else { throw .invalidAddress(host) }
        let fd = fileDescriptor
        let outcome = try target.withSockAddr { (address, length) throws(ReactorError) in
            bytes.withUnsafeBytes { payload in
                Syscall.attempt("sendto") { sendto(fd, payload.baseAddress, payload.count, csync_msg_nosignal(), address, length) }
            }
        }
        switch outcome {
        case .done: return
        case .wouldBlock: droppedSends += 1
        case .failed(let errno): throw .syscall("sendto", errno)
        }
    }

    public func close() {
        guard fileDescriptor >= 0 else { return }
        reactor.deregister(fileDescriptor)
        Syscall.close(fileDescriptor)
        fileDescriptor = -1
        onDatagram = nil
    }

    func handleEvents(_ events: UInt32) {
        if events & EpollBits.error != 0 {
            // An ICMP error queued on the socket: reading SO_ERROR clears it, or
            // level-triggered epoll would report it forever. UDP has nothing to close.
            _ = Syscall.socketError(fileDescriptor)
        }
        for _ in 0 ..< DatagramSocket.maxReadsPerEvent {
            guard fileDescriptor >= 0 else { return }
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = fileDescriptor
            let outcome = receiveBuffer.withUnsafeMutableBytes { buffer in
                withUnsafeMutablePointer(to: &storage) { pointer in
                    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                        Syscall.attempt("recvfrom") { recvfrom(fd, buffer.baseAddress, buffer.count, 0, address, &length) }
                    }
                }
            }
            switch outcome {
            case .done(let count):
                guard let sender = SocketAddress(storage: storage) else { continue }
                onDatagram?(Array(receiveBuffer[0 ..< count]), sender.host, sender.port)
            case .wouldBlock:
                return
            case .failed:
                // ECONNREFUSED and friends from earlier sends: nothing to deliver, try the next.
                continue
            }
        }
    }

    func closeForShutdown() { close() }

    func reactorDeinitializing() {
        guard fileDescriptor >= 0 else { return }
        Syscall.close(fileDescriptor)
        fileDescriptor = -1
        onDatagram = nil
    }
}

// MARK: - IPv4 multicast (mDNS)

extension DatagramSocket {
    /// Joins `group` on the interface with address `interface` (IP_ADD_MEMBERSHIP).
    public func joinMulticast(group: String, interface: String) throws(ReactorError) {
        var request = ip_mreq()
        request.imr_multiaddr = try Self.inAddr(group)
        request.imr_interface = try Self.inAddr(interface)
        let fd = fileDescriptor
        try Syscall.call("setsockopt(IP_ADD_MEMBERSHIP)") {
            setsockopt(fd, Int32(csync_ipproto_ip()), IP_ADD_MEMBERSHIP, &request, socklen_t(MemoryLayout<ip_mreq>.size))
        }
    }

    /// Leaves `group` on that interface (it went away or lost its address).
    public func leaveMulticast(group: String, interface: String) {
        guard var request = try? ip_mreq(imr_multiaddr: Self.inAddr(group), imr_interface: Self.inAddr(interface)) else { return }
        _ = setsockopt(fileDescriptor, Int32(csync_ipproto_ip()), IP_DROP_MEMBERSHIP, &request, socklen_t(MemoryLayout<ip_mreq>.size))
    }

    /// The interface later multicast sends leave by (IP_MULTICAST_IF).
    public func setMulticastInterface(_ interface: String) throws(ReactorError) {
        var address = try Self.inAddr(interface)
        let fd = fileDescriptor
        try Syscall.call("setsockopt(IP_MULTICAST_IF)") {
            setsockopt(fd, Int32(csync_ipproto_ip()), IP_MULTICAST_IF, &address, socklen_t(MemoryLayout<in_addr>.size))
        }
    }

    /// TTL of multicast sends (mDNS uses 255) and whether our own sends loop back to us.
    public func setMulticast(ttl: Int32, loop: Bool) throws(ReactorError) {
        try Syscall.setOption(fileDescriptor, Int32(csync_ipproto_ip()), IP_MULTICAST_TTL, ttl, "setsockopt(IP_MULTICAST_TTL)")
        try Syscall.setOption(fileDescriptor, Int32(csync_ipproto_ip()), IP_MULTICAST_LOOP, loop ? 1 : 0, "setsockopt(IP_MULTICAST_LOOP)")
    }

    static func inAddr(_ text: String) throws(ReactorError) -> in_addr {
        var address = in_addr()
        guard inet_pton(AF_INET, text, &address) == 1 else { throw .invalidAddress(text) }
        return address
    }
}

// MARK: - IPv6 multicast (mDNS on ff02::fb)

extension DatagramSocket {
    /// Joins `group` on the interface with index `interfaceIndex` (IPV6_ADD_MEMBERSHIP).
    public func joinMulticastV6(group: String, interfaceIndex: UInt32) throws(ReactorError) {
        var request = ipv6_mreq()
        guard inet_pton(AF_INET6, group, &request.ipv6mr_multiaddr) == 1 else { throw .invalidAddress(group) }
        request.ipv6mr_interface = interfaceIndex
        let fd = fileDescriptor
        try Syscall.call("setsockopt(IPV6_ADD_MEMBERSHIP)") {
            setsockopt(fd, csync_ipproto_ipv6(), IPV6_ADD_MEMBERSHIP, &request, socklen_t(MemoryLayout<ipv6_mreq>.size))
        }
    }

    public func leaveMulticastV6(group: String, interfaceIndex: UInt32) {
        var request = ipv6_mreq()
        guard inet_pton(AF_INET6, group, &request.ipv6mr_multiaddr) == 1 else { return }
        request.ipv6mr_interface = interfaceIndex
        _ = setsockopt(fileDescriptor, csync_ipproto_ipv6(), IPV6_DROP_MEMBERSHIP, &request, socklen_t(MemoryLayout<ipv6_mreq>.size))
    }

    /// The interface later IPv6 multicast sends leave by (IPV6_MULTICAST_IF).
    public func setMulticastInterfaceV6(_ interfaceIndex: UInt32) throws(ReactorError) {
        try Syscall.setOption(fileDescriptor, csync_ipproto_ipv6(), IPV6_MULTICAST_IF, Int32(bitPattern: interfaceIndex), "setsockopt(IPV6_MULTICAST_IF)")
    }

    public func setMulticastV6(hops: Int32, loop: Bool) throws(ReactorError) {
        try Syscall.setOption(fileDescriptor, csync_ipproto_ipv6(), IPV6_MULTICAST_HOPS, hops, "setsockopt(IPV6_MULTICAST_HOPS)")
        try Syscall.setOption(fileDescriptor, csync_ipproto_ipv6(), IPV6_MULTICAST_LOOP, loop ? 1 : 0, "setsockopt(IPV6_MULTICAST_LOOP)")
    }
}
