#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
@testable import Reactor

/// Every test that opens descriptors or ports lives under this suite, so they run one at
/// a time (fd numbers, port 0 and signal masks are process-wide).
@Suite(.serialized, .timeLimit(.minutes(10)))
struct ReactorIOTests {}

/// Runs the loop until the test calls `stop()`. A guard timer ends a loop that never
/// finishes (a hang is then a failed expectation rather than a killed test run); the
/// limit is generous and nothing is asserted about how long the loop took.
func runUntilStopped(_ reactor: Reactor, limit: Duration = .seconds(40),
                     sourceLocation: SourceLocation = #_sourceLocation) throws {
    var timedOut = false
    let guardTimer = reactor.schedule(after: limit) {
        timedOut = true
        reactor.stop()
    }
    try reactor.run()
    reactor.cancel(guardTimer)
    #expect(!timedOut, "the loop was still running after \(limit)", sourceLocation: sourceLocation)
}

/// A deterministic byte pattern, so a reordered or lost byte shows up.
func pattern(_ count: Int, seed: UInt64 = 7) -> [UInt8] {
    var random = SeededRandom(seed: seed)
    var bytes = [UInt8](repeating: 0, count: count)
    var index = 0
    while index < count {
        var word = random.next()
        for _ in 0 ..< 8 where index < count {
            bytes[index] = UInt8(truncatingIfNeeded: word)
            word >>= 8
            index += 1
        }
    }
    return bytes
}

/// An echo server: every byte read is written back.
func startEchoServer(_ reactor: Reactor) throws -> StreamListener {
    let listener = try reactor.listenTCP(host: "127.0.0.1", port: 0)
    listener.onAccept = { connection in
        connection.onRead = { ring in
            connection.write(ring.read(ring.readableBytes))
        }
    }
    return listener
}
