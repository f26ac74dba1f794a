import Swarm
import Testing

@Suite struct ReconcileHandlerTests {
    @Test func messagesOfSeveralMebibytesCrossAndTheStreamEndsCleanly() throws {
        var pair = ConnectionPair()
        pair.chunk = 65_536
        pair.connect()
        let streamOpened = pair.open(.dialer, ReconcileHandler.key)
        let stream = try #require(streamOpened)
        pair.run()
        let opened = pair.payloads(.listener, ReconcileHandler.Event.self)
        guard case .opened(initiator: false)? = opened.first else { Issue.record("no opened event: \(opened)"); return }
        let big = (0..<(5 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        pair.send(.dialer, ReconcileHandler.Command.send(big), onStream: stream)
        pair.send(.dialer, ReconcileHandler.Command.send([1, 2, 3]), onStream: stream)
        pair.send(.dialer, ReconcileHandler.Command.finish, onStream: stream)
        pair.run()
        let events = pair.payloads(.listener, ReconcileHandler.Event.self)
        let messages = events.compactMap { if case .message(let m) = $0 { m } else { nil } }
        #expect(messages.count == 2)
        #expect(messages.first == big)
        #expect(messages.last == [1, 2, 3])
        guard case .ended(nil)? = events.last else { Issue.record("expected a clean end, got \(String(describing: events.last))"); return }
        #expect(pair.machines[0].streamCount == pair.machines[1].streamCount)
    }

    @Test func anAbortResetsTheStreamAndThePeerIsTold() throws {
        var pair = ConnectionPair()
        pair.connect()
        let streamOpened = pair.open(.dialer, ReconcileHandler.key)
        let stream = try #require(streamOpened)
        pair.run()
        pair.send(.dialer, ReconcileHandler.Command.abort, onStream: stream)
        pair.run()
        let events = pair.payloads(.listener, ReconcileHandler.Event.self)
        guard case .ended(let why?)? = events.last else { Issue.record("no end: \(events)"); return }
        #expect(why.contains("reset"))
        // Our own abort is not reported back to us.
        #expect(pair.payloads(.dialer, ReconcileHandler.Event.self).filter { if case .ended = $0 { true } else { false } }.isEmpty)
        #expect(pair.closed == [nil, nil])
    }
}
