@testable import Gossipsub
import P2PCrypto
import Testing
import Wire

/// The router's back-off table stays bounded by our own topics: found by GossipRouterFuzz,
/// whose router slowed down as it kept one entry (then an empty map) for every topic name a
/// hostile peer put in a PRUNE or GRAFT, forever.
@Suite struct RouterBackoffTests {
    static let topic = "p2p-sync"

    static func key(_ n: UInt8) -> Ed25519PrivateKey { try! Ed25519PrivateKey(seed: [UInt8](repeating: n, count: 32)) }

    static func routerWithPeer() -> (GossipsubRouter, PeerID) {
        var r = GossipsubRouter(identity: key(1), seed: 1, firstSeqno: 1)
        _ = r.subscribe(topic, now: 0)
        let peer = key(2).publicKey.peerID
        _ = r.addPeer(peer, protocolID: .meshsub11, outbound: false)
        _ = r.receive(PubsubRPC(subscriptions: [.init(subscribe: true, topic: topic)]), from: peer, now: 0) { _, _ in .accept }
        return (r, peer)
    }

    @Test func prunesForTopicsWeAreNotInLeaveNoBackoff() {
        var (r, peer) = Self.routerWithPeer()
        let prunes = (0..<100).map { ControlMessage.Prune(topic: "t\($0)", backoff: UInt64.max) }
        _ = r.receive(PubsubRPC(control: ControlMessage(prune: prunes)), from: peer, now: 10) { _, _ in .accept }
        #expect(r.backoffTopicCount == 0)
        // A PRUNE for our topic is kept: we do not graft the peer during it.
        _ = r.receive(PubsubRPC(control: ControlMessage(prune: [.init(topic: Self.topic, backoff: 60)])), from: peer, now: 20) { _, _ in .accept }
        #expect(r.backoffTopicCount == 1 && r.backoffEntryCount == 1)
    }

    @Test func graftsForTopicsWeAreNotInArePrunedWithoutKeepingABackoff() {
        var (r, peer) = Self.routerWithPeer()
        let events = r.receive(PubsubRPC(control: ControlMessage(graft: (0..<100).map { "t\($0)" })), from: peer, now: 10) { _, _ in .accept }
        let pruned = events.flatMap { event -> [String] in
            if case .send(peer, let rpc) = event { return rpc.control?.prune.map(\.topic) ?? [] }
            return []
        }
        #expect(pruned.count == 100)
        #expect(r.backoffTopicCount == 0)
    }

    @Test func heartbeatDropsExpiredBackoffsAndTheirTopics() {
        var (r, peer) = Self.routerWithPeer()
        _ = r.receive(PubsubRPC(control: ControlMessage(prune: [.init(topic: Self.topic, backoff: 60)])), from: peer, now: 0) { _, _ in .accept }
        _ = r.heartbeat(now: 30_000)
        #expect(r.backoffEntryCount == 1)
        _ = r.heartbeat(now: 60_001)
        #expect(r.backoffTopicCount == 0)
    }
}
