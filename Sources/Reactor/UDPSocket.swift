#if canImport(Glibc)
import Glibc
#endif
import CSyncShim

/// One received datagram, lent to `UDPSocket.onDatagrams`: `payload` points into the socket's
/// receive buffer and is valid only until the callback returns (copy what must outlive it).
public struct UDPDatagram {
    public let payload: UnsafeRawBufferPointer
    /// The sender's address, as the kernel reported it.
    public let source: SocketAddress
}

/// The datagrams of one `recvmmsg` call, in arrival order, lent to `UDPSocket.onDatagrams`.
///
/// A batch rather than one callback per datagram, so that a QUIC consumer can feed every
/// packet to its connections (ngtcp2 reads them in place through the payload pointer: no
/// copy) and then write its replies once for the whole batch. Neither the batch nor its
/// payload pointers may be kept after the callback returns: the buffers are reused by the
/// next `recvmmsg`.
public struct UDPReceiveBatch: RandomAccessCollection {
    let datagrams: UnsafeBufferPointer<UDPDatagram>

    public var startIndex: Int { 0 }
    public var endIndex: Int { datagrams.count }
    public subscript(position: Int) -> UDPDatagram { datagrams[position] }
}

/// A bound UDP socket for QUIC: one per listen address, shared by every connection on it.
///
/// Receiving: on readability, `recvmmsg` fills up to `receiveBatchSize` preallocated slots of
/// `maxDatagramSize` bytes and lends them to `onDatagrams` as one `UDPReceiveBatch`. A datagram
/// longer than its slot comes back with MSG_TRUNC; it is dropped and counted in
/// `truncatedDatagrams`, because a cut QUIC packet can only fail decryption. UDP GRO stays off,
/// so each slot always holds exactly one datagram.
///
/// The Reactor's epoll is level-triggered, so reading need not drain the socket: at most
/// `maxReceiveBatchesPerEvent` batches are read per readiness event, to stay fair to the other
/// descriptors of the turn, and whatever is left makes epoll report the socket again next turn.
///
/// Sending: `send(_:to:)` copies a datagram into a bounded queue; `flush()` (called by the
/// consumer once it has written everything for now, and by `send` when the queue is full)
/// hands the queue to `sendmmsg`. Consecutive datagrams to one destination of one size
/// (the last may be shorter) go out as one message with a UDP_SEGMENT control message (UDP
/// GSO, Linux 4.18+), so the kernel walks the stack once for up to 64 of them. When the
/// kernel's buffer is full (EAGAIN) the rest stays queued and EPOLLOUT is armed to flush it
/// later; the queue holds at most `maxQueuedDatagrams`, beyond which sends are dropped and
/// counted, as the network could drop them too. Nothing here ever blocks.
public final class UDPSocket: EventSource {
    /// Receive slot size: QUIC packets fit the path MTU (1,200 to ~1,500 bytes on Ethernet);
    /// 2 KiB leaves room for jumbo-ish paths while keeping the 64 slots at 128 KiB.
    public static let defaultMaxDatagramSize = 2048
    /// Requested SO_RCVBUF/SO_SNDBUF: about 3,000 full-size QUIC packets, so a burst from
    /// many connections between two turns is not dropped by the kernel.
    public static let defaultSocketBufferBytes: Int32 = 4 << 20
    /// Datagrams per recvmmsg and messages per sendmmsg.
    public static let batchSize = 64
    /// recvmmsg calls per readiness event (level-triggered: the rest waits for the next turn).
    static let maxReceiveBatchesPerEvent = 8
    /// Datagrams the send queue holds while the kernel buffer is full; more are dropped.
    public static let maxQueuedDatagrams = 1024
    /// Segments per GSO message: the kernel's UDP_MAX_SEGMENTS was 64 until Linux 6.9 raised it
    /// to 128; 64 works on every kernel with UDP_SEGMENT.
    static let maxSegmentsPerMessage = 64

    /// The largest UDP payload: the 16-bit IPv4 total length minus the IPv4 and UDP headers
    /// (65,535 - 20 - 8), or the 16-bit IPv6 payload length minus the UDP header (65,535 - 8).
    /// A GSO message's total payload is bound by the same limit.
    static func maxPayload(family: Int32) -> Int { family == AF_INET6 ? 65_527 : 65_507 }

    unowned let reactor: Reactor
    private(set) var fileDescriptor: Int32
    /// The bound address, with the port the kernel picked for port 0.
    public let localAddress: SocketAddress
    /// Bytes of each receive slot; longer datagrams are dropped (`truncatedDatagrams`).
    public let maxDatagramSize: Int
    /// SO_RCVBUF and SO_SNDBUF as the kernel granted them (it doubles the request for its
    /// bookkeeping and caps it at net.core.rmem_max/wmem_max without CAP_NET_ADMIN).
    public let receiveBufferBytes: Int
    public let sendBufferBytes: Int

    /// Receives each batch of datagrams (see `UDPReceiveBatch` for the lifetime of the
    /// payloads). Without it, datagrams are read and discarded.
    public var onDatagrams: ((UDPReceiveBatch) -> Void)?

    /// Whether the kernel accepts UDP_SEGMENT on this socket (probed once when opened; turned
    /// off for good when a GSO send fails with EIO, i.e. the device cannot checksum segments).
    public private(set) var gsoSupported: Bool
    /// Whether `flush()` coalesces runs of same-size datagrams into GSO messages. True by
    /// default where supported; setting true where unsupported leaves it false.
    public var gsoEnabled: Bool {
        didSet { if !gsoSupported { gsoEnabled = false } }
    }

    // Counters for `status` and benchmarks.
    /// Datagrams delivered to `onDatagrams` (or discarded for want of a handler).
    public private(set) var datagramsReceived = 0
    /// recvmmsg calls that returned at least one datagram.
    public private(set) var receiveBatches = 0
    /// Datagrams longer than `maxDatagramSize`, dropped.
    public private(set) var truncatedDatagrams = 0
    /// recvmmsg failures other than would-block (the last one in `lastReceiveError`).
    public private(set) var receiveErrors = 0
    public private(set) var lastReceiveError: Errno?
    /// Datagrams the kernel accepted (each GSO segment counts as one).
    public private(set) var datagramsSent = 0
    /// sendmmsg calls that sent at least one message.
    public private(set) var sendBatches = 0
    /// Messages sent with UDP_SEGMENT, each carrying two or more datagrams.
    public private(set) var gsoSends = 0
    /// GSO messages the kernel refused with EINVAL or EIO, whose datagrams were then sent one
    /// by one (EINVAL: a segment over the route's MTU; EIO: no checksum offload, GSO turned off).
    public private(set) var gsoFallbacks = 0
    /// Datagrams dropped because the send queue was full.
    public private(set) var droppedSends = 0
    /// Datagrams the kernel refused (ENETUNREACH, EMSGSIZE, EPERM from a firewall, ...),
    /// dropped; the last error is in `lastSendError`.
    public private(set) var failedSends = 0
    public private(set) var lastSendError: Errno?

    public var isOpen: Bool { fileDescriptor >= 0 }
    /// Datagrams waiting in the send queue.
    public var queuedDatagrams: Int { pending.count - pendingHead }

    // Receive side: preallocated once, reused by every recvmmsg.
    private let receiveHeaders: UnsafeMutablePointer<csync_mmsghdr>
    private let receiveVectors: UnsafeMutablePointer<iovec>
    private let receiveNames: UnsafeMutablePointer<sockaddr_storage>
    private let receiveSlots: UnsafeMutableRawPointer
    private var delivered: [UDPDatagram] = []

    // Send side: datagrams are copied back to back into `sendArena`, so a run of them headed
    // for GSO is already one contiguous buffer (one iovec).
    private struct Pending {
        var offset: Int
        var length: Int
        var destination: SocketAddress
    }
    private var pending: [Pending] = []
    private var pendingHead = 0
    private var sendArena: UnsafeMutableRawPointer
    private var sendArenaCapacity: Int
    private var sendArenaUsed = 0
    /// Pending index before which runs must not be coalesced (the run a GSO send was refused for).
    private var noCoalescingBefore = 0
    private var waitingForWritable = false
    private let sendHeaders: UnsafeMutablePointer<csync_mmsghdr>
    private let sendVectors: UnsafeMutablePointer<iovec>
    private let sendNames: UnsafeMutablePointer<sockaddr_storage>
    private let sendControl: UnsafeMutableRawPointer
    private let sendSegmentCounts: UnsafeMutablePointer<Int>
    private static let controlSpace = Int(csync_cmsg_space(MemoryLayout<UInt16>.size))

    /// Takes over the bound socket `fd`: sizes its kernel buffers, probes UDP_SEGMENT,
    /// allocates the batch buffers and registers for readability.
    ///
    /// SO_RCVBUFFORCE/SO_SNDBUFFORCE are tried first, since they may exceed rmem_max/wmem_max
    /// (they need CAP_NET_ADMIN, as the daemon has in a container); otherwise the plain options
    /// get whatever the sysctl caps allow. Failures are ignored: the buffer size is a
    /// performance matter, the socket works either way.
    init(reactor: Reactor, fd: Int32, address: SocketAddress, maxDatagramSize: Int, socketBufferBytes: Int32) throws(ReactorError) {
        self.reactor = reactor
        self.fileDescriptor = fd
        self.maxDatagramSize = maxDatagramSize
        localAddress = SocketAddress.local(of: fd) ?? address
        for (force, plain) in [(SO_RCVBUFFORCE, SO_RCVBUF), (SO_SNDBUFFORCE, SO_SNDBUF)] {
            if (try? Syscall.setOption(fd, SOL_SOCKET, force, socketBufferBytes, "setsockopt(SO_*BUFFORCE)")) == nil {
                try? Syscall.setOption(fd, SOL_SOCKET, plain, socketBufferBytes, "setsockopt(SO_*BUF)")
            }
        }
        receiveBufferBytes = Int(Self.intOption(fd, SOL_SOCKET, SO_RCVBUF) ?? 0)
        sendBufferBytes = Int(Self.intOption(fd, SOL_SOCKET, SO_SNDBUF) ?? 0)
        // Kernels without UDP GSO (before 4.18) answer ENOPROTOOPT.
        gsoSupported = Self.intOption(fd, csync_ipproto_udp(), csync_udp_segment()) != nil
        gsoEnabled = gsoSupported

        let batch = UDPSocket.batchSize
        receiveHeaders = .allocate(capacity: batch)
        receiveHeaders.initialize(repeating: csync_mmsghdr(), count: batch)
        receiveVectors = .allocate(capacity: batch)
        receiveNames = .allocate(capacity: batch)
        receiveNames.initialize(repeating: sockaddr_storage(), count: batch)
        receiveSlots = .allocate(byteCount: batch * maxDatagramSize, alignment: 16)
        for index in 0 ..< batch {
            receiveVectors[index] = iovec(iov_base: receiveSlots + index * maxDatagramSize, iov_len: maxDatagramSize)
            receiveHeaders[index].msg_hdr.msg_name = UnsafeMutableRawPointer(receiveNames + index)
            receiveHeaders[index].msg_hdr.msg_iov = receiveVectors + index
            receiveHeaders[index].msg_hdr.msg_iovlen = 1
        }
        delivered.reserveCapacity(batch)

        sendArenaCapacity = batch * 1500
        sendArena = .allocate(byteCount: sendArenaCapacity, alignment: 16)
        pending.reserveCapacity(UDPSocket.maxQueuedDatagrams)
        sendHeaders = .allocate(capacity: batch)
        sendHeaders.initialize(repeating: csync_mmsghdr(), count: batch)
        sendVectors = .allocate(capacity: batch)
        sendVectors.initialize(repeating: iovec(), count: batch)
        sendNames = .allocate(capacity: batch)
        sendNames.initialize(repeating: sockaddr_storage(), count: batch)
        sendControl = .allocate(byteCount: batch * UDPSocket.controlSpace, alignment: 16)
        sendControl.initializeMemory(as: UInt8.self, repeating: 0, count: batch * UDPSocket.controlSpace)
        sendSegmentCounts = .allocate(capacity: batch)
        sendSegmentCounts.initialize(repeating: 0, count: batch)
        for index in 0 ..< batch {
            sendHeaders[index].msg_hdr.msg_name = UnsafeMutableRawPointer(sendNames + index)
            sendHeaders[index].msg_hdr.msg_iov = sendVectors + index
            sendHeaders[index].msg_hdr.msg_iovlen = 1
        }
        try reactor.register(fd, interest: EpollBits.input, source: self)
    }

    deinit {
        receiveHeaders.deallocate()
        receiveVectors.deallocate()
        receiveNames.deallocate()
        receiveSlots.deallocate()
        sendArena.deallocate()
        sendHeaders.deallocate()
        sendVectors.deallocate()
        sendNames.deallocate()
        sendControl.deallocate()
        sendSegmentCounts.deallocate()
    }

    // MARK: Sending

    /// Queues one datagram for `destination` (copied: `payload` may be reused at once). It
    /// leaves on the next `flush()`: queue a burst (every packet every connection has ready),
    /// then flush once, so that sendmmsg and GSO see the whole burst. A full queue is flushed
    /// first; if it is still full (the kernel buffer is too) the datagram is dropped
    /// (`droppedSends`). Errors the kernel reports later are counted in `failedSends`, since
    /// UDP offers no one to tell but the counters.
    /// - Throws: a closed socket (EBADF), a destination of the other family, or a payload over
    ///   the family's UDP limit: mistakes of the caller, not network conditions.
    public func send(_ payload: UnsafeRawBufferPointer, to destination: SocketAddress) throws(ReactorError) {
        guard fileDescriptor >= 0 else { throw .syscall("send on the closed UDP socket \(localAddress)", Errno(EBADF)) }
        guard destination.family == localAddress.family else {
            throw .addressFamilyMismatch(destination: destination.text, socket: localAddress.text)
        }
        let limit = UDPSocket.maxPayload(family: localAddress.family)
        guard payload.count <= limit else { throw .datagramTooLarge(payload.count, limit: limit) }
        // A full queue is flushed before anything is dropped: a consumer that writes more than
        // the queue holds between two flushes loses nothing while the kernel has room.
        if queuedDatagrams >= UDPSocket.maxQueuedDatagrams { flush() }
        guard queuedDatagrams < UDPSocket.maxQueuedDatagrams else {
            droppedSends += 1
            return
        }
        reserveArena(payload.count)
        if let base = payload.baseAddress { (sendArena + sendArenaUsed).copyMemory(from: base, byteCount: payload.count) }
        pending.append(Pending(offset: sendArenaUsed, length: payload.count, destination: destination))
        sendArenaUsed += payload.count
    }

    /// `send(_:to:)` for an array.
    public func send(_ payload: [UInt8], to destination: SocketAddress) throws(ReactorError) {
        // Array.withUnsafeBytes rethrows untyped errors: carry the typed one out in a Result.
        try payload.withUnsafeBytes { raw in Result { () throws(ReactorError) in try send(raw, to: destination) } }.get()
    }

    /// Hands the queued datagrams to the kernel in `sendmmsg` batches, coalescing runs into
    /// GSO messages. Stops at EAGAIN, keeping the rest and waiting for EPOLLOUT; while it
    /// waits, calling this does nothing (the kernel has no room anyway).
    public func flush() {
        guard fileDescriptor >= 0, !waitingForWritable else { return }
        while pendingHead < pending.count {
            let messages = buildMessages()
            let fd = fileDescriptor
            let outcome = Syscall.attempt("sendmmsg") {
                csync_sendmmsg(fd, sendHeaders, UInt32(messages), csync_msg_nosignal() | csync_msg_dontwait())
            }
            switch outcome {
            case .done(let sent):
                // A short count means message `sent` would block or failed; the next call says which.
                sendBatches += 1
                for index in 0 ..< Int(sent) {
                    let segments = sendSegmentCounts[index]
                    datagramsSent += segments
                    if segments > 1 { gsoSends += 1 }
                    pendingHead += segments
                }
            case .wouldBlock:
                waitForWritability()
                return
            case .failed(let errno):
                let segments = sendSegmentCounts[0]
                if segments > 1, errno.rawValue == EIO || errno.rawValue == EINVAL {
                    // Resend this run one datagram at a time. EIO: the device cannot checksum
                    // GSO segments, which will not change, so GSO is off for good. EINVAL: most
                    // likely a segment over this route's MTU, which is the route's business,
                    // not the socket's: later runs still try GSO.
                    gsoFallbacks += 1
                    noCoalescingBefore = pendingHead + segments
                    if errno.rawValue == EIO {
                        gsoSupported = false
                        gsoEnabled = false
                    }
                } else {
                    // The first message was refused (unreachable network, firewall, ...): drop
                    // it, as the network would, and go on with the rest.
                    failedSends += segments
                    lastSendError = errno
                    pendingHead += segments
                }
            }
        }
        pending.removeAll(keepingCapacity: true)
        pendingHead = 0
        sendArenaUsed = 0
        noCoalescingBefore = 0
    }

    /// The kernel buffer is full: keep the queue and flush it on EPOLLOUT. Level-triggered
    /// epoll would report a writable UDP socket on every turn, so EPOLLOUT is in the interest
    /// set only while something waits. (Tests call this to exercise the queue without having
    /// to fill a loopback socket's buffer, which the kernel frees as soon as it delivers.)
    func waitForWritability() {
        guard fileDescriptor >= 0 else { return }
        waitingForWritable = true
        try? reactor.setInterest(fileDescriptor, EpollBits.input | EpollBits.output)
    }

    /// Fills `sendHeaders` from the queue head: up to `batchSize` messages, each one datagram
    /// or one GSO run. Returns the number of messages; `sendSegmentCounts` holds each one's
    /// datagram count.
    private func buildMessages() -> Int {
        var messages = 0
        var index = pendingHead
        let limit = UDPSocket.maxPayload(family: localAddress.family)
        while messages < UDPSocket.batchSize, index < pending.count {
            let first = pending[index]
            var segments = 1
            var bytes = first.length
            // A run: same destination, every datagram of the first one's size except a shorter
            // last one. gso_size 0 is invalid, so empty datagrams never start a run.
            if gsoEnabled, first.length > 0, index >= noCoalescingBefore {
                while index + segments < pending.count, segments < UDPSocket.maxSegmentsPerMessage {
                    let next = pending[index + segments]
                    guard next.length <= first.length, next.length > 0, bytes + next.length <= limit,
                          next.destination == first.destination else { break }
                    segments += 1
                    bytes += next.length
                    if next.length < first.length { break }
                }
            }
            let header = sendHeaders + messages
            header.pointee.msg_hdr.msg_namelen = first.destination.write(into: sendNames + messages) ?? 0
            sendVectors[messages] = iovec(iov_base: sendArena + first.offset, iov_len: bytes)
            if segments > 1 {
                let control = sendControl + messages * UDPSocket.controlSpace
                header.pointee.msg_hdr.msg_control = control
                header.pointee.msg_hdr.msg_controllen = UDPSocket.controlSpace
                let cmsg = csync_cmsg_firsthdr(&header.pointee.msg_hdr)!
                cmsg.pointee.cmsg_level = csync_ipproto_udp()
                cmsg.pointee.cmsg_type = csync_udp_segment()
                cmsg.pointee.cmsg_len = csync_cmsg_len(MemoryLayout<UInt16>.size)
                UnsafeMutableRawPointer(csync_cmsg_data(cmsg)!).storeBytes(of: UInt16(first.length), as: UInt16.self)
            } else {
                header.pointee.msg_hdr.msg_control = nil
                header.pointee.msg_hdr.msg_controllen = 0
            }
            sendSegmentCounts[messages] = segments
            messages += 1
            index += segments
        }
        return messages
    }

    /// Makes room for `count` more bytes at the end of the arena: first by moving the unsent
    /// datagrams to the front (after a partial flush), then by doubling it.
    private func reserveArena(_ count: Int) {
        if sendArenaUsed + count <= sendArenaCapacity { return }
        if pendingHead > 0 {
            let start = pending[pendingHead].offset
            sendArena.copyMemory(from: sendArena + start, byteCount: sendArenaUsed - start)
            pending.removeFirst(pendingHead)
            for index in pending.indices { pending[index].offset -= start }
            noCoalescingBefore = max(0, noCoalescingBefore - pendingHead)
            pendingHead = 0
            sendArenaUsed -= start
            if sendArenaUsed + count <= sendArenaCapacity { return }
        }
        var capacity = sendArenaCapacity * 2
        while capacity < sendArenaUsed + count { capacity *= 2 }
        let arena = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        arena.copyMemory(from: sendArena, byteCount: sendArenaUsed)
        sendArena.deallocate()
        sendArena = arena
        sendArenaCapacity = capacity
    }

    // MARK: Receiving

    /// Reads up to `maxReceiveBatchesPerEvent` batches, stopping early at a short batch (the
    /// queue is empty: with MSG_DONTWAIT recvmmsg returns what it has once it would block).
    private func receive() {
        let batch = UDPSocket.batchSize
        for _ in 0 ..< UDPSocket.maxReceiveBatchesPerEvent {
            guard fileDescriptor >= 0 else { return }
            for index in 0 ..< batch {
                // Value-result fields: the kernel overwrote them on the previous call.
                receiveHeaders[index].msg_hdr.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
                receiveHeaders[index].msg_hdr.msg_flags = 0
            }
            let fd = fileDescriptor
            let outcome = Syscall.attempt("recvmmsg") {
                csync_recvmmsg(fd, receiveHeaders, UInt32(batch), csync_msg_dontwait())
            }
            switch outcome {
            case .wouldBlock:
                return
            case .failed(let errno):
                // A pending socket error (ICMP, with IP_RECVERR) or ENOMEM: the call consumed
                // it; try again, within the per-event cap.
                receiveErrors += 1
                lastReceiveError = errno
                continue
            case .done(let count):
                receiveBatches += 1
                deliver(count: Int(count))
                if count < batch { return }
            }
        }
    }

    private func deliver(count: Int) {
        delivered.removeAll(keepingCapacity: true)
        let truncated = csync_msg_trunc()
        for index in 0 ..< count {
            let header = receiveHeaders[index]
            guard header.msg_hdr.msg_flags & truncated == 0 else {
                truncatedDatagrams += 1
                continue
            }
            let name = UnsafeRawBufferPointer(start: receiveNames + index, count: Int(header.msg_hdr.msg_namelen))
            // Only IPv4/IPv6 can arrive on this socket; anything else would be a kernel oddity.
            guard let source = SocketAddress(kernel: name) else { continue }
            delivered.append(UDPDatagram(payload: UnsafeRawBufferPointer(start: receiveSlots + index * maxDatagramSize,
                                                                        count: Int(header.msg_len)),
                                         source: source))
        }
        datagramsReceived += delivered.count
        guard !delivered.isEmpty, let onDatagrams else { return }
        delivered.withUnsafeBufferPointer { onDatagrams(UDPReceiveBatch(datagrams: $0)) }
    }

    // MARK: Events and closing

    func handleEvents(_ events: UInt32) {
        if events & EpollBits.error != 0 {
            // A queued ICMP error (only with IP_RECVERR, which we leave off): reading SO_ERROR
            // clears it, or level-triggered epoll would report it forever.
            _ = Syscall.socketError(fileDescriptor)
        }
        if events & EpollBits.output != 0, waitingForWritable {
            waitingForWritable = false
            flush()
            if !waitingForWritable, fileDescriptor >= 0 { try? reactor.setInterest(fileDescriptor, EpollBits.input) }
        }
        if events & EpollBits.input != 0 { receive() }
    }

    /// Unregisters and closes the socket; queued datagrams are discarded and `onDatagrams` is
    /// released (it usually captures the consumer, which holds this socket).
    public func close() {
        guard fileDescriptor >= 0 else { return }
        reactor.deregister(fileDescriptor)
        Syscall.close(fileDescriptor)
        fileDescriptor = -1
        discardState()
    }

    func closeForShutdown() { close() }

    func reactorDeinitializing() {
        guard fileDescriptor >= 0 else { return }
        Syscall.close(fileDescriptor)
        fileDescriptor = -1
        discardState()
    }

    private func discardState() {
        onDatagrams = nil
        pending.removeAll()
        pendingHead = 0
        sendArenaUsed = 0
        waitingForWritable = false
    }

    private static func intOption(_ fd: Int32, _ level: Int32, _ option: Int32) -> Int32? {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard case .done = Syscall.attempt("getsockopt", { getsockopt(fd, level, option, &value, &length) }) else { return nil }
        return value
    }
}
