#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
@testable import Reactor

extension ReactorIOTests {
    @Suite struct Streams {
        @Test func echoesOneMegabyteOverLoopback() throws {
            let reactor = try Reactor()
            defer { reactor.shutdown() }
            let listener = try startEchoServer(reactor)
            let sent = pattern(1 << 20)
            var received: [UInt8] = []
            var connected = false
            let client = try reactor.connectTCP(host: "127.0.0.1", port: listener.localPort)
            client.onConnected = {
                connected = true
                var offset = 0
                while offset < sent.count {
                    let end = min(offset + 10_000, sent.count)
                    client.write(Array(sent[offset ..< end]))
                    offset = end
                }
            }
            client.onRead = { ring in
                received += ring.read(ring.readableBytes)
                if received.count >= sent.count { reactor.stop() }
            }
            client.onClose = { reason in
                // .closedLocally comes from the shutdown at the end.
                guard reason != .closedLocally else { return }
                Issue.record("client closed early: \(reason)")
                reactor.stop()
            }
            try runUntilStopped(reactor)
            #expect(connected)
            #expect(received.count == sent.count)
            #expect(received == sent)
            #expect(client.remoteAddress == "127.0.0.1:\(listener.localPort)")
            #expect(listener.localAddress == "127.0.0.1:\(listener.localPort)")
        }

        @Test func acceptStormOfFiveHundredClients() throws {
            let reactor = try Reactor()
            defer { reactor.shutdown() }
            let listener = try startEchoServer(reactor)
            let clientCount = 500
            var served = Set<Int>()
            var failures: [String] = []
            var clients: [StreamConnection] = []
            for index in 0 ..< clientCount {
                let client = try reactor.connectTCP(host: "127.0.0.1", port: listener.localPort)
                let message = withUnsafeBytes(of: UInt32(index).littleEndian) { Array($0) }
                client.onConnected = { client.write(message) }
                client.onRead = { ring in
                    guard ring.readableBytes >= 4 else { return }
                    let echoed = ring.read(4)
                    if echoed == message { served.insert(index) } else { failures.append("client \(index) got \(echoed)") }
                    client.close()
                    if served.count + failures.count == clientCount { reactor.stop() }
                }
                client.onClose = { reason in
                    if reason != .closedLocally {
                        failures.append("client \(index) closed: \(reason)")
                        if served.count + failures.count == clientCount { reactor.stop() }
                    }
                }
                clients.append(client)
            }
            try runUntilStopped(reactor)
            #expect(failures == [])
            #expect(served.count == clientCount)
        }

        @Test func peerClosingMidWriteIsAnOrdinaryCloseAndTheLoopGoesOn() throws {
            let reactor = try Reactor()
            defer { reactor.shutdown() }
            let listener = try reactor.listenTCP(host: "127.0.0.1", port: 0)
            var serverCloseReasons: [CloseReason] = []
            var secondReply: [UInt8] = []
            func startSecondClient() {
                let second = try! reactor.connectTCP(host: "127.0.0.1", port: listener.localPort)
                second.onConnected = { second.write(Array("still serving".utf8)) }
                second.onRead = { ring in
                    secondReply += ring.read(ring.readableBytes)
                    if secondReply.count >= 13 { second.close(); reactor.stop() }
                }
            }
            var accepted = 0
            listener.onAccept = { connection in
                accepted += 1
                if accepted == 1 {
                    connection.onClose = { reason in
                        serverCloseReasons.append(reason)
                        startSecondClient()
                    }
                    connection.write(pattern(8 << 20))
                } else {
                    connection.onRead = { ring in connection.write(ring.read(ring.readableBytes)) }
                }
            }
            let first = try reactor.connectTCP(host: "127.0.0.1", port: listener.localPort)
            var firstRead = 0
            first.onRead = { ring in
                firstRead += ring.readableBytes
                ring.consume(ring.readableBytes)
                // Read a little, then close with megabytes still coming: the server's sends
                // meet a reset (ECONNRESET/EPIPE), never a SIGPIPE.
                first.close()
            }
            try runUntilStopped(reactor)
            #expect(firstRead > 0)
            #expect(serverCloseReasons.count == 1)
            if let reason = serverCloseReasons.first {
                switch reason {
                case .error(let errno): #expect([ECONNRESET, EPIPE].contains(errno.rawValue), "\(errno)")
                case .endOfFile: break
                default: Issue.record("unexpected close reason \(reason)")
                }
            }
            #expect(String(decoding: secondReply, as: UTF8.self) == "still serving")
        }

        @Test func partialWritesAgainstAFullKernelBufferArriveInOrder() throws {
            let reactor = try Reactor()
            defer { reactor.shutdown() }
            let listener = try reactor.listenTCP(host: "127.0.0.1", port: 0)
            let payload = pattern(16 << 20, seed: 99)
            var server: StreamConnection?
            var pendingAfterWrite = 0
            var writableFired = 0
            var pendingWhenWritable = -1
            var received: [UInt8] = []
            received.reserveCapacity(payload.count)
            func finishIfDone() {
                if received.count == payload.count, writableFired > 0 { reactor.stop() }
            }
            listener.onAccept = { connection in
                server = connection
                connection.maxPendingOutput = 64 << 20
                connection.onWritable = {
                    writableFired += 1
                    pendingWhenWritable = connection.pendingOutputBytes
                    finishIfDone()
                }
                connection.write(payload)
                pendingAfterWrite = connection.pendingOutputBytes
            }
            let client = try reactor.connectTCP(host: "127.0.0.1", port: listener.localPort)
            var reading = false
            var turnsWithoutReading = 0
            reactor.addBeforeSleep {
                if !reading, server != nil { turnsWithoutReading += 1 }
            }
            client.onRead = { ring in
                guard reading else { return }
                received += ring.read(ring.readableBytes)
                finishIfDone()
            }
            // Start reading after the server has queued output and a few turns went by.
            func startReadingLater() {
                reactor.schedule(after: .milliseconds(20)) {
                    guard server != nil, turnsWithoutReading >= 3 else { return startReadingLater() }
                    reading = true
                    client.withInput { ring in received += ring.read(ring.readableBytes) }
                    finishIfDone()
                }
            }
            startReadingLater()
            try runUntilStopped(reactor)
            #expect(pendingAfterWrite > 0, "the kernel took all 16 MiB at once; the test did not exercise queuing")
            #expect(client.readPauses > 0)
            #expect(received.count == payload.count)
            #expect(received == payload)
            #expect(writableFired == 1)
            #expect(pendingWhenWritable == 0)
            #expect(server?.pendingOutputBytes == 0)
        }

        @Test func slowConsumerIsCutOffAtMaxPendingOutput() throws {
            let reactor = try Reactor()
            defer { reactor.shutdown() }
            let listener = try reactor.listenTCP(host: "127.0.0.1", port: 0)
            var reason: CloseReason?
            var written = 0
            listener.onAccept = { connection in
                connection.maxPendingOutput = 1 << 20
                connection.onClose = { closed in
                    reason = closed
                    reactor.stop()
                }
                let chunk = pattern(64 << 10)
                // Far more than the socket buffers hold; the peer never reads.
                while connection.isOpen, written < 1 << 30 {
                    connection.write(chunk)
                    written += chunk.count
                }
            }
            let client = try reactor.connectTCP(host: "127.0.0.1", port: listener.localPort)
            client.onRead = { _ in }
            try runUntilStopped(reactor)
            #expect(reason == .outputOverflow)
            #expect(written < 1 << 30)
        }

        @Test func readBackpressureWithASmallRingLosesNothing() throws {
            let reactor = try Reactor()
            defer { reactor.shutdown() }
            let listener = try reactor.listenTCP(host: "127.0.0.1", port: 0)
            listener.inputCapacity = 4096
            let payload = pattern(1 << 20, seed: 3)
            var received: [UInt8] = []
            var server: StreamConnection?
            var callbacksSeenFull = 0
            listener.onAccept = { connection in
                server = connection
                // Consumes nothing here: only the timer below takes bytes out.
                connection.onRead = { ring in
                    #expect(ring.capacity == 4096)
                    if ring.writableBytes == 0 { callbacksSeenFull += 1 }
                }
            }
            func drainSome() {
                reactor.schedule(after: .milliseconds(1)) {
                    if let server {
                        server.withInput { ring in received += ring.read(min(ring.readableBytes, 3000)) }
                    }
                    if received.count >= payload.count { reactor.stop() } else { drainSome() }
                }
            }
            drainSome()
            let client = try reactor.connectTCP(host: "127.0.0.1", port: listener.localPort)
            client.onConnected = { client.write(payload) }
            try runUntilStopped(reactor)
            #expect(received.count == payload.count)
            #expect(received == payload)
            #expect((server?.readPauses ?? 0) > 0)
            #expect(callbacksSeenFull > 0)
        }

        @Test func connectToAClosedPortReportsConnectionRefused() throws {
            let reactor = try Reactor()
            defer { reactor.shutdown() }
            let probe = try reactor.listenTCP(host: "127.0.0.1", port: 0)
            let port = probe.localPort
            probe.close()
            var reasons: [CloseReason] = []
            var connected = false
            let client = try reactor.connectTCP(host: "127.0.0.1", port: port)
            client.onConnected = { connected = true }
            client.onClose = { reason in
                reasons.append(reason)
                reactor.stop()
            }
            try runUntilStopped(reactor)
            #expect(!connected)
            #expect(reasons == [.error(Errno(ECONNREFUSED))])
            #expect(!client.isOpen)
        }

        @Test func listeningOnAPortInUseIsAddressInUse() throws {
            let reactor = try Reactor()
            defer { reactor.shutdown() }
            let first = try reactor.listenTCP(host: "127.0.0.1", port: 0)
            #expect(throws: ReactorError.addressInUse("127.0.0.1:\(first.localPort)")) {
                _ = try reactor.listenTCP(host: "127.0.0.1", port: first.localPort)
            }
            #expect(throws: ReactorError.invalidAddress("example.org")) {
                _ = try reactor.listenTCP(host: "example.org", port: 0)
            }
        }

        @Test func ipv6LoopbackWorks() throws {
            let reactor = try Reactor()
            defer { reactor.shutdown() }
            let attempt = Result { () throws(ReactorError) -> StreamListener in try reactor.listenTCP(host: "::1", port: 0) }
            if case .failure(.syscall(_, let errno)) = attempt, errno.rawValue == EADDRNOTAVAIL || errno.rawValue == EAFNOSUPPORT {
                // No IPv6 on this host: nothing to test.
                return
            }
            let listener = try attempt.get()
            #expect(listener.localAddress == "[::1]:\(listener.localPort)")
            listener.onAccept = { connection in
                connection.onRead = { ring in connection.write(ring.read(ring.readableBytes)) }
            }
            var reply: [UInt8] = []
            let client = try reactor.connectTCP(host: "::1", port: listener.localPort)
            client.onConnected = { client.write([1, 2, 3]) }
            client.onRead = { ring in
                reply += ring.read(ring.readableBytes)
                if reply.count == 3 { reactor.stop() }
            }
            try runUntilStopped(reactor)
            #expect(reply == [1, 2, 3])
        }

        @Test func closeAfterFlushDeliversEverythingThenCloses() throws {
            let reactor = try Reactor()
            defer { reactor.shutdown() }
            let listener = try reactor.listenTCP(host: "127.0.0.1", port: 0)
            let payload = pattern(4 << 20, seed: 11)
            var serverReason: CloseReason?
            var clientReason: CloseReason?
            func stopWhenBothClosed() {
                if serverReason != nil, clientReason != nil { reactor.stop() }
            }
            listener.onAccept = { connection in
                connection.onClose = { serverReason = $0; stopWhenBothClosed() }
                connection.write(payload)
                connection.closeAfterFlush()
                #expect(!connection.isOpen)
            }
            var received: [UInt8] = []
            let client = try reactor.connectTCP(host: "127.0.0.1", port: listener.localPort)
            client.onRead = { ring in received += ring.read(ring.readableBytes) }
            client.onClose = { reason in
                clientReason = reason
                stopWhenBothClosed()
            }
            try runUntilStopped(reactor)
            #expect(received == payload)
            #expect(clientReason == .endOfFile)
            #expect(serverReason == .closedLocally)
        }

        /// An event fetched for fd A must not reach fd B when a callback closes A and opens B
        /// on the same number within one turn.
        @Test func staleEventsForAReusedDescriptorAreDropped() throws {
            let reactor = try Reactor()
            defer { reactor.shutdown() }
            let listener = try reactor.listenTCP(host: "127.0.0.1", port: 0)
            var serverSide: [StreamConnection] = []
            var reusedNumber: Int32 = -1
            var replacement: StreamConnection?
            var replacementEvents: [String] = []
            var staleBefore = 0
            listener.onAccept = { connection in
                serverSide.append(connection)
                connection.onRead = { ring in
                    ring.consume(ring.readableBytes)
                    guard replacement == nil, serverSide.count == 2 else { return }
                    // Both server sides became readable in the same turn; this one runs first.
                    let other = serverSide.first { $0 !== connection }!
                    let number = other.fileDescriptor
                    other.close()
                    // Make `number` the lowest free descriptor, so the next socket gets it.
                    var fillers: [Int32] = []
                    while true {
                        let fd = open("/dev/null", O_RDONLY | O_CLOEXEC)
                        if fd == number { Glibc.close(fd); break }
                        if fd > number || fd < 0 { Glibc.close(fd); break }
                        fillers.append(fd)
                    }
                    let fresh = try! reactor.connectTCP(host: "127.0.0.1", port: listener.localPort)
                    for filler in fillers { Glibc.close(filler) }
                    reusedNumber = number
                    replacement = fresh
                    fresh.onRead = { _ in replacementEvents.append("read") }
                    fresh.onClose = { replacementEvents.append("close \($0)") }
                    reactor.schedule(after: .milliseconds(50)) { reactor.stop() }
                }
            }
            let clients = try (0 ..< 2).map { _ in try reactor.connectTCP(host: "127.0.0.1", port: listener.localPort) }
            var connected = 0
            for client in clients {
                client.onConnected = {
                    connected += 1
                    guard connected == 2 else { return }
                    // Wait until both are accepted, then make both readable at once.
                    func sendWhenAccepted() {
                        reactor.schedule(after: .milliseconds(1)) {
                            guard serverSide.count == 2 else { return sendWhenAccepted() }
                            staleBefore = reactor.staleEventsDropped
                            for client in clients { client.write([42]) }
                        }
                    }
                    sendWhenAccepted()
                }
            }
            try runUntilStopped(reactor)
            #expect(replacement != nil)
            #expect(replacement?.fileDescriptor == reusedNumber, "the new socket did not reuse the closed number")
            #expect(reactor.staleEventsDropped > staleBefore)
            #expect(replacementEvents == [])
        }
    }
}
