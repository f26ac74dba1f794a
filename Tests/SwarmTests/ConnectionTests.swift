import Gossipsub
import Identify
import Multistream
import Noise
import P2PCrypto
import Swarm
import Testing
import TestSupport
import Wire
import Yamux

@Suite struct ConnectionTests {
    @Test(arguments: [1, 7, 100, Int.max])
    func bothSidesSecureIdentifyAndConnect(chunk: Int) throws {
        var pair = ConnectionPair()
        pair.chunk = chunk
        pair.connect()
        #expect(pair.state(.dialer) == .connected)
        #expect(pair.state(.listener) == .connected)
        #expect(pair.machines[0].remotePeer == pair.identities[1].peerID)
        #expect(pair.machines[1].remotePeer == pair.identities[0].peerID)
        let seenByDialer = try #require(pair.machines[0].identified)
        #expect(seenByDialer.agentVersion == "p2p-sync/test")
        #expect(seenByDialer.listenAddrs == [try Multiaddr("/ip4/10.0.0.2/tcp/4001")])
        // The listener's socket saw the dialer at 10.0.0.1:40001: identify tells it so.
        #expect(seenByDialer.observedAddr == (try Multiaddr("/ip4/10.0.0.1/tcp/40001")))
        #expect(seenByDialer.protocols.contains(PingHandler.protocolID))
        #expect(seenByDialer.protocols.contains("/meshsub/1.1.0"))
        let states = pair.events[0].compactMap { if case .stateChanged(let s) = $0 { s } else { nil } }
        #expect(states == [.handshaking, .authenticating, .negotiating, .identifying, .connected])
        #expect(pair.inFlight == [[], []])
    }

    @Test func aListenerThatHearsNothingTimesOut() {
        var pair = ConnectionPair()
        pair.absorb(pair.machines[1].start(now: pair.now), from: .listener)
        #expect(pair.machines[1].deadline == pair.now + Connection.handshakeTimeout)
        pair.advance(byMilliseconds: 9_999)
        #expect(pair.closed[1] == nil)
        pair.advance(byMilliseconds: 1)
        #expect(pair.closed[1] == "handshake timed out after 10 s in state Handshaking")
        #expect(pair.state(.listener) == .failed)
    }

    @Test func aDialerExpectingAnotherPeerFails() {
        var pair = ConnectionPair(seed: 3)
        var rng = SplitMix64(seed: 99)
        let stranger = ConnectionPair.identity(&rng)
        pair.machines[0] = Connection(role: .dialer, local: pair.identities[0], registry: ConnectionPair.registry(),
                                      ephemeral: .generate(), expectedPeer: stranger.peerID, remoteAddress: nil,
                                      listenAddresses: [], seed: 1, now: pair.now)
        pair.connect()
        #expect(pair.closed[0]?.contains("Noise") == true)
        #expect(pair.state(.dialer) == .failed)
    }

    @Test func garbageAfterTheHandshakeClosesOnlyThatConnection() {
        var pair = ConnectionPair()
        pair.connect()
        let output = pair.machines[1].receivedBytes([0, 20] + [UInt8](repeating: 7, count: 20), now: pair.now)
        #expect(output.close?.contains("decrypt") == true)
        #expect(pair.machines[1].state == .disconnected)
        #expect(pair.machines[1].deadline == nil)
    }

    @Test func keepAlivePingsMeasureTheRoundTripAndDropASilentPeer() {
        var pair = ConnectionPair()
        pair.start()
        pair.run()
        // The first keep-alive goes at once.
        #expect(pair.machines[0].deadline == pair.now)
        pair.advance(byMilliseconds: 0)
        pair.run()
        // Delivery is instant here, so the measured round trip is exactly what the clock moved.
        #expect(pair.machines[0].lastRTT == 0)
        #expect(pair.events[0].contains { if case .roundTrip = $0 { true } else { false } })
        // Keep-alive events stay inside the connection: no ping payload reaches the node.
        #expect(pair.payloads(.dialer, PingHandler.Event.self).isEmpty)
        #expect(pair.machines[0].deadline == pair.now + Connection.keepAliveInterval)

        // The peer goes silent: the next keep-alive is never answered.
        pair.advance(byMilliseconds: 15_000)
        pair.inFlight[1].removeAll()
        pair.advance(byMilliseconds: 9_999)
        #expect(pair.closed[0] == nil)
        pair.advance(byMilliseconds: 1)
        #expect(pair.closed[0] == "no answer to ping in 10 s")
        #expect(pair.state(.dialer) == .disconnected)
    }

    /// The ordering bug of issue 4 at unit level: the listener's muxer agreement, its pubsub
    /// stream, its multistream proposal and its first RPC all arrive in one read with the end of
    /// the handshake. The dialer must report the RPC, and an RPC it sends in reply must go out on
    /// its own pubsub stream once the peer agrees (it used to be dropped: the stream was not open).
    @Test func aHelloRPCInTheSameReadAsTheHandshakesLastBytesIsNotLost() throws {
        var rng = SplitMix64(seed: 5)
        let dialerID = ConnectionPair.identity(&rng)
        let listenerKey = try Ed25519PrivateKey(seed: rng.bytes(32))
        var dialer = Connection(role: .dialer, local: dialerID, registry: ConnectionPair.registry(),
                                ephemeral: try X25519KeyPair(privateKey: rng.bytes(32)), expectedPeer: nil,
                                remoteAddress: nil, listenAddresses: [], seed: 1, now: 0)
        // A hand-driven listener that is as lazy as a peer may be.
        var upgrade = ConnectionUpgrade(role: .listener, identity: listenerKey,
                                        noiseStatic: try X25519KeyPair(privateKey: rng.bytes(32)),
                                        ephemeral: try X25519KeyPair(privateKey: rng.bytes(32)), expectedPeer: nil)
        var toListener = dialer.start(now: 0).send
        var toDialer = upgrade.start()
        var upgraded: ConnectionUpgrade.Upgraded?
        var dialerOutputs: [ConnectionOutput] = []
        while upgraded == nil {
            let out = try upgrade.receivedBytes(toListener)
            toListener = []
            upgraded = out.upgraded
            toDialer += out.send
            if upgraded != nil { break }
            let d = dialer.receivedBytes(toDialer, now: 0)
            toDialer = []
            toListener += d.send
            dialerOutputs.append(d)
        }
        var session = try #require(upgraded).session
        var muxer = YamuxSession(role: .server)
        let stream = try muxer.openStream()
        let hello = PubsubRPC(subscriptions: [.init(subscribe: true, topic: "p2p-sync")])
        var proposal = MultistreamNegotiation(role: .dialer(proposals: ["/meshsub/1.1.0"]))
        try muxer.write(proposal.start() + RPCFrameReader.frame(hello.encoded()), on: stream)
        toDialer += try session.encrypt(muxer.takeOutput())

        // One read: the muxer echo, the stream, the proposal and the RPC.
        let output = dialer.receivedBytes(toDialer, now: 0)
        var reported: [PubsubHandler.Event] = []
        for case .handler(let e) in output.events { if let p = e.payload as? PubsubHandler.Event { reported.append(p) } }
        guard reported.count == 2, case .ready(.meshsub11) = reported[0], case .rpc(let got) = reported[1] else {
            Issue.record("expected ready then the RPC, got \(reported)")
            return
        }
        #expect(got == hello)

        // The node answers at once; the answer waits for the peer to agree on our stream.
        let answer = PubsubRPC(subscriptions: [.init(subscribe: true, topic: "answer")])
        let (accepted, sent) = dialer.send(PubsubHandler.Send(answer), to: PubsubHandler.key, now: 0)
        #expect(accepted)

        // The listener reads what the dialer sent: identify and pubsub proposals on streams 1 and 3.
        var plaintext = try session.decrypt(output.send + sent.send)
        var proposals: [StreamID: [UInt8]] = [:]
        for event in try muxer.receivedBytes(plaintext) { if case .data(let id, let b) = event { proposals[id, default: []] += b } }
        let pubsubStream = try #require(proposals.first { $0.key % 2 == 1 && String(decoding: $0.value, as: UTF8.self).contains("/meshsub/1.1.0") }?.key)
        #expect(!String(decoding: proposals[pubsubStream]!, as: UTF8.self).contains("answer"), "RPC sent before the agreement")

        // The listener agrees: the held RPC follows.
        var agreeing = MultistreamNegotiation(role: .listener(supported: ["/meshsub/1.1.0"]))
        let echo = agreeing.start() + (try agreeing.receivedBytes(proposals[pubsubStream]!)).send
        try muxer.write(echo, on: pubsubStream)
        let after = dialer.receivedBytes(try session.encrypt(muxer.takeOutput()), now: 0)
        plaintext = try session.decrypt(after.send)
        var onStream: [UInt8] = []
        for event in try muxer.receivedBytes(plaintext) { if case .data(let id, let b) = event, id == pubsubStream { onStream += b } }
        var reader = RPCFrameReader(maxFrameBytes: 1 << 20)
        let frames = try reader.receivedBytes(onStream)
        #expect(try frames.map { try PubsubRPC(decoding: $0) } == [answer], "stream \(pubsubStream): \(onStream.count) bytes \(after.events)")
    }
}
