import Swarm
import Testing

@Suite struct ClockHandlerTests {
    /// Unix milliseconds of the dialer's wall clock in these tests.
    static let wall: UInt64 = 1_790_000_000_000

    @Test func anExchangeMeasuresThePeersOffsetAndItsRefusals() throws {
        var pair = ConnectionPair()
        pair.connect()
        _ = pair.open(.dialer, ClockHandler.key, request: ClockHandler.Request(wallMillis: Self.wall))
        pair.deliver(to: .listener)  // proposal
        pair.deliver(to: .dialer)    // agreement: t1 leaves now
        pair.advance(byMilliseconds: 3)
        pair.deliver(to: .listener)  // t1 arrives: the node is asked for its wall time
        let asked = pair.handlerEvents(.listener, key: ClockHandler.key)
        #expect(asked.count == 1)
        let stream = try #require(asked.first?.stream)
        // The listener's clock is 300 s ahead of the dialer's.
        pair.send(.listener, ClockHandler.Answer(wallMillis: Self.wall + 3 + 300_000, refusedWrites: 2, limitMillis: 60_000),
                  onStream: stream)
        pair.advance(byMilliseconds: 3)
        pair.deliver(to: .dialer)
        let events = pair.payloads(.dialer, ClockHandler.Event.self)
        #expect(events.count == 1)
        guard case .measured(let sample)? = events.first else {
            Issue.record("expected a sample, got \(events)")
            return
        }
        #expect(sample == ClockHandler.Sample(offsetMillis: 300_000, roundTripNanoseconds: 6_000_000, refusedWrites: 2,
                                               limitMillis: 60_000))
        pair.run()
        #expect(pair.closed == [nil, nil])
    }

    @Test func theRequestCarriesTheTimeOfSendingNotOfOpening() throws {
        var pair = ConnectionPair()
        pair.connect()
        _ = pair.open(.dialer, ClockHandler.key, request: ClockHandler.Request(wallMillis: Self.wall))
        pair.advance(byMilliseconds: 40)
        pair.deliver(to: .listener)
        pair.advance(byMilliseconds: 40)
        pair.deliver(to: .dialer)    // agreement 80 ms after opening: t1 = wall + 80
        pair.deliver(to: .listener)
        let stream = try #require(pair.handlerEvents(.listener, key: ClockHandler.key).first?.stream)
        pair.send(.listener, ClockHandler.Answer(wallMillis: Self.wall + 80, refusedWrites: 0, limitMillis: 2_000), onStream: stream)
        pair.deliver(to: .dialer)
        guard case .measured(let sample)? = pair.payloads(.dialer, ClockHandler.Event.self).first else {
            Issue.record("no sample")
            return
        }
        #expect(sample.offsetMillis == 0)
        #expect(sample.roundTripNanoseconds == 0)
    }

    @Test func anUnansweredExchangeFailsAfterTenSecondsAndKeepsTheConnection() throws {
        var pair = ConnectionPair()
        pair.connect()
        _ = pair.open(.dialer, ClockHandler.key, request: ClockHandler.Request(wallMillis: Self.wall))
        pair.run()  // the listener's node never answers
        #expect(pair.handlerEvents(.listener, key: ClockHandler.key).count == 1)
        pair.advance(byMilliseconds: 10_000)
        let events = pair.payloads(.dialer, ClockHandler.Event.self)
        #expect(events.count == 1)
        #expect(events.first.map { if case .failed = $0 { true } else { false } } == true)
        pair.run()
        #expect(pair.closed == [nil, nil])
    }

    @Test func aPeerWithoutTheClockProtocolRefusesAndTheExchangeFails() throws {
        let registry = ProtocolRegistry(ConnectionPair.registry().registrations.filter { $0.key != ClockHandler.key })
        var pair = ConnectionPair()
        pair.machines[1] = Connection(role: .listener, local: pair.identities[1], registry: registry, ephemeral: .generate(),
                                      expectedPeer: nil, remoteAddress: nil, listenAddresses: [], seed: 2, now: pair.now)
        pair.connect()
        _ = pair.open(.dialer, ClockHandler.key, request: ClockHandler.Request(wallMillis: Self.wall))
        pair.run()
        let events = pair.payloads(.dialer, ClockHandler.Event.self)
        #expect(events.count == 1)
        #expect(events.first.map { if case .failed = $0 { true } else { false } } == true)
        #expect(pair.closed == [nil, nil])
    }
}
