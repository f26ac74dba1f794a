#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
@testable import Reactor

extension ReactorIOTests {
    @Suite struct Timers {
        @Test func fireInDeadlineOrderAndCancelWorks() throws {
            let reactor = try Reactor()
            defer { reactor.shutdown() }
            var fired: [String] = []
            let start = Instant.now()
            reactor.schedule(at: start + .milliseconds(30)) { fired.append("30") }
            reactor.schedule(at: start + .milliseconds(10)) { fired.append("10") }
            let cancelled = reactor.schedule(at: start + .milliseconds(15)) { fired.append("15") }
            reactor.schedule(at: start + .milliseconds(20)) {
                fired.append("20")
                // Scheduled from inside a timer, due before the 30 ms one.
                reactor.schedule(at: start + .milliseconds(25)) { fired.append("25 (nested)") }
            }
            reactor.schedule(at: start + .milliseconds(10)) { fired.append("10 second") }
            reactor.schedule(at: start + .milliseconds(40)) { reactor.stop() }
            reactor.schedule(at: start + .milliseconds(50)) { fired.append("after stop") }
            reactor.cancel(cancelled)
            try runUntilStopped(reactor)
            #expect(fired == ["10", "10 second", "20", "25 (nested)", "30"])
            #expect(reactor.now >= start + .milliseconds(40))
        }

        @Test func zeroDelayTimerScheduledFromATimerRunsOnALaterTurn() throws {
            let reactor = try Reactor()
            defer { reactor.shutdown() }
            var turns = 0
            reactor.addBeforeSleep { turns += 1 }
            var firedOnTurn: [Int] = []
            reactor.schedule(after: .zero) {
                firedOnTurn.append(turns)
                reactor.schedule(after: .zero) {
                    firedOnTurn.append(turns)
                    reactor.stop()
                }
            }
            try runUntilStopped(reactor)
            #expect(firedOnTurn.count == 2)
            #expect(firedOnTurn.count == 2 && firedOnTurn[1] > firedOnTurn[0])
        }

        @Test func stopBeforeRunReturnsAndRunCanBeCalledAgain() throws {
            let reactor = try Reactor()
            defer { reactor.shutdown() }
            reactor.stop()
            try reactor.run()
            var ran = false
            reactor.schedule(after: .milliseconds(1)) { ran = true; reactor.stop() }
            try runUntilStopped(reactor)
            #expect(ran)
        }

        @Test func wakerWakesTheLoopFromAnotherThread() throws {
            let reactor = try Reactor()
            defer { reactor.shutdown() }
            let waker = reactor.makeWaker()
            var woken = false
            reactor.onWake = { woken = true; reactor.stop() }
            var thread = pthread_t()
            let box = Unmanaged.passRetained(WakerBox(waker))
            pthread_create(&thread, nil, { raw in
                let box = Unmanaged<WakerBox>.fromOpaque(raw!).takeRetainedValue()
                box.waker.wake()
                return nil
            }, box.toOpaque())
            try runUntilStopped(reactor)
            pthread_join(thread, nil)
            #expect(woken)
        }
    }

    @Suite struct Signals {
        /// signalfd only receives signals blocked in the thread; handleSignals blocks them in
        /// the calling thread, and raise() sends to the calling thread, which is the loop's.
        @Test func signalArrivesThroughSignalfd() throws {
            let reactor = try Reactor()
            defer { reactor.shutdown() }
            var received: [Int32] = []
            try reactor.handleSignals([SIGUSR1]) { signal in
                received.append(signal)
                reactor.stop()
            }
            reactor.schedule(after: .milliseconds(1)) { raise(SIGUSR1) }
            try runUntilStopped(reactor)
            #expect(received == [SIGUSR1])
        }
    }
}

final class WakerBox: @unchecked Sendable {
    let waker: Waker
    init(_ waker: Waker) { self.waker = waker }
}
