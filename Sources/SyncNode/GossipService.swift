import Gossipsub
import JSON
import P2PCrypto
import Reactor
import Swarm
import SyncStore
import Wire

/// Replication over gossipsub: runs the router on the loop (heartbeat timer, peers' pubsub
/// streams), publishes committed local writes on the topic and stages valid remote ones in
/// the engine. The router decides; this class only carries its events to sockets and store.
final class GossipService {
    let topic: String
    private var router: GossipsubRouter
    private let loop: NodeLoop
    private let engine: SyncEngine
    private let logger: Logger
    /// The connection whose pubsub stream carries each peer's RPCs.
    private var connections: [PeerID: PeerConnection] = [:]
    private var heartbeatTimer: TimerID?
    /// Application-level refusals (bad JSON, invalid entries, clock), a subset of the router's `invalid`.
    private(set) var invalidPayloads = 0
    /// A peer announced a write too large for gossip that is newer than ours: fetch it by
    /// catch-up, from the connection the announcement came on first (ReconcileService.fetch).
    var onAnnounced: ((WriteAnnouncement, PeerConnection) -> Void)?
    private let localPeer: PeerID
    /// Announcements received (those newer than ours are counted by `ReconcileService`).
    private(set) var announcementsReceived = 0

    init(topic: String, identity: Ed25519PrivateKey, loop: NodeLoop, engine: SyncEngine, logger: Logger, seed: UInt64,
         parameters: GossipsubParameters = GossipsubParameters()) {
        self.topic = topic
        self.loop = loop
        self.engine = engine
        self.logger = logger
        // Sequence numbers start at the wall clock in nanoseconds, as go and rust do, so a
        // restarted node never reuses a message ID that peers may still remember.
        localPeer = identity.publicKey.peerID
        router = GossipsubRouter(identity: identity, parameters: parameters, seed: seed,
                                 firstSeqno: WallClock.nowMillis() &* 1_000_000)
        engine.publishLocal = { [unowned self] entries in self.publish(entries) }
        carry(router.subscribe(topic, now: now))
        scheduleHeartbeat()
    }

    private var now: UInt64 { loop.now.nanoseconds / 1_000_000 }

    func stop() {
        if let heartbeatTimer { loop.cancel(heartbeatTimer) }
    }

    // MARK: - Peers

    /// A report from a connection's pubsub handler.
    func handle(_ event: PubsubHandler.Event, from connection: PeerConnection) {
        switch event {
        case .ready(let protocolID): pubsubReady(connection, protocolID)
        case .rpc(let rpc): received(rpc, on: connection)
        }
    }

    /// The peer speaks pubsub: its stream or ours was agreed, whichever came first (RPCs sent
    /// before our stream is agreed wait for it in the connection).
    private func pubsubReady(_ connection: PeerConnection, _ protocolID: PubsubProtocolID) {
        guard let peer = connection.remotePeer, connections[peer] !== connection, !connection.machine.isClosed else { return }
        connections[peer] = connection
        carry(router.addPeer(peer, protocolID: protocolID, outbound: connection.direction == .outbound))
    }

    func connectionClosed(_ connection: PeerConnection) {
        guard let peer = connection.remotePeer, connections[peer] === connection else { return }
        connections[peer] = nil
        router.removePeer(peer)
    }

    private func received(_ rpc: PubsubRPC, on connection: PeerConnection) {
        guard let peer = connection.remotePeer, connections[peer] === connection else { return }
        let events = router.receive(rpc, from: peer, now: now) { [unowned self] message, author in
            self.validate(message, author: author, from: connection)
        }
        carry(events)
    }

    /// The application's check, which also stages the writes: the router calls it once per
    /// new, correctly signed message, and forwards the message only when it is accepted.
    private func validate(_ message: PubsubMessage, author: PeerID, from connection: PeerConnection) -> ValidationResult {
        let entries: [Entry]
        do {
            switch try WriteMessage.decode(message.data, author: author) {
            case .writes(let writes): entries = writes
            case .announced(let announced):
                // Forwarded whether or not we hold it yet: our peers fetch from whoever has it.
                announcementsReceived += 1
                if let held = engine.heldVersion(of: announced.key), held >= announced.version { return .accept }
                // The clock rule, as for writes: a version too far ahead would be refused when
                // fetched, so it is not fetched (nor forwarded, without a penalty for the peer
                // that passed it on: the author's clock is at fault).
                if engine.isTooFarAhead(announced.version) {
                    invalidPayloads += 1
                    return .ignore("announced version \(announced.version.hlc) is too far ahead of this node's clock")
                }
                if engine.keepsProofs {
                    guard let proof = WriteProof.record(message, author: author, payload: .announced(announced)) else {
                        invalidPayloads += 1
                        return .reject("announcement of \(announced.key) names another origin than its signer \(author)")
                    }
                    engine.stageProof(proof)
                }
                onAnnounced?(announced, connection)
                return .accept
            }
        } catch {
            invalidPayloads += 1
            return .reject("\(error)")
        }
        // In a group every write is its author's own: the signed message proves who wrote it,
        // so a write naming another origin is a forgery (docs/GROUPS.md).
        if engine.remoteWriteGate != nil, let forged = entries.first(where: { $0.version.origin != author.bytes }) {
            invalidPayloads += 1
            return .reject("write of \(forged.key) names origin \(Entry.originText(forged.version.origin)) but was signed by \(author)")
        }
        let proof = engine.keepsProofs ? WriteProof.record(message, author: author, payload: .writes(entries)) : nil
        let refused = engine.stageRemote(entries, proof: proof)
        if !refused.isEmpty, refused.count == entries.count {
            // The author's clock is wrong, not the forwarder's behaviour: dropped without a
            // penalty for the peer that passed it on (gossipsub's "ignore"). A message with
            // some entries in range is forwarded: each node applies the rule to its own clock.
            invalidPayloads += 1
            return .ignore("\(refused[0].error)")
        }
        return .accept
    }

    // MARK: - Publishing

    /// Publishes committed local writes, batched into as few messages as fit; a write too
    /// large for a message is announced instead, and peers fetch it by catch-up.
    private func publish(_ entries: [Entry]) -> [WriteDelivery] {
        sign(entries, keepingProofs: false).publish()
    }

    /// In a group: local writes' messages are signed before their commit and their proofs
    /// stored with them; received messages' proofs are kept with their writes (docs/GROUPS.md).
    func keepProofs() {
        engine.signLocal = { [unowned self] entries in self.sign(entries, keepingProofs: true) }
    }

    /// The messages that carry `entries` (batched into as few as fit; a write too large for a
    /// message is announced instead, and peers fetch it by catch-up), signed; `publish` sends
    /// them and says where each write went.
    private func sign(_ entries: [Entry], keepingProofs: Bool) -> (proofs: [WriteProofRecord], publish: () -> [WriteDelivery]) {
        let (messages, tooLarge) = WriteMessage.batches(entries)
        var signed: [(message: PubsubMessage?, batch: [Entry], announced: Bool, what: String)] = []
        var proofs: [WriteProofRecord] = []
        func add(_ data: [UInt8], _ batch: [Entry], announced: Bool, what: String) {
            do {
                let message = try router.sign(topic: topic, data: data)
                signed.append((message, batch, announced, what))
                if keepingProofs, let proof = WriteProof.record(message, author: localPeer, payload: announced
                    ? .announced(WriteAnnouncement(key: batch[0].key, version: batch[0].version, valueBytes: 0)) : .writes(batch)) {
                    proofs.append(proof)
                }
            } catch {
                logger.error("could not publish \(what): \(error)")
                signed.append((nil, batch, announced, what))
            }
        }
        for (batch, data) in messages { add(data, batch, announced: false, what: "\(batch.count) writes") }
        for entry in tooLarge { add(WriteMessage.announcement(entry), [entry], announced: true, what: "the announcement of \(entry.key)") }
        return (proofs, { [self] in
            // A local write's version is unique (our clock never repeats), so it names the write.
            var delivery: [Version: WriteDelivery] = [:]
            for item in signed {
                var outcome = item.message.map { self.publish($0, what: item.what) } ?? .localOnly
                if item.announced, case .sent(let peers) = outcome { outcome = .announced(peers: peers) }
                for entry in item.batch { delivery[entry.version] = outcome }
            }
            return entries.map { delivery[$0.version] ?? .localOnly }
        })
    }

    private func publish(_ message: PubsubMessage, what: String) -> WriteDelivery {
        do {
            let (events, sentTo) = try router.publish(message, now: now)
            carry(events)
            return sentTo > 0 ? .sent(peers: sentTo) : .queued
        } catch {
            logger.error("could not publish \(what): \(error)")
            return .localOnly
        }
    }

    /// One message on the topic (internal for the simulation tests, which publish hostile ones).
    func publish(_ data: [UInt8], what: String) -> WriteDelivery {
        do {
            let (events, sentTo) = try router.publish(topic: topic, data: data, now: now)
            carry(events)
            return sentTo > 0 ? .sent(peers: sentTo) : .queued
        } catch {
            logger.error("could not publish \(what): \(error)")
            return .localOnly
        }
    }

    // MARK: - Loop

    /// Arms the loop's timer for the router's next heartbeat (the router says when).
    private func scheduleHeartbeat() {
        heartbeatTimer = loop.schedule(at: Instant(nanoseconds: router.nextHeartbeat * 1_000_000)) { [weak self] in
            guard let self else { return }
            self.carry(self.router.heartbeat(now: self.now))
            self.scheduleHeartbeat()
        }
    }

    private func carry(_ events: [RouterEvent]) {
        for event in events {
            switch event {
            case .send(let peer, let rpc):
                connections[peer]?.send(PubsubHandler.Send(rpc), to: PubsubHandler.key)
            case .deliver:
                break  // staged by `validate`; committed at the end of this loop turn
            case .peerSubscribed(let peer, let topic):
                logger.debug("\(peer) subscribed to \(topic)")
            case .refused(let peer, let reason):
                logger.info("gossip from \(peer) refused: \(reason)")
            case .peerExchange(let topic, let peers):
                logger.debug("peer exchange for \(topic): \(peers.count) peers (not dialed: no addresses)")
            }
        }
    }

    // MARK: - Views

    var topicPeers: [PeerID] { router.topicPeers(topic) }
    /// The peer agreed a pubsub protocol with us on some stream.
    func speaksPubsub(_ peer: PeerID) -> Bool { connections[peer] != nil }
    func topics(of peer: PeerID) -> [String] { router.topics(of: peer) }
    var counters: RouterCounters { router.counters }
    var meshPeers: [PeerID] { router.meshPeers(topic) }
    var pubsubPeerCount: Int { router.peerCount }
    var queuedCount: Int { router.queuedCount(topic) }
    var heartbeats: Int { router.heartbeats }

}
