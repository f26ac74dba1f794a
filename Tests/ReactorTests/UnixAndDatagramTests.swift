#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
@testable import Reactor

extension ReactorIOTests {
    @Suite struct UnixSockets {
        @Test func listenCreatesAPrivateSocketAndConnectWorks() throws {
            let directory = TemporaryDirectory()
            let path = directory.file("control.sock")
            let reactor = try Reactor()
            defer { reactor.shutdown() }
            let listener = try reactor.listenUnix(path: path)
            var info = stat()
            #expect(stat(path, &info) == 0)
            #expect(info.st_mode & S_IFMT == S_IFSOCK)
            #expect(info.st_mode & 0o777 == 0o600)
            #expect(listener.localAddress == path)
            listener.onAccept = { connection in
                connection.onRead = { ring in
                    guard let newline = ring.firstIndex(of: UInt8(ascii: "\n")) else { return }
                    connection.write(Array("echo: ".utf8) + ring.read(newline + 1))
                }
            }
            var reply: [UInt8] = []
            var connected = false
            let client = try reactor.connectUnix(path: path)
            client.onConnected = { connected = true; client.write(Array("hello\n".utf8)) }
            client.onRead = { ring in
                reply += ring.read(ring.readableBytes)
                if reply.last == UInt8(ascii: "\n") { reactor.stop() }
            }
            try runUntilStopped(reactor)
            #expect(connected)
            #expect(String(decoding: reply, as: UTF8.self) == "echo: hello\n")
            #expect(client.remoteAddress == path)

            // The path is taken: no silent unlink.
            #expect(throws: ReactorError.addressInUse(path)) { _ = try reactor.listenUnix(path: path) }
        }

        @Test func listenHonoursTheRequestedMode() throws {
            let directory = TemporaryDirectory()
            let path = directory.file("shared.sock")
            let reactor = try Reactor()
            defer { reactor.shutdown() }
            _ = try reactor.listenUnix(path: path, mode: 0o660)
            var info = stat()
            #expect(stat(path, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o660)
        }

        @Test func overlongPathIsRefused() throws {
            let reactor = try Reactor()
            defer { reactor.shutdown() }
            let path = "/tmp/" + String(repeating: "x", count: 103)
            #expect(path.utf8.count == 108)
            #expect(throws: ReactorError.pathTooLong(path)) { _ = try reactor.listenUnix(path: path) }
            #expect(throws: ReactorError.pathTooLong(path)) { _ = try reactor.connectUnix(path: path) }
        }

        @Test func connectingToAMissingPathReportsAnError() throws {
            let directory = TemporaryDirectory()
            let reactor = try Reactor()
            defer { reactor.shutdown() }
            var reasons: [CloseReason] = []
            var connected = false
            let client = try reactor.connectUnix(path: directory.file("nobody-here.sock"))
            client.onConnected = { connected = true }
            client.onClose = { reason in
                reasons.append(reason)
                reactor.stop()
            }
            try runUntilStopped(reactor)
            #expect(!connected)
            #expect(reasons == [.error(Errno(ENOENT))])
        }

        @Test func peerThatWritesAndClosesIsReadToTheEnd() throws {
            let directory = TemporaryDirectory()
            let path = directory.file("s.sock")
            let reactor = try Reactor()
            defer { reactor.shutdown() }
            let listener = try reactor.listenUnix(path: path)
            let payload = pattern(300_000, seed: 5)
            listener.onAccept = { connection in
                connection.write(payload)
                connection.closeAfterFlush()
            }
            var received: [UInt8] = []
            var reason: CloseReason?
            let client = try reactor.connectUnix(path: path, inputCapacity: 1000)
            client.onRead = { ring in received += ring.read(ring.readableBytes) }
            client.onClose = { reason = $0; reactor.stop() }
            try runUntilStopped(reactor)
            #expect(reason == .endOfFile)
            #expect(received == payload)
        }
    }

    @Suite struct Datagrams {
        @Test func sendBothWaysOnLoopback() throws {
            let reactor = try Reactor()
            defer { reactor.shutdown() }
            let a = try reactor.bindUDP(host: "127.0.0.1", port: 0)
            let b = try reactor.bindUDP(host: "127.0.0.1", port: 0)
            #expect(a.localPort != 0 && b.localPort != 0 && a.localPort != b.localPort)
            var atA: [([UInt8], String, UInt16)] = []
            var atB: [([UInt8], String, UInt16)] = []
            a.onDatagram = { bytes, host, port in
                atA.append((bytes, host, port))
                reactor.stop()
            }
            b.onDatagram = { bytes, host, port in
                atB.append((bytes, host, port))
                try? b.send(Array("pong".utf8), to: host, port: port)
            }
            try a.send(Array("ping".utf8), to: "127.0.0.1", port: b.localPort)
            try runUntilStopped(reactor)
            #expect(atB.count == 1)
            #expect(atB.first?.0 == Array("ping".utf8))
            #expect(atB.first?.1 == "127.0.0.1")
            #expect(atB.first?.2 == a.localPort)
            #expect(atA.count == 1)
            #expect(atA.first?.0 == Array("pong".utf8))
            #expect(atA.first?.2 == b.localPort)
            #expect(throws: ReactorError.invalidAddress("::1")) { try a.send([1], to: "::1", port: b.localPort) }
        }
    }
}
