import Swarm
import Testing

/// Connection set-up over QUIC takes round trips, not timers: on a network with 1 ms each way,
/// both sides are identified within 10 ms (pacing with the 333 ms initial RTT once held the
/// client's certificate flight back 20 ms, and identify with it).
@Suite struct QUICSetUpTimeTests {
    @Test func bothSidesAreIdentifiedWithinAFewRoundTrips() throws {
        var pair = QUICConnectionPair()
        let start = pair.now
        pair.start()
        var identifiedAt: UInt64?
        for _ in 0..<100 {
            pair.run(forMilliseconds: 1)
            if pair.state(.dialer) == .connected, pair.state(.listener) == .connected {
                identifiedAt = pair.now - start
                break
            }
        }
        let elapsed = try #require(identifiedAt)
        #expect(elapsed <= 10_000_000, "identified after \(Double(elapsed) / 1e6) ms")
    }
}
