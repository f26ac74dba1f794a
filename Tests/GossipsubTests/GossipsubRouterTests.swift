import Gossipsub
import P2PCrypto
import Testing
import TestSupport
import Wire

/// The router driven directly: RPCs in, events out, no sockets, time given by the test.
@Suite struct GossipsubRouterTests {
    static let topic = "p2p-sync"

    static func key(_ n: UInt8) -> Ed25519PrivateKey {
        try! Ed25519PrivateKey(seed: [UInt8](repeating: n, count: 32))
    }

    static func router(_ n: UInt8, _ configure: (inout GossipsubParameters) -> Void = { _ in }) -> GossipsubRouter {
        var parameters = GossipsubParameters()
        configure(&parameters)
        return GossipsubRouter(identity: key(n), parameters: parameters, seed: UInt64(n), firstSeqno: 1)
    }

    static func sends(_ events: [RouterEvent]) -> [(PeerID, PubsubRPC)] {
        events.compactMap { if case .send(let p, let rpc) = $0 { return (p, rpc) }; return nil }
    }

    static func sent(_ events: [RouterEvent], to peer: PeerID) -> PubsubRPC {
        var merged = PubsubRPC()
        for (p, rpc) in sends(events) where p == peer {
            merged.subscriptions += rpc.subscriptions
            merged.publish += rpc.publish
            if let c = rpc.control {
                var m = merged.control ?? ControlMessage()
                m.ihave += c.ihave; m.iwant += c.iwant; m.graft += c.graft; m.prune += c.prune
                merged.control = m
            }
        }
        return merged
    }

    static func accept(_: PubsubMessage, _: PeerID) -> ValidationResult { .accept }

    /// A router subscribed to the topic with `count` peers (keys 100...) that subscribed too.
    static func routerWithPeers(_ count: Int, protocolID: PubsubProtocolID = .meshsub11, now: UInt64 = 0) -> (GossipsubRouter, [PeerID]) {
        var r = router(1)
        _ = r.subscribe(topic, now: now)
        var ids: [PeerID] = []
        for i in 0..<count {
            let peer = key(UInt8(100 + i)).publicKey.peerID
            ids.append(peer)
            _ = r.addPeer(peer, protocolID: protocolID, outbound: true)
            _ = r.receive(PubsubRPC(subscriptions: [.init(subscribe: true, topic: topic)]), from: peer, now: now, validate: accept)
        }
        return (r, ids)
    }

    static func signed(by n: UInt8, seqno: UInt64, data: String = "x", topic: String = topic) -> PubsubMessage {
        MessageSigning.sign(PubsubMessage(from: nil, data: Array(data.utf8), seqno: (0..<8).map { UInt8(truncatingIfNeeded: seqno >> (56 - 8 * $0)) }, topic: topic), with: key(n))
    }

    @Test func theRouterSaysWhenItsNextHeartbeatIsDue() {
        var router = Self.router(1)
        #expect(router.nextHeartbeat == 0, "due at once before the first")
        _ = router.heartbeat(now: 5_000)
        #expect(router.nextHeartbeat == 5_000 + router.parameters.heartbeatMillis)
    }

    @Test func greetsANewPeerWithItsSubscriptions() {
        var r = Self.router(1)
        _ = r.subscribe(Self.topic, now: 0)
        let peer = Self.key(2).publicKey.peerID
        let rpc = Self.sent(r.addPeer(peer, protocolID: .meshsub11, outbound: true), to: peer)
        #expect(rpc.subscriptions == [.init(subscribe: true, topic: Self.topic)])
    }

    @Test func heartbeatGraftsUpToDAndKeepsTheMeshBetweenTheWatermarks() {
        var (r, peers) = Self.routerWithPeers(20)
        let events = r.heartbeat(now: 1000)
        let grafted = peers.filter { Self.sent(events, to: $0).control?.graft == [Self.topic] }
        #expect(grafted.count == 6)
        #expect(r.meshPeers(Self.topic).count == 6)
        // Everyone grafts us back: the mesh grows past D_hi and the next heartbeat prunes to D.
        for peer in peers {
            _ = r.receive(PubsubRPC(control: ControlMessage(graft: [Self.topic])), from: peer, now: 1100, validate: Self.accept)
        }
        #expect(r.meshPeers(Self.topic).count == 20)  // outbound peers may graft past D_hi
        let pruning = r.heartbeat(now: 2000)
        #expect(r.meshPeers(Self.topic).count == 6)
        let pruned = peers.filter { Self.sent(pruning, to: $0).control?.prune.first?.topic == Self.topic }
        #expect(pruned.count == 14)
        #expect(Self.sent(pruning, to: pruned[0]).control?.prune.first?.backoff == 60)
    }

    @Test func graftDuringBackoffIsRefusedAndPenalised() {
        var (r, peers) = Self.routerWithPeers(1)
        let peer = peers[0]
        _ = r.receive(PubsubRPC(control: ControlMessage(prune: [.init(topic: Self.topic, backoff: 60)])), from: peer, now: 0, validate: Self.accept)
        // We may not graft it during its back-off ...
        #expect(Self.sent(r.heartbeat(now: 1000), to: peer).control?.graft == nil)
        // ... and it may not graft us: PRUNE comes back, and repeated offences lower its score.
        for t in 0..<3 {
            let events = r.receive(PubsubRPC(control: ControlMessage(graft: [Self.topic])), from: peer, now: 2000 + UInt64(t), validate: Self.accept)
            #expect(Self.sent(events, to: peer).control?.prune.map(\.topic) == [Self.topic])
            #expect(events.contains { if case .refused(peer, _) = $0 { return true }; return false })
        }
        #expect(r.meshPeers(Self.topic).isEmpty)
        #expect(r.score(of: peer) < 0)
        // After the back-off (60 s) it is grafted again once its penalty has decayed.
        var now: UInt64 = 3000
        var grafted = false
        while now < 200_000, !grafted {
            now += 1000
            grafted = Self.sent(r.heartbeat(now: now), to: peer).control?.graft == [Self.topic]
        }
        #expect(grafted)
        #expect(now > 62_000)
    }

    @Test func forwardsNewMessagesToTheMeshOnceAndCountsDuplicates() {
        var (r, peers) = Self.routerWithPeers(8)
        _ = r.heartbeat(now: 1000)
        let mesh = r.meshPeers(Self.topic)
        let author: UInt8 = 50
        let message = Self.signed(by: author, seqno: 7)
        let source = mesh[0]
        var delivered = 0
        let events = r.receive(PubsubRPC(publish: [message]), from: source, now: 1100) { m, a in
            delivered += 1
            #expect(a == Self.key(author).publicKey.peerID)
            #expect(m.data == Array("x".utf8))
            return .accept
        }
        #expect(delivered == 1)
        let forwardedTo = Self.sends(events).filter { $0.1.publish == [message] }.map(\.0)
        #expect(Set(forwardedTo) == Set(mesh).subtracting([source]))
        #expect(!forwardedTo.contains { !mesh.contains($0) })
        #expect(events.contains(.deliver(message, author: Self.key(author).publicKey.peerID, receivedFrom: source)))
        // The same message again, from another peer: not validated, not forwarded, counted.
        let again = r.receive(PubsubRPC(publish: [message]), from: peers.first { !mesh.contains($0) }!, now: 1200) { _, _ in
            Issue.record("a duplicate must not be validated")
            return .accept
        }
        #expect(Self.sends(again).isEmpty)
        #expect(r.counters.duplicates == 1)
        #expect(r.counters.forwarded == mesh.count - 1)
    }

    @Test func badSignaturesAndRejectedMessagesAreDroppedCountedAndNotForwarded() {
        var (r, _) = Self.routerWithPeers(6)
        _ = r.heartbeat(now: 1000)
        let source = r.meshPeers(Self.topic)[0]
        var forged = Self.signed(by: 50, seqno: 1)
        forged.data = Array("changed".utf8)
        var events = r.receive(PubsubRPC(publish: [forged]), from: source, now: 1100, validate: Self.accept)
        #expect(Self.sends(events).isEmpty)
        #expect(events.contains { if case .refused(source, let why) = $0 { return why.contains("signature") }; return false })
        events = r.receive(PubsubRPC(publish: [Self.signed(by: 51, seqno: 1)]), from: source, now: 1100) { _, _ in .reject("bad JSON") }
        #expect(Self.sends(events).isEmpty)
        #expect(r.counters.invalid == 2)
        #expect(r.score(of: source) < 0)
        // A peer with a negative score leaves the mesh at the next heartbeat.
        _ = r.heartbeat(now: 2000)
        #expect(!r.meshPeers(Self.topic).contains(source))
        // Unsigned messages are refused under StrictSign.
        let unsigned = PubsubMessage(from: nil, data: [1], seqno: nil, topic: Self.topic)
        events = r.receive(PubsubRPC(publish: [unsigned]), from: r.meshPeers(Self.topic)[0], now: 2100, validate: Self.accept)
        #expect(Self.sends(events).isEmpty)
        #expect(r.counters.invalid == 3)
    }

    @Test func ihaveBringsIWantAndAnUnkeptPromiseCostsScore() {
        var (r, peers) = Self.routerWithPeers(1)
        let peer = peers[0]
        let wanted = Self.signed(by: 60, seqno: 1)
        let events = r.receive(PubsubRPC(control: ControlMessage(ihave: [.init(topic: Self.topic, messageIDs: [wanted.defaultID])])),
                               from: peer, now: 0, validate: Self.accept)
        #expect(Self.sent(events, to: peer).control?.iwant == [[wanted.defaultID]])
        // The peer never delivers: after the follow-up time the heartbeat counts a broken promise.
        _ = r.heartbeat(now: 1000)
        #expect(r.counters.brokenPromises == 0)
        _ = r.heartbeat(now: 3500)
        #expect(r.counters.brokenPromises == 1)
        // A peer that keeps doing it drops below zero.
        for i in 2...5 {
            let id = Self.signed(by: 60, seqno: UInt64(i)).defaultID
            _ = r.receive(PubsubRPC(control: ControlMessage(ihave: [.init(topic: Self.topic, messageIDs: [id])])), from: peer, now: UInt64(i) * 4000, validate: Self.accept)
            _ = r.heartbeat(now: UInt64(i) * 4000 + 3500)
        }
        #expect(r.score(of: peer) < 0)
    }

    @Test func iwantIsAnsweredFromTheCacheAtMostThreeTimes() throws {
        var (r, peers) = Self.routerWithPeers(1)
        let (events, sentTo) = try r.publish(topic: Self.topic, data: Array("v".utf8), now: 0)
        #expect(sentTo == 1)
        let id = try #require(Self.sent(events, to: peers[0]).publish.first).defaultID
        var answers = 0
        for _ in 0..<5 {
            let e = r.receive(PubsubRPC(control: ControlMessage(iwant: [[id]])), from: peers[0], now: 10, validate: Self.accept)
            answers += Self.sent(e, to: peers[0]).publish.count
        }
        #expect(answers == 3)
        // Gone from the cache after mcache_len heartbeats.
        for t in 1...5 { _ = r.heartbeat(now: UInt64(t) * 1000) }
        let late = Self.receiveFromNewPeer(&r, PubsubRPC(control: ControlMessage(iwant: [[id]])))
        #expect(late.publish.isEmpty)
    }

    static func receiveFromNewPeer(_ r: inout GossipsubRouter, _ rpc: PubsubRPC) -> PubsubRPC {
        let peer = key(200).publicKey.peerID
        _ = r.addPeer(peer, protocolID: .meshsub11, outbound: false)
        return sent(r.receive(rpc, from: peer, now: 99_000, validate: accept), to: peer)
    }

    @Test func heartbeatGossipsIHaveToPeersOutsideTheMesh() throws {
        var (r, peers) = Self.routerWithPeers(12)
        _ = r.heartbeat(now: 1000)
        _ = try r.publish(topic: Self.topic, data: [1], now: 1100)
        let events = r.heartbeat(now: 2000)
        let mesh = Set(r.meshPeers(Self.topic))
        let told = peers.filter { !(Self.sent(events, to: $0).control?.ihave.isEmpty ?? true) }
        #expect(told.count == 6)  // D_lazy of the 6 non-mesh peers
        #expect(Set(told).isDisjoint(with: mesh))
    }

    @Test func aPublishWithNoSubscribedPeerIsQueuedAndSentWhenOneSubscribes() throws {
        var r = Self.router(1)
        _ = r.subscribe(Self.topic, now: 0)
        let (noEvents, sentTo) = try r.publish(topic: Self.topic, data: Array("first".utf8), now: 0)
        #expect(sentTo == 0)
        #expect(Self.sends(noEvents).isEmpty)
        #expect(r.queuedCount(Self.topic) == 1)
        // A peer connects; its subscription has not arrived yet: still queued.
        let peer = Self.key(2).publicKey.peerID
        _ = r.addPeer(peer, protocolID: .meshsub10, outbound: false)
        let (_, stillNone) = try r.publish(topic: Self.topic, data: Array("second".utf8), now: 10)
        #expect(stillNone == 0)
        let events = r.receive(PubsubRPC(subscriptions: [.init(subscribe: true, topic: Self.topic)]), from: peer, now: 20, validate: Self.accept)
        #expect(Self.sent(events, to: peer).publish.map(\.data) == [Array("first".utf8), Array("second".utf8)])
        #expect(r.queuedCount(Self.topic) == 0)
        #expect(r.counters.sentFromQueue == 2)
    }

    @Test func floodsubPeersGetEveryMessageAndNoControl() {
        var (r, peers) = Self.routerWithPeers(3, protocolID: .floodsub)
        let events = r.heartbeat(now: 1000)
        #expect(r.meshPeers(Self.topic).isEmpty)
        #expect(Self.sends(events).allSatisfy { $0.1.control == nil })
        let message = Self.signed(by: 70, seqno: 1)
        let forwarded = r.receive(PubsubRPC(publish: [message]), from: peers[0], now: 1100, validate: Self.accept)
        #expect(Set(Self.sends(forwarded).map(\.0)) == Set(peers.dropFirst()))
    }

    @Test func sentRPCsStayUnderTheLimitAndOversizedMessagesAreRefused() throws {
        var (r, peers) = Self.routerWithPeers(1)
        // 40 messages of 3 KiB arrive and are cached ...
        let big = (0..<40).map { Self.signed(by: 80, seqno: UInt64($0), data: String(repeating: "a", count: 3000)) }
        _ = r.receive(PubsubRPC(publish: big), from: peers[0], now: 0, validate: Self.accept)
        // ... and one IWANT for all of them is answered in several RPCs under 64 KiB.
        let asker = Self.key(201).publicKey.peerID
        _ = r.addPeer(asker, protocolID: .meshsub11, outbound: false)
        let answer = Self.sends(r.receive(PubsubRPC(control: ControlMessage(iwant: [big.map(\.defaultID)])), from: asker, now: 10, validate: Self.accept))
        #expect(answer.count > 1)
        #expect(answer.allSatisfy { $0.0 == asker && $0.1.encoded().count <= 65536 })
        #expect(answer.flatMap(\.1.publish) == big)
        // Our own message too large for one RPC is refused with an error, not sent.
        #expect(throws: PubsubError.self) { try r.publish(topic: Self.topic, data: [UInt8](repeating: 1, count: 70_000), now: 2000) }
        #expect(r.counters.published == 0)
    }

    @Test func frameReaderSplitsFramesAndRefusesOversizedOnes() throws {
        var reader = RPCFrameReader(maxFrameBytes: 100)
        let a = RPCFrameReader.frame([1, 2, 3]), b = RPCFrameReader.frame([UInt8](repeating: 9, count: 50))
        let stream = a + b
        var frames: [[UInt8]] = []
        for byte in stream { frames += try reader.receivedBytes([byte]) }
        #expect(frames == [[1, 2, 3], [UInt8](repeating: 9, count: 50)])
        var strict = RPCFrameReader(maxFrameBytes: 100)
        #expect(throws: PubsubError.self) { try strict.receivedBytes(Varint.encode(101)) }
    }
}

extension GossipsubRouterTests {
    @Test func theQueueKeepsItsByteLimitDroppingTheOldest() throws {
        var r = Self.router(1) { $0.maxQueuedBytes = 10_000 }
        _ = r.subscribe(Self.topic, now: 0)
        for i in 0..<20 { _ = try r.publish(topic: Self.topic, data: Array(String(repeating: "\(i % 10)", count: 1000).utf8), now: 0) }
        #expect(r.queuedCount(Self.topic) == 8)  // 8 messages of about 1.2 KB fit in 10,000 bytes
        #expect(r.counters.queueOverflow == 12)
        let peer = Self.key(2).publicKey.peerID
        _ = r.addPeer(peer, protocolID: .meshsub11, outbound: true)
        let events = r.receive(PubsubRPC(subscriptions: [.init(subscribe: true, topic: Self.topic)]), from: peer, now: 1, validate: Self.accept)
        // The newest eight, in order.
        #expect(Self.sent(events, to: peer).publish.map { $0.data.first } == (12..<20).map { UInt8(ascii: "0") + UInt8($0 % 10) })
    }
}
