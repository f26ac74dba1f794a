import P2PCrypto
import PrivateNetwork
import Swarm
import Testing
import TestSupport
import Wire

/// Two connection machines in a private network (pnet under multistream, Noise and yamux): the
/// same key connects and carries streams, another key or none fails at the first bytes, with
/// an event the swarm counts and a reason that names the key.
@Suite struct PrivateNetworkConnectionTests {
    static func layer(_ key: SwarmKey, _ seed: UInt64) -> PrivateNetworkLayer {
        var random = SplitMix64(seed: seed)
        return PrivateNetworkLayer(key: key, nonce: random.bytes(24))
    }

    static func refusals(_ pair: ConnectionPair, _ side: ConnectionPair.Side) -> [PrivateNetworkError] {
        pair.events[side.rawValue].compactMap { if case .privateNetworkRefused(let e) = $0 { e } else { nil } }
    }

    @Test(arguments: [1, 7, 25, Int.max])
    func theSameKeyConnectsAndPings(chunk: Int) throws {
        let key = SwarmKey.generate()
        var pair = ConnectionPair(privateNetwork: [Self.layer(key, 1), Self.layer(key, 2)])
        pair.chunk = chunk
        pair.start()
        // What leaves each side is the nonce and ciphertext: no multistream greeting in clear.
        let greeting = Array("/multistream/1.0.0".utf8)
        for bytes in pair.inFlight {
            #expect(!bytes.indices.contains { Array(bytes[$0...].prefix(greeting.count)) == greeting })
        }
        pair.run()
        pair.advance(byMilliseconds: 0)
        pair.run()
        #expect(pair.state(.dialer) == .connected)
        #expect(pair.state(.listener) == .connected)
        #expect(pair.machines[0].remotePeer == pair.identities[1].peerID)
        // The first keep-alive ping went out at once and came back.
        let roundTrips = pair.events[0].filter { if case .roundTrip = $0 { true } else { false } }
        #expect(!roundTrips.isEmpty)
        #expect(Self.refusals(pair, .dialer).isEmpty && Self.refusals(pair, .listener).isEmpty)
    }

    @Test func anotherKeyFailsAtOnceOnBothSides() {
        var pair = ConnectionPair(privateNetwork: [Self.layer(SwarmKey.generate(), 1), Self.layer(SwarmKey.generate(), 2)])
        pair.start()
        pair.run()
        #expect(Self.refusals(pair, .dialer) == [.keyMismatch])
        #expect(Self.refusals(pair, .listener) == [.keyMismatch])
        for side in [ConnectionPair.Side.dialer, .listener] {
            #expect(pair.closed[side.rawValue]?.contains("do not decrypt with our swarm key") == true)
            #expect(pair.machines[side.rawValue].deadline == nil)
        }
        #expect(pair.machines[0].remotePeer == nil && pair.machines[1].remotePeer == nil)
    }

    @Test func anOpenDialerIsNamedByTheListener() {
        var pair = ConnectionPair(privateNetwork: [nil, Self.layer(SwarmKey.generate(), 2)])
        pair.start()
        pair.run()
        #expect(Self.refusals(pair, .listener) == [.peerHasNoKey])
        #expect(pair.closed[1]?.contains("without a swarm key") == true)
        // The open side sees bytes that are not multistream, and closes too.
        #expect(pair.closed[0] != nil)
        #expect(pair.state(.dialer) != .connected)
    }

    /// The daemon's path: bytes decrypted in place in the socket's ring, the part of a Noise
    /// frame not yet whole left there and handed back, front first, with what follows.
    @Test func inPlaceReceivingWithPartialFrames() {
        let key = SwarmKey.generate()
        var pair = ConnectionPair(privateNetwork: [Self.layer(key, 1), Self.layer(key, 2)])
        pair.start()
        var rings: [[UInt8]] = [[], []]
        for _ in 0..<10_000 {
            var moved = false
            for side in [ConnectionPair.Side.dialer, .listener] where !pair.inFlight[side.rawValue].isEmpty {
                // 97 bytes at a time, like short socket reads.
                let n = min(97, pair.inFlight[side.rawValue].count)
                rings[side.rawValue] += pair.inFlight[side.rawValue].prefix(n)
                pair.inFlight[side.rawValue].removeFirst(n)
                let now = pair.now
                let step = rings[side.rawValue].withUnsafeMutableBytes { pair.machines[side.rawValue].receivedBytes(inPlace: $0, now: now) }
                rings[side.rawValue].removeFirst(step.consumed)
                pair.absorb(step.output, from: side)
                moved = true
            }
            if !moved { break }
        }
        #expect(pair.state(.dialer) == .connected)
        #expect(pair.state(.listener) == .connected)
        #expect(pair.closed == [nil, nil])
    }
}
