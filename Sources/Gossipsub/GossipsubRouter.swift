import DequeModule
import P2PCrypto
import Wire

/// The gossipsub v1.1 router (specs pubsub/gossipsub-v1.0.md, v1.1.md; libp2p-wire.md section
/// 7), as a value-type state machine: the owner reports peers coming and going, hands in RPCs
/// and the time, calls `heartbeat` once per `heartbeatMillis`, and gets back `RouterEvent`s:
/// RPCs to send, messages to apply, subscriptions seen. No sockets, no clock, no randomness
/// but the seeded generator it was given, so a simulated network replays exactly.
///
/// Floodsub peers (`/floodsub/1.0.0`) share the topic and get every message of it; they never
/// join a mesh. Messages are StrictSign: signed by us, checked on arrival; their ID is
/// `from ‖ seqno` (go's and py's default).
public struct GossipsubRouter {
    public typealias MessageID = [UInt8]

    struct PeerRecord {
        var protocolID: PubsubProtocolID
        var outbound: Bool
        var topics: Set<String> = []
        /// P4 and P7 counters (decayed every heartbeat).
        var invalidMessages = 0.0
        var behaviourPenalty = 0.0
        /// IWANT promises: a message ID the peer announced and we asked for, and its deadline.
        var promises: [MessageIDKey: UInt64] = [:]
        var ihavesThisHeartbeat = 0
        var idsAskedThisHeartbeat = 0
    }

    public let localPeer: PeerID
    public let parameters: GossipsubParameters
    private let identity: Ed25519PrivateKey
    private var random: RouterRandom
    private var nextSeqno: UInt64

    private var peers: [PeerID: PeerRecord] = [:]
    public private(set) var subscriptions: Set<String> = []
    private var mesh: [String: Set<PeerID>] = [:]
    private var fanout: [String: Set<PeerID>] = [:]
    private var fanoutLastPublish: [String: UInt64] = [:]
    /// Per topic, peers we must not graft (or accept grafts from) until the time given.
    /// Only topics we subscribe to (or just left, `unsubscribe`); expired entries and emptied
    /// topics are dropped at each heartbeat, so a peer cannot grow it with topic names.
    private var backoff: [String: [PeerID: UInt64]] = [:]
    /// Back-off entries held, over all topics (for tests).
    var backoffEntryCount: Int { backoff.values.reduce(0) { $0 + $1.count } }
    /// Topics with back-off entries (for tests).
    var backoffTopicCount: Int { backoff.count }
    private var seen: SeenCache
    private var cache: MessageCache
    /// Our messages for topics no peer has subscribed to yet, in publish order.
    /// Our messages published while no peer was subscribed, oldest first, by topic.
    private var queued: [String: Deque<PubsubMessage>] = [:]
    private var queuedBytes: [String: Int] = [:]
    public private(set) var counters = RouterCounters()
    public private(set) var heartbeats = 0
    /// When `heartbeat` is next due, in the router's milliseconds: `heartbeatMillis` after the
    /// last one (0 before the first: due at once). The caller arms its timer for this.
    public private(set) var nextHeartbeat: UInt64 = 0

    /// RPCs accumulated while handling one input, merged per peer and sent at the end.
    private var outbox: [PeerID: PubsubRPC] = [:]
    private var events: [RouterEvent] = []
    /// IWANT promises open across all peers: most messages need no promise lookup at all.
    private var promisesOutstanding = 0

    /// `firstSeqno` should differ between runs of the same identity (go and rust start from
    /// the time in nanoseconds) so that message IDs are never reused after a restart.
    public init(identity: Ed25519PrivateKey, parameters: GossipsubParameters = GossipsubParameters(),
                seed: UInt64, firstSeqno: UInt64) {
        self.identity = identity
        localPeer = identity.publicKey.peerID
        self.parameters = parameters
        random = RouterRandom(seed: seed)
        nextSeqno = firstSeqno
        seen = SeenCache(ttlMillis: parameters.seenTTLMillis)
        cache = MessageCache(length: parameters.mcacheLength, gossip: parameters.mcacheGossip)
    }

    // MARK: - Queries

    public var peerCount: Int { peers.count }

    public func meshPeers(_ topic: String) -> [PeerID] { (mesh[topic] ?? []).sorted() }

    /// Peers known to subscribe to `topic` (mesh or not, floodsub included).
    public func topicPeers(_ topic: String) -> [PeerID] {
        peers.filter { $0.value.topics.contains(topic) }.map(\.key).sorted()
    }

    public func protocolOf(_ peer: PeerID) -> PubsubProtocolID? { peers[peer]?.protocolID }

    /// The topics a peer told us it subscribes to.
    public func topics(of peer: PeerID) -> [String] { (peers[peer]?.topics ?? []).sorted() }

    public func queuedCount(_ topic: String) -> Int { queued[topic]?.count ?? 0 }

    /// The peer's score: P4 and P7 terms only (see `PeerScoreParameters`).
    public func score(of peer: PeerID) -> Double { peers[peer].map(score) ?? 0 }

    private func score(_ record: PeerRecord) -> Double {
        let s = parameters.score
        let excess = max(0, record.behaviourPenalty - s.behaviourPenaltyThreshold)
        return s.invalidMessageWeight * record.invalidMessages * record.invalidMessages
            + s.behaviourPenaltyWeight * excess * excess
    }

    private func scoreAtLeast(_ peer: PeerID, _ threshold: Double) -> Bool {
        guard let record = peers[peer] else { return false }
        return score(record) >= threshold
    }

    // MARK: - Peers and topics

    /// A pubsub stream to `peer` is open (we negotiated `protocolID` on our outbound stream):
    /// greet it with our subscriptions. Called again for a replacement connection, it keeps
    /// the peer's state and greets again.
    public mutating func addPeer(_ peer: PeerID, protocolID: PubsubProtocolID, outbound: Bool) -> [RouterEvent] {
        if peers[peer] == nil {
            peers[peer] = PeerRecord(protocolID: protocolID, outbound: outbound)
        } else {
            peers[peer]?.protocolID = protocolID
        }
        if !subscriptions.isEmpty {
            outbox[peer, default: PubsubRPC()].subscriptions += subscriptions.sorted().map { .init(subscribe: true, topic: $0) }
        }
        return finish()
    }

    /// The peer is gone: it leaves every mesh and fanout. Its score is forgotten.
    public mutating func removePeer(_ peer: PeerID) {
        guard let record = peers.removeValue(forKey: peer) else { return }
        promisesOutstanding -= record.promises.count
        for topic in mesh.keys { mesh[topic]?.remove(peer) }
        for topic in fanout.keys { fanout[topic]?.remove(peer) }
        outbox[peer] = nil
    }

    /// Joins `topic`: announces it to every peer and grafts up to D of its peers, starting
    /// with the fanout we may already have.
    public mutating func subscribe(_ topic: String, now: UInt64) -> [RouterEvent] {
        guard subscriptions.insert(topic).inserted else { return [] }
        for peer in peers.keys { outbox[peer, default: PubsubRPC()].subscriptions.append(.init(subscribe: true, topic: topic)) }
        var members = (fanout.removeValue(forKey: topic) ?? []).filter { scoreAtLeast($0, 0) && isGossipsub($0) }
        fanoutLastPublish[topic] = nil
        if members.count < parameters.d {
            let candidates = graftCandidates(topic, excluding: members, now: now)
            members.formUnion(candidates.randomSample(parameters.d - members.count, using: &random))
        }
        mesh[topic] = members
        for peer in members { graft(peer, topic) }
        return finish()
    }

    public mutating func unsubscribe(_ topic: String, now: UInt64) -> [RouterEvent] {
        guard subscriptions.remove(topic) != nil else { return [] }
        for peer in peers.keys { outbox[peer, default: PubsubRPC()].subscriptions.append(.init(subscribe: false, topic: topic)) }
        for peer in (mesh.removeValue(forKey: topic) ?? []).sorted() {
            prune(peer, topic, backoffMillis: parameters.unsubscribeBackoffMillis, now: now, withPX: false)
        }
        return finish()
    }

    // MARK: - Publishing

    /// Signs and sends a message of ours. With no subscribed peer it is queued and goes to
    /// the first peer that subscribes (`queuedCount`); the result says how many peers got it.
    public mutating func publish(topic: String, data: [UInt8], now: UInt64) throws(PubsubError) -> (events: [RouterEvent], sentTo: Int) {
        try publish(try sign(topic: topic, data: data), now: now)
    }

    /// Makes the signed message `publish` would send, with the next sequence number, without
    /// sending it: a node that keeps the signed message as the proof of its writes stores it
    /// in the same transaction as the writes, then publishes it (`publish(_:now:)`).
    public mutating func sign(topic: String, data: [UInt8]) throws(PubsubError) -> PubsubMessage {
        var unsigned = PubsubMessage(from: nil, data: data, seqno: nil, topic: topic)
        unsigned.seqno = Self.bigEndian(nextSeqno)
        let message = MessageSigning.sign(unsigned, with: identity)
        let size = RPCSplitter.field(message.encodedCount)
        guard size <= parameters.maxSentRPCBytes else {
            throw .tooLarge(bytes: size, limit: parameters.maxSentRPCBytes)
        }
        nextSeqno &+= 1
        return message
    }

    /// Sends a message made by `sign`.
    public mutating func publish(_ message: PubsubMessage, now: UInt64) throws(PubsubError) -> (events: [RouterEvent], sentTo: Int) {
        let topic = message.topic
        let size = RPCSplitter.field(message.encodedCount)
        let id = message.defaultID
        seen.insert(id, now: now)
        cache.put(id, message)
        counters.published += 1

        var recipients: Set<PeerID>
        let subscribed = peers.filter { $0.value.topics.contains(topic) && score($0.value) >= parameters.score.publishThreshold }
        if parameters.floodPublish {
            recipients = Set(subscribed.keys)
        } else if subscriptions.contains(topic) {
            recipients = (mesh[topic] ?? []).union(subscribed.filter { !$0.value.protocolID.isGossipsub }.keys)
        } else {
            if (fanout[topic] ?? []).isEmpty {
                fanout[topic] = Set(subscribed.filter { $0.value.protocolID.isGossipsub }.keys.randomSample(parameters.d, using: &random))
            }
            recipients = (fanout[topic] ?? []).union(subscribed.filter { !$0.value.protocolID.isGossipsub }.keys)
        }
        if !subscriptions.contains(topic) { fanoutLastPublish[topic] = now }
        if recipients.isEmpty {
            // Changed in place: a copy taken out of the dictionary and put back copied the
            // whole queue on every publish (a node alone: 6 ms per `add` at 10,000 queued).
            var bytes = queuedBytes[topic, default: 0] + size
            var dropped = 0
            queued[topic, default: []].append(message)
            while let count = queued[topic]?.count,
                  count > parameters.maxQueuedPublishes || (bytes > parameters.maxQueuedBytes && count > 1) {
                bytes -= RPCSplitter.field(queued[topic]!.removeFirst().encodedCount)
                dropped += 1
            }
            queuedBytes[topic] = bytes
            counters.queued += 1
            counters.queueOverflow += dropped
            return (finish(), 0)
        }
        for peer in recipients { outbox[peer, default: PubsubRPC()].publish.append(message) }
        return (finish(), recipients.count)
    }

    static func bigEndian(_ n: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: n >> (56 - 8 * $0)) } }

    // MARK: - Receiving

    /// Handles one RPC from `peer`. `validate` is the application's check of a new, correctly
    /// signed message (called once per message, never for duplicates).
    public mutating func receive(_ rpc: PubsubRPC, from peer: PeerID, now: UInt64,
                                 validate: (PubsubMessage, PeerID) -> ValidationResult) -> [RouterEvent] {
        guard let record = peers[peer] else { return [] }
        guard score(record) >= parameters.score.graylistThreshold else {
            counters.ignored += rpc.publish.count
            return []
        }
        for subscription in rpc.subscriptions { handleSubscription(subscription, from: peer) }
        for message in rpc.publish { handleMessage(message, from: peer, now: now, validate: validate) }
        if let control = rpc.control, record.protocolID.isGossipsub, peers[peer] != nil {
            handleControl(control, from: peer, now: now)
        }
        return finish()
    }

    private mutating func handleSubscription(_ subscription: PubsubRPC.Subscription, from peer: PeerID) {
        let topic = subscription.topic
        if subscription.subscribe {
            guard peers[peer]?.topics.insert(topic).inserted == true else { return }
            events.append(.peerSubscribed(peer, topic: topic))
            if let waiting = queued.removeValue(forKey: topic) {
                queuedBytes[topic] = nil
                outbox[peer, default: PubsubRPC()].publish += Array(waiting)
                counters.sentFromQueue += waiting.count
            }
        } else {
            peers[peer]?.topics.remove(topic)
            mesh[topic]?.remove(peer)
            fanout[topic]?.remove(peer)
        }
    }

    private mutating func handleMessage(_ message: PubsubMessage, from peer: PeerID, now: UInt64,
                                        validate: (PubsubMessage, PeerID) -> ValidationResult) {
        counters.received += 1
        guard subscriptions.contains(message.topic) else {
            counters.ignored += 1
            return
        }
        let id = message.defaultID
        if seen.contains(id) {
            counters.duplicates += 1
            fulfilPromises(id)
            return
        }
        let author: PeerID
        do { author = try MessageSigning.verify(message) } catch {
            // Not marked seen: a forgery must not shadow the real message with the same ID.
            penalise(peer, "\(error)")
            return
        }
        seen.insert(id, now: now)
        fulfilPromises(id)
        guard author != localPeer else { return }
        switch validate(message, author) {
        case .accept:
            cache.put(id, message)
            events.append(.deliver(message, author: author, receivedFrom: peer))
            forward(message, source: peer, author: author)
        case .reject(let why):
            penalise(peer, "message \(Self.describe(id)) from \(author) refused: \(why)")
        case .ignore:
            counters.ignored += 1
        }
    }

    private mutating func penalise(_ peer: PeerID, _ reason: String) {
        counters.invalid += 1
        peers[peer]?.invalidMessages += 1
        events.append(.refused(peer, reason: reason))
    }

    private mutating func fulfilPromises(_ id: MessageID) {
        guard promisesOutstanding > 0 else { return }
        let key = MessageIDKey(id)
        for peer in peers.keys where peers[peer]?.promises[key] != nil {
            peers[peer]?.promises[key] = nil
            promisesOutstanding -= 1
        }
    }

    /// Sends a message on to the topic's mesh and its floodsub peers, except where it came from.
    private mutating func forward(_ message: PubsubMessage, source: PeerID, author: PeerID) {
        var recipients = mesh[message.topic] ?? []
        for (peer, record) in peers where !record.protocolID.isGossipsub && record.topics.contains(message.topic) {
            recipients.insert(peer)
        }
        recipients.remove(source)
        recipients.remove(author)
        for peer in recipients { outbox[peer, default: PubsubRPC()].publish.append(message) }
        counters.forwarded += recipients.count
    }

    static func describe(_ id: MessageID) -> String {
        let seqno = id.suffix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return "#\(seqno)"
    }

    // MARK: - Control

    private mutating func handleControl(_ control: ControlMessage, from peer: PeerID, now: UInt64) {
        let gossipOK = scoreAtLeast(peer, parameters.score.gossipThreshold)
        if gossipOK { handleIHave(control.ihave, from: peer, now: now) }
        if gossipOK {
            for id in control.iwant.joined() {
                if let message = cache.messageForRequest(Array(id), from: peer, limit: parameters.gossipRetransmission) {
                    outbox[peer, default: PubsubRPC()].publish.append(message)
                    counters.iwantAnswered += 1
                }
            }
        }
        for topic in control.graft { handleGraft(topic, from: peer, now: now) }
        for prune in control.prune { handlePrune(prune, from: peer, now: now) }
    }

    private mutating func handleIHave(_ ihaves: [ControlMessage.IHave], from peer: PeerID, now: UInt64) {
        guard !ihaves.isEmpty, var record = peers[peer] else { return }
        record.ihavesThisHeartbeat += 1
        guard record.ihavesThisHeartbeat <= parameters.maxIHaveMessages else { peers[peer] = record; return }
        var wanted: [MessageID] = []
        var asked = Set<MessageIDKey>()
        for ihave in ihaves where subscriptions.contains(ihave.topic) {
            for id in ihave.messageIDs where !seen.contains(id) && asked.insert(MessageIDKey(id)).inserted {
                wanted.append(id)
            }
        }
        let room = max(0, parameters.maxIHaveLength - record.idsAskedThisHeartbeat)
        wanted = Array(wanted.prefix(room))
        record.idsAskedThisHeartbeat += wanted.count
        if !wanted.isEmpty {
            // One promise per IWANT, for a random one of the IDs (as go does): a peer that
            // announces and never delivers is penalised at the next heartbeat after the deadline.
            let promised = MessageIDKey(wanted.randomElement(using: &random)!)
            if record.promises.updateValue(now + parameters.iwantFollowupMillis, forKey: promised) == nil { promisesOutstanding += 1 }
            var control = outbox[peer, default: PubsubRPC()].control ?? ControlMessage()
            control.iwant.append(wanted)
            outbox[peer, default: PubsubRPC()].control = control
            counters.iwantSent += 1
        }
        peers[peer] = record
    }

    private mutating func handleGraft(_ topic: String, from peer: PeerID, now: UInt64) {
        guard subscriptions.contains(topic) else {
            // No back-off kept for a topic we are not in (we would never graft it): a peer
            // could otherwise make us hold one entry per topic name it sends.
            prune(peer, topic, backoffMillis: parameters.pruneBackoffMillis, now: now, withPX: false, remember: false)
            return
        }
        guard mesh[topic]?.contains(peer) != true else { return }
        if let until = backoff[topic]?[peer], now < until {
            // Grafting during a back-off we set is misbehaviour (P7); the back-off starts over.
            peers[peer]?.behaviourPenalty += 1
            events.append(.refused(peer, reason: "GRAFT for \(topic) during back-off"))
            prune(peer, topic, backoffMillis: parameters.pruneBackoffMillis, now: now, withPX: false)
            return
        }
        guard scoreAtLeast(peer, 0) else {
            prune(peer, topic, backoffMillis: parameters.pruneBackoffMillis, now: now, withPX: false)
            return
        }
        if (mesh[topic]?.count ?? 0) >= parameters.dHigh, peers[peer]?.outbound != true {
            prune(peer, topic, backoffMillis: parameters.pruneBackoffMillis, now: now, withPX: true)
            return
        }
        mesh[topic, default: []].insert(peer)
        announceRecent(to: peer, topic)
    }

    private mutating func handlePrune(_ prune: ControlMessage.Prune, from peer: PeerID, now: UInt64) {
        mesh[prune.topic]?.remove(peer)
        let millis = prune.backoff.map { $0 > UInt64.max / 2000 ? UInt64.max / 2 : $0 * 1000 } ?? parameters.pruneBackoffMillis
        // The back-off only stops us grafting, and we graft only topics we are in.
        if subscriptions.contains(prune.topic) { setBackoff(peer, prune.topic, until: now + millis) }
        if !prune.peers.isEmpty, scoreAtLeast(peer, parameters.score.acceptPXThreshold) {
            let suggested = prune.peers.prefix(16).compactMap { try? PeerID(bytes: $0) }.filter { $0 != localPeer }
            if !suggested.isEmpty { events.append(.peerExchange(topic: prune.topic, peers: suggested)) }
        }
    }

    private mutating func setBackoff(_ peer: PeerID, _ topic: String, until: UInt64) {
        if let current = backoff[topic]?[peer], current >= until { return }
        backoff[topic, default: [:]][peer] = until
    }

    private mutating func graft(_ peer: PeerID, _ topic: String) {
        var control = outbox[peer, default: PubsubRPC()].control ?? ControlMessage()
        control.graft.append(topic)
        outbox[peer, default: PubsubRPC()].control = control
        counters.graftsSent += 1
        announceRecent(to: peer, topic)
    }

    /// IHAVE for the topic's recent messages, to a peer that just joined our mesh: messages
    /// that arrived before it did were forwarded to the mesh without it, and the heartbeat's
    /// gossip goes only to peers outside the mesh, so it would otherwise never hear of them.
    private mutating func announceRecent(to peer: PeerID, _ topic: String) {
        let ids = cache.gossipIDs(topic: topic)
        guard !ids.isEmpty, isGossipsub(peer) else { return }
        var control = outbox[peer, default: PubsubRPC()].control ?? ControlMessage()
        control.ihave.append(.init(topic: topic, messageIDs: Array(ids.suffix(parameters.maxIHaveLength))))
        outbox[peer, default: PubsubRPC()].control = control
        counters.ihaveSent += 1
    }

    private mutating func prune(_ peer: PeerID, _ topic: String, backoffMillis: UInt64, now: UInt64, withPX: Bool,
                                remember: Bool = true) {
        if remember { setBackoff(peer, topic, until: now + backoffMillis) }
        guard let record = peers[peer] else { return }
        var entry = ControlMessage.Prune(topic: topic)
        if record.protocolID.supportsBackoff {
            entry.backoff = backoffMillis / 1000
            if withPX, parameters.doPX {
                entry.peers = topicPeers(topic).filter { $0 != peer && isGossipsub($0) }
                    .randomSample(16, using: &random).map(\.bytes)
            }
        }
        var control = outbox[peer, default: PubsubRPC()].control ?? ControlMessage()
        control.prune.append(entry)
        outbox[peer, default: PubsubRPC()].control = control
        counters.prunesSent += 1
    }

    private func isGossipsub(_ peer: PeerID) -> Bool { peers[peer]?.protocolID.isGossipsub == true }

    /// Gossipsub peers of the topic that may join its mesh now.
    private func graftCandidates(_ topic: String, excluding: Set<PeerID>, now: UInt64) -> [PeerID] {
        peers.compactMap { peer, record in
            guard record.protocolID.isGossipsub, record.topics.contains(topic), !excluding.contains(peer),
                  score(record) >= 0 else { return nil }
            if let until = backoff[topic]?[peer], now < until { return nil }
            return peer
        }
    }

    // MARK: - Heartbeat

    /// Mesh and fanout upkeep, gossip, score decay, broken promises, cache shifts.
    public mutating func heartbeat(now: UInt64) -> [RouterEvent] {
        heartbeats += 1
        nextHeartbeat = now + parameters.heartbeatMillis
        updateScores(now: now)
        for topic in subscriptions.sorted() { maintainMesh(topic, now: now) }
        maintainFanout(now: now)
        emitGossip()
        cache.shift()
        seen.expire(now: now)
        backoff = backoff.compactMapValues { peers in
            let live = peers.filter { $0.value > now }
            return live.isEmpty ? nil : live
        }
        return finish()
    }

    private mutating func updateScores(now: UInt64) {
        let s = parameters.score
        for peer in peers.keys {
            guard var record = peers[peer] else { continue }
            let broken = record.promises.filter { $0.value <= now }
            if !broken.isEmpty {
                record.behaviourPenalty += Double(broken.count)
                counters.brokenPromises += broken.count
                promisesOutstanding -= broken.count
                for id in broken.keys { record.promises[id] = nil }
                events.append(.refused(peer, reason: "\(broken.count) message(s) announced in IHAVE and asked for were never sent"))
            }
            record.invalidMessages *= s.decay
            if record.invalidMessages < s.decayToZero { record.invalidMessages = 0 }
            record.behaviourPenalty *= s.decay
            if record.behaviourPenalty < s.decayToZero { record.behaviourPenalty = 0 }
            record.ihavesThisHeartbeat = 0
            record.idsAskedThisHeartbeat = 0
            peers[peer] = record
        }
    }

    private mutating func maintainMesh(_ topic: String, now: UInt64) {
        var members = mesh[topic] ?? []
        for peer in members.sorted() where !scoreAtLeast(peer, 0) || peers[peer]?.topics.contains(topic) != true {
            members.remove(peer)
            if peers[peer] != nil { prune(peer, topic, backoffMillis: parameters.pruneBackoffMillis, now: now, withPX: false) }
        }
        if members.count < parameters.dLow {
            let chosen = graftCandidates(topic, excluding: members, now: now).randomSample(parameters.d - members.count, using: &random)
            for peer in chosen { members.insert(peer); graft(peer, topic) }
        }
        if members.count > parameters.dHigh {
            // Keep the best-scoring few, then a random choice of the rest.
            var ranked = members.randomSample(members.count, using: &random)
            ranked.sort { score(of: $0) > score(of: $1) }
            let kept = Array(ranked.prefix(parameters.dScore))
                + Array(ranked.dropFirst(parameters.dScore)).randomSample(parameters.d - parameters.dScore, using: &random)
            let keptSet = Set(kept)
            for peer in members.sorted() where !keptSet.contains(peer) {
                prune(peer, topic, backoffMillis: parameters.pruneBackoffMillis, now: now, withPX: true)
            }
            members = keptSet
        }
        mesh[topic] = members
    }

    private mutating func maintainFanout(now: UInt64) {
        for topic in fanoutLastPublish.keys.sorted() {
            guard let last = fanoutLastPublish[topic] else { continue }
            if last + parameters.fanoutTTLMillis <= now {
                fanout[topic] = nil
                fanoutLastPublish[topic] = nil
                continue
            }
            var members = (fanout[topic] ?? []).filter {
                peers[$0]?.topics.contains(topic) == true && scoreAtLeast($0, parameters.score.publishThreshold)
            }
            if members.count < parameters.d {
                let more = topicPeers(topic).filter { !members.contains($0) && isGossipsub($0) && scoreAtLeast($0, parameters.score.publishThreshold) }
                members.formUnion(more.randomSample(parameters.d - members.count, using: &random))
            }
            fanout[topic] = members
        }
    }

    private mutating func emitGossip() {
        let topics = Set(mesh.keys).union(fanout.keys).sorted()
        for topic in topics {
            let ids = cache.gossipIDs(topic: topic)
            guard !ids.isEmpty else { continue }
            let excluded = (mesh[topic] ?? []).union(fanout[topic] ?? [])
            let candidates = topicPeers(topic).filter {
                !excluded.contains($0) && isGossipsub($0) && scoreAtLeast($0, parameters.score.gossipThreshold)
            }
            let count = max(parameters.dLazy, Int(parameters.gossipFactor * Double(candidates.count)))
            for peer in candidates.randomSample(count, using: &random) {
                var announced = ids
                if announced.count > parameters.maxIHaveLength {
                    announced.shuffle(using: &random)
                    announced = Array(announced.prefix(parameters.maxIHaveLength))
                }
                var control = outbox[peer, default: PubsubRPC()].control ?? ControlMessage()
                control.ihave.append(.init(topic: topic, messageIDs: announced))
                outbox[peer, default: PubsubRPC()].control = control
                counters.ihaveSent += 1
            }
        }
    }

    // MARK: - Output

    /// The events gathered so far, then one RPC per peer (split to fit), in peer order.
    private mutating func finish() -> [RouterEvent] {
        var result = events
        events.removeAll()
        for peer in outbox.keys.sorted() {
            guard let rpc = outbox[peer], peers[peer] != nil else { continue }
            let (rpcs, dropped) = RPCSplitter.split(rpc, limit: parameters.maxSentRPCBytes)
            counters.oversizeDropped += dropped
            for part in rpcs { result.append(.send(peer, part)) }
        }
        outbox.removeAll()
        return result
    }
}
