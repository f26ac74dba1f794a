import Identify
import P2PCrypto
import QUIC
import Swarm
import Testing
import Wire

/// The connection core over QUIC (issue 13): the same handlers as over TCP, on QUIC's streams.
@Suite struct QUICConnectionTests {
    @Test func bothSidesIdentifyEachOtherAndPingOverQUIC() throws {
        var pair = QUICConnectionPair()
        pair.start()
        pair.run(forMilliseconds: 500)
        #expect(pair.closed == [nil, nil])
        #expect(pair.state(.dialer) == .connected)
        #expect(pair.state(.listener) == .connected)
        #expect(pair.machines[0]?.remotePeer == pair.identities[1].peerID)
        #expect(pair.machines[1]?.remotePeer == pair.identities[0].peerID)
        let identified = pair.events[0].compactMap { if case .identified(let m) = $0 { m } else { nil } }
        #expect(identified.first?.agentVersion == "p2p-sync/test")
        // The keep-alive ping went out at identify: 2 ms round trip on this 1 ms-each-way network.
        #expect(pair.machines[0]?.lastRTT == 2_000_000)
    }

    @Test(arguments: [(0, 0), (1, 0), (3 << 20, 1 << 20)])
    func perfBytesArriveWholeOverQUIC(upload: Int, download: Int) throws {
        var pair = QUICConnectionPair()
        pair.start()
        pair.run(forMilliseconds: 100)
        _ = pair.open(.dialer, PerfHandler.key, request: PerfHandler.Request(token: 1, upload: upload, download: download))
        pair.run(forMilliseconds: 20_000)
        let events = pair.payloads(.dialer, PerfHandler.Event.self)
        #expect(events.count == 1)
        let measurement = try #require(try events.first?.outcome.get())
        #expect(measurement.uploadBytes == upload)
        #expect(measurement.downloadBytes == download)
        #expect(pair.closed == [nil, nil])
    }

    @Test func aLossyNetworkStillDeliversEveryByte() throws {
        var pair = QUICConnectionPair()
        var count = 0
        // Every 10th datagram is lost, both ways, handshake included.
        pair.drop = { _, _ in
            count += 1
            return count % 10 == 0
        }
        pair.start()
        pair.run(forMilliseconds: 3_000)
        #expect(pair.state(.dialer) == .connected)
        _ = pair.open(.dialer, PerfHandler.key, request: PerfHandler.Request(token: 2, upload: 1 << 20, download: 1 << 20))
        pair.run(forMilliseconds: 60_000)
        let measurement = try #require(try pair.payloads(.dialer, PerfHandler.Event.self).first?.outcome.get())
        #expect(measurement.uploadBytes == 1 << 20)
        #expect(measurement.downloadBytes == 1 << 20)
    }

    @Test func aDialerThatExpectsAnotherPeerFails() throws {
        var rng = SplitMix64(seed: 99)
        let stranger = ConnectionPair.identity(&rng).peerID
        var pair = QUICConnectionPair(expectedPeer: stranger)
        pair.start()
        pair.run(forMilliseconds: 2_000)
        let reason = try #require(pair.closed[0])
        #expect(reason.contains("expected") || reason.contains(stranger.description), "\(reason)")
        #expect(pair.state(.dialer) == .failed)
        #expect(pair.state(.listener) != .connected)
    }

    @Test func anIdleConnectionIsNotDroppedWhileKeepAlivePingsRun() throws {
        var pair = QUICConnectionPair()
        pair.start()
        pair.run(forMilliseconds: 100)
        // Two minutes: far past QUIC's 30 s idle time-out, kept alive by the 15 s pings.
        pair.run(forMilliseconds: 120_000)
        #expect(pair.closed == [nil, nil])
        #expect(pair.state(.dialer) == .connected)
    }

    @Test func aPeerThatVanishesIsNoticed() throws {
        var pair = QUICConnectionPair()
        pair.start()
        pair.run(forMilliseconds: 100)
        pair.drop = { _, _ in true }
        pair.run(forMilliseconds: 60_000)
        #expect(pair.closed[0] != nil)
        #expect(pair.closed[1] != nil)
    }
}
