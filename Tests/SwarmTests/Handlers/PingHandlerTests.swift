import Swarm
import Testing

@Suite struct PingHandlerTests {
    @Test func aPingMeasuresTheRoundTripOnTheManualClock() throws {
        var pair = ConnectionPair()
        pair.connect()
        let streamOpened = pair.open(.dialer, PingHandler.key, request: PingHandler.Request(token: 7))
        let stream = try #require(streamOpened)
        pair.deliver(to: .listener)  // proposal
        pair.deliver(to: .dialer)    // agreement: the payload leaves now
        pair.advance(byMilliseconds: 3)
        pair.deliver(to: .listener)  // payload echoed
        pair.advance(byMilliseconds: 2)
        pair.deliver(to: .dialer)
        let events = pair.payloads(.dialer, PingHandler.Event.self)
        #expect(events.count == 1)
        #expect(events.first?.token == 7)
        #expect(try events.first?.outcome.get() == 5_000_000)
        pair.run()
        #expect(pair.handlerEvents(.dialer, key: PingHandler.key).map(\.stream) == [stream])
        #expect(pair.payloads(.listener, PingHandler.Event.self).isEmpty)
    }

    @Test func anUnansweredPingTimesOutAfterTenSeconds() throws {
        var pair = ConnectionPair()
        pair.connect()
        _ = pair.open(.dialer, PingHandler.key, request: PingHandler.Request(token: 9))
        pair.deliver(to: .listener)
        pair.deliver(to: .dialer)
        pair.inFlight[1].removeAll()  // the payload is lost
        #expect(pair.machines[0].deadline == pair.now + PingHandler.timeout)
        pair.advance(byMilliseconds: 10_000)
        let events = pair.payloads(.dialer, PingHandler.Event.self)
        #expect(events.count == 1)
        #expect(events.first.map { if case .failure(.timedOut) = $0.outcome { true } else { false } } == true)
        // A user's ping failing is not a keep-alive failure: the connection stays.
        #expect(pair.closed[0] == nil)
    }

    @Test func aPeerWithoutPingRefusesAndTheRequestFails() throws {
        var registry = ConnectionPair.registry()
        registry = ProtocolRegistry(registry.registrations.filter { $0.key != PingHandler.key })
        var pair = ConnectionPair()
        pair.machines[1] = Connection(role: .listener, local: pair.identities[1], registry: registry, ephemeral: .generate(),
                                      expectedPeer: nil, remoteAddress: nil, listenAddresses: [], seed: 2, now: pair.now)
        pair.connect()
        #expect(pair.state(.dialer) == .connected)
        _ = pair.open(.dialer, PingHandler.key, request: PingHandler.Request(token: 1))
        pair.run()
        let events = pair.payloads(.dialer, PingHandler.Event.self)
        #expect(events.count == 1)
        #expect(events.first.map { if case .failure(.refused) = $0.outcome { true } else { false } } == true)
        #expect(pair.closed == [nil, nil])
    }
}
