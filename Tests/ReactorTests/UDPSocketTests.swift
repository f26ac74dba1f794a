#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
@testable import Reactor

extension ReactorIOTests {
    /// UDPSocket on real loopback sockets (IPv4 and IPv6) driven by a real Reactor loop.
    /// Loopback only drops when a receive buffer overflows, so every test keeps what is in
    /// flight far below the receiver's SO_RCVBUF.
    @Suite struct UDPSockets {
        static let hosts = ["127.0.0.1", "::1"]

        @Test(arguments: UDPSockets.hosts)
        func thousandDatagramsOfVariedSizesArriveIntactBothWays(host: String) throws {
            let reactor = try Reactor()
            defer { reactor.shutdown() }
            let a = try reactor.openUDP(bindTo: SocketAddress(host: host, port: 0))
            let b = try reactor.openUDP(bindTo: SocketAddress(host: host, port: 0))

            // Sizes from empty to exactly one receive slot, the edges included.
            var random = SeededRandom(seed: 11)
            let payloads: [[UInt8]] = (0 ..< 1000).map { index in
                let size = switch index {
                case 0: 0
                case 1: 1
                case 2: UDPSocket.defaultMaxDatagramSize
                default: Int(random.next() % UInt64(UDPSocket.defaultMaxDatagramSize + 1))
                }
                return pattern(size, seed: UInt64(index))
            }
            // At most `window` datagrams in flight: 25 x 2 KiB stays well inside any SO_RCVBUF.
            let window = 25
            var sent = 0
            var atB: [[UInt8]] = []
            var echoes: [[UInt8]] = []
            var wrongSources: [String] = []

            func sendWindow() {
                let end = min(sent + window, payloads.count)
                for index in sent ..< end { try! a.send(payloads[index], to: b.localAddress) }
                a.flush()
                sent = end
            }
            b.onDatagrams = { batch in
                for datagram in batch {
                    if datagram.source != a.localAddress { wrongSources.append("at b: \(datagram.source)") }
                    atB.append(Array(datagram.payload))
                    try! b.send(datagram.payload, to: datagram.source)
                }
                b.flush()
            }
            a.onDatagrams = { batch in
                for datagram in batch {
                    if datagram.source != b.localAddress { wrongSources.append("at a: \(datagram.source)") }
                    echoes.append(Array(datagram.payload))
                }
                if echoes.count == payloads.count { reactor.stop() } else if echoes.count == sent { sendWindow() }
            }
            sendWindow()
            try runUntilStopped(reactor)

            #expect(wrongSources.isEmpty)
            // Compared as multisets (UDP promises no order) and reported by count: the arrays
            // themselves are too long to print usefully.
            let expected = sortedBytes(payloads)
            #expect(sortedBytes(atB) == expected, "b received \(atB.count) datagrams; some differ from the 1,000 sent")
            #expect(sortedBytes(echoes) == expected, "a received \(echoes.count) echoes; some differ from the 1,000 sent")
            for socket in [a, b] {
                #expect(socket.datagramsSent == 1000)
                #expect(socket.datagramsReceived == 1000)
                #expect(socket.truncatedDatagrams == 0)
                #expect(socket.droppedSends == 0 && socket.failedSends == 0)
                #expect(socket.receiveBatches >= 1 && socket.receiveBatches <= 1000)
            }
        }

        /// 63 full datagrams and a last one of `lastSize`: one run, hence one GSO message
        /// where the kernel has UDP_SEGMENT; the receiver (GRO off) sees 64 datagrams.
        @Test(arguments: UDPSockets.hosts, [1000, 400])
        func sameSizeBatchGoesOutAsOneGSOMessage(host: String, lastSize: Int) throws {
            let reactor = try Reactor()
            defer { reactor.shutdown() }
            let a = try reactor.openUDP(bindTo: SocketAddress(host: host, port: 0))
            let b = try reactor.openUDP(bindTo: SocketAddress(host: host, port: 0))
            let payloads = (0 ..< 64).map { pattern($0 == 63 ? lastSize : 1000, seed: UInt64(100 + $0)) }
            var received: [[UInt8]] = []
            b.onDatagrams = { batch in
                for datagram in batch {
                    #expect(datagram.source == a.localAddress)
                    received.append(Array(datagram.payload))
                }
                if received.count == payloads.count { reactor.stop() }
            }
            for payload in payloads { try a.send(payload, to: b.localAddress) }
            a.flush()
            try runUntilStopped(reactor)

            #expect(received.count == 64)
            #expect(received.map(\.count).sorted() == payloads.map(\.count).sorted())
            #expect(sortedBytes(received) == sortedBytes(payloads), "segment contents differ from the datagrams sent")
            #expect(a.datagramsSent == 64)
            #expect(a.sendBatches == 1)
            if a.gsoSupported {
                #expect(a.gsoSends == 1)
                #expect(a.gsoFallbacks == 0)
            } else {
                #expect(a.gsoSends == 0)
            }
            #expect(b.datagramsReceived == 64)
        }

        /// Runs break at a new destination and at a datagram longer than the run's first;
        /// with GSO turned off every datagram is its own message.
        @Test(arguments: [true, false])
        func runsBreakAtDestinationAndSizeChanges(gso: Bool) throws {
            let reactor = try Reactor()
            defer { reactor.shutdown() }
            let a = try reactor.openUDP(bindTo: SocketAddress(host: "127.0.0.1", port: 0))
            let b = try reactor.openUDP(bindTo: SocketAddress(host: "127.0.0.1", port: 0))
            let c = try reactor.openUDP(bindTo: SocketAddress(host: "127.0.0.1", port: 0))
            a.gsoEnabled = gso
            var sizesAtB: [Int] = []
            var sizesAtC: [Int] = []
            func stopWhenAllArrived() { if sizesAtB.count == 23, sizesAtC.count == 20 { reactor.stop() } }
            b.onDatagrams = { batch in sizesAtB += batch.map(\.payload.count); stopWhenAllArrived() }
            c.onDatagrams = { batch in sizesAtC += batch.map(\.payload.count); stopWhenAllArrived() }
            // 20 x 1000 to b, 20 x 1000 to c, then 100, 200, 300 to b (each longer than the last).
            for _ in 0 ..< 20 { try a.send(pattern(1000), to: b.localAddress) }
            for _ in 0 ..< 20 { try a.send(pattern(1000), to: c.localAddress) }
            for size in [100, 200, 300] { try a.send(pattern(size), to: b.localAddress) }
            a.flush()
            #expect(a.queuedDatagrams == 0)
            #expect(a.sendBatches == 1)
            try runUntilStopped(reactor)
            #expect(sizesAtB.sorted() == [100, 200, 300] + Array(repeating: 1000, count: 20))
            #expect(sizesAtC == Array(repeating: 1000, count: 20))
            #expect(a.datagramsSent == 43)
            #expect(a.gsoSends == (gso && a.gsoSupported ? 2 : 0))
        }

        @Test(arguments: UDPSockets.hosts)
        func portZeroResolvesToARealPort(host: String) throws {
            let reactor = try Reactor()
            defer { reactor.shutdown() }
            let a = try reactor.openUDP(bindTo: SocketAddress(host: host, port: 0))
            let b = try reactor.openUDP(bindTo: SocketAddress(host: host, port: 0))
            #expect(a.localAddress.port != 0)
            #expect(a.localAddress.port != b.localAddress.port)
            #expect(a.localAddress == (try SocketAddress(host: host, port: a.localAddress.port)))
            #expect(a.localAddress.host == host)
            // What the kernel says, not what we remember.
            #expect(SocketAddress.local(of: a.fileDescriptor)?.port == a.localAddress.port)
        }

        @Test(arguments: UDPSockets.hosts)
        func bindingAPortInUseIsAClearError(host: String) throws {
            let reactor = try Reactor()
            defer { reactor.shutdown() }
            let a = try reactor.openUDP(bindTo: SocketAddress(host: host, port: 0))
            let expected = ReactorError.addressInUse(a.localAddress.text)
            #expect(throws: expected) { _ = try reactor.openUDP(bindTo: a.localAddress) }
            #expect(expected.description.contains(a.localAddress.text))
            #expect(expected.description.contains("already in use"))
            // A failed open leaves nothing registered and the first socket working.
            #expect(a.isOpen)
        }

        @Test func unixAddressesAreRefused() throws {
            let reactor = try Reactor()
            defer { reactor.shutdown() }
            let address = try SocketAddress(unixPath: "/tmp/not-udp.sock")
            #expect(throws: ReactorError.invalidAddress("/tmp/not-udp.sock")) { _ = try reactor.openUDP(bindTo: address) }
        }

        @Test func datagramLongerThanTheSlotIsCountedAsTruncatedAndNotDelivered() throws {
            let reactor = try Reactor()
            defer { reactor.shutdown() }
            let a = try reactor.openUDP(bindTo: SocketAddress(host: "127.0.0.1", port: 0))
            let b = try reactor.openUDP(bindTo: SocketAddress(host: "127.0.0.1", port: 0), maxDatagramSize: 512)
            var received: [[UInt8]] = []
            b.onDatagrams = { batch in
                received += batch.map { Array($0.payload) }
                if received.count == 2 { reactor.stop() }
            }
            try a.send(pattern(513, seed: 1), to: b.localAddress)
            try a.send(pattern(512, seed: 2), to: b.localAddress)
            try a.send(pattern(3000, seed: 3), to: b.localAddress)
            try a.send(pattern(100, seed: 4), to: b.localAddress)
            a.flush()
            try runUntilStopped(reactor)
            #expect(received.map(\.count) == [512, 100])
            #expect(received == [pattern(512, seed: 2), pattern(100, seed: 4)], "contents differ")
            #expect(b.truncatedDatagrams == 2)
            #expect(b.datagramsReceived == 2)
        }

        @Test func closingUnregistersAndFreesThePort() throws {
            let reactor = try Reactor()
            defer { reactor.shutdown() }
            let a = try reactor.openUDP(bindTo: SocketAddress(host: "127.0.0.1", port: 0))
            let fd = a.fileDescriptor
            #expect(reactor.isRegistered(fd))
            a.close()
            #expect(!a.isOpen)
            #expect(!reactor.isRegistered(fd))
            #expect(throws: ReactorError.syscall("send on the closed UDP socket \(a.localAddress)", Errno(EBADF))) {
                try a.send([1, 2, 3], to: a.localAddress)
            }
            a.close()  // a second close does nothing
            // The port is free again, and the fd number's new owner registers cleanly.
            let again = try reactor.openUDP(bindTo: a.localAddress)
            #expect(again.localAddress == a.localAddress)
            #expect(reactor.isRegistered(again.fileDescriptor))
        }

        @Test func closingFromTheCallbackStopsDelivery() throws {
            let reactor = try Reactor()
            defer { reactor.shutdown() }
            let a = try reactor.openUDP(bindTo: SocketAddress(host: "127.0.0.1", port: 0))
            let b = try reactor.openUDP(bindTo: SocketAddress(host: "127.0.0.1", port: 0))
            var batches = 0
            b.onDatagrams = { _ in
                batches += 1
                b.close()
                reactor.schedule(after: .milliseconds(20)) { reactor.stop() }
            }
            // More than one recvmmsg batch is waiting when b becomes readable.
            for index in 0 ..< 200 { try a.send(pattern(64, seed: UInt64(index)), to: b.localAddress) }
            a.flush()
            try runUntilStopped(reactor)
            #expect(batches == 1)
            #expect(!b.isOpen)
            #expect(b.datagramsReceived == UDPSocket.batchSize)
        }

        @Test func callerMistakesThrowActionableErrors() throws {
            let reactor = try Reactor()
            defer { reactor.shutdown() }
            let v4 = try reactor.openUDP(bindTo: SocketAddress(host: "127.0.0.1", port: 0))
            let v6Peer = try SocketAddress(host: "::1", port: 4001)
            let mismatch = ReactorError.addressFamilyMismatch(destination: "[::1]:4001", socket: v4.localAddress.text)
            #expect(throws: mismatch) { try v4.send([1], to: v6Peer) }
            #expect(mismatch.description.contains("[::1]:4001"))
            #expect(throws: ReactorError.datagramTooLarge(65_508, limit: 65_507)) {
                try v4.send([UInt8](repeating: 0, count: 65_508), to: v4.localAddress)
            }
            #expect(v4.queuedDatagrams == 0)
        }

        /// While the kernel buffer is full, sends queue up to the bound and the rest are dropped;
        /// writability then flushes the queue and takes EPOLLOUT back out of the interest set.
        /// (A loopback socket's send buffer is freed as soon as the kernel delivers, so the
        /// test enters the waiting state the way an EAGAIN from sendmmsg does.)
        @Test func fullKernelBufferQueuesBoundedThenFlushesOnWritability() throws {
            let reactor = try Reactor()
            defer { reactor.shutdown() }
            let a = try reactor.openUDP(bindTo: SocketAddress(host: "127.0.0.1", port: 0))
            let b = try reactor.openUDP(bindTo: SocketAddress(host: "127.0.0.1", port: 0))
            // 1,024 datagrams of 100 bytes: about 1 MiB of receive-buffer truesize.
            #expect(b.receiveBufferBytes >= 2 << 20, "the receive buffer is too small for this test")
            var received: [[UInt8]] = []
            b.onDatagrams = { batch in
                received += batch.map { Array($0.payload) }
                if received.count == UDPSocket.maxQueuedDatagrams { reactor.stop() }
            }
            a.waitForWritability()
            let payloads = (0 ..< UDPSocket.maxQueuedDatagrams + 76).map { pattern(100, seed: UInt64($0)) }
            for payload in payloads { try a.send(payload, to: b.localAddress) }
            #expect(a.queuedDatagrams == UDPSocket.maxQueuedDatagrams)
            #expect(a.droppedSends == 76)
            a.flush()  // does nothing while waiting for EPOLLOUT
            #expect(a.datagramsSent == 0)
            try runUntilStopped(reactor)
            #expect(received.count == UDPSocket.maxQueuedDatagrams)
            #expect(sortedBytes(received) == sortedBytes(Array(payloads.prefix(UDPSocket.maxQueuedDatagrams))),
                    "the datagrams received are not the first 1,024 queued")
            #expect(a.queuedDatagrams == 0)
            #expect(a.datagramsSent == UDPSocket.maxQueuedDatagrams)
            // 1,024 equal datagrams to one address: 16 GSO messages of 64 where supported.
            #expect(a.gsoSends == (a.gsoSupported ? 16 : 0))
        }

        /// A consumer that writes more than the queue holds between flushes loses nothing:
        /// the full queue goes to the kernel before the next datagram is queued.
        @Test func aFullQueueIsFlushedBeforeAnythingIsDropped() throws {
            let reactor = try Reactor()
            defer { reactor.shutdown() }
            let a = try reactor.openUDP(bindTo: SocketAddress(host: "127.0.0.1", port: 0))
            let b = try reactor.openUDP(bindTo: SocketAddress(host: "127.0.0.1", port: 0))
            #expect(b.receiveBufferBytes >= 2 << 20, "the receive buffer is too small for this test")
            let payloads = (0 ..< UDPSocket.maxQueuedDatagrams + 76).map { pattern(100, seed: UInt64($0)) }
            var received: [[UInt8]] = []
            b.onDatagrams = { batch in
                received += batch.map { Array($0.payload) }
                if received.count == payloads.count { reactor.stop() }
            }
            for payload in payloads { try a.send(payload, to: b.localAddress) }
            #expect(a.datagramsSent == UDPSocket.maxQueuedDatagrams)
            #expect(a.queuedDatagrams == 76)
            #expect(a.droppedSends == 0)
            a.flush()
            try runUntilStopped(reactor)
            #expect(sortedBytes(received) == sortedBytes(payloads), "received \(received.count) of \(payloads.count)")
        }

        @Test func socketAddressesCompareByFamilyAddressAndPort() throws {
            let a = try SocketAddress(host: "127.0.0.1", port: 4001)
            #expect(a == (try SocketAddress(host: "localhost", port: 4001)))
            #expect(a != (try SocketAddress(host: "127.0.0.1", port: 4002)))
            #expect(a != (try SocketAddress(host: "127.0.0.2", port: 4001)))
            let v6 = try SocketAddress(host: "::1", port: 4001)
            #expect(v6 == (try SocketAddress(host: "[::1]", port: 4001)))
            #expect(v6 != (try SocketAddress(host: "::2", port: 4001)))
            #expect(v6 != a)
            #expect(Set([a, v6, try SocketAddress(host: "127.0.0.1", port: 4001)]).count == 2)
            #expect("\(v6)" == "[::1]:4001")
        }
    }
}

/// Byte strings in lexicographic order, to compare datagrams as multisets.
private func sortedBytes(_ datagrams: [[UInt8]]) -> [[UInt8]] {
    datagrams.sorted { $0.lexicographicallyPrecedes($1) }
}
