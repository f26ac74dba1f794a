import Wire

/// The last few heartbeats of messages (spec: mcache_len windows, of which mcache_gossip are
/// announced in IHAVE), kept to answer IWANT.
struct MessageCache {
    typealias MessageID = [UInt8]
    private var windows: [[(id: MessageIDKey, topic: String)]]
    private var messages: [MessageIDKey: PubsubMessage] = [:]
    /// How often each peer asked for each cached message, to cap retransmissions.
    private var requests: [MessageIDKey: [PeerID: Int]] = [:]
    let gossipWindows: Int

    init(length: Int, gossip: Int) {
        windows = Array(repeating: [], count: max(1, length))
        gossipWindows = min(gossip, length)
    }

    mutating func put(_ id: MessageID, _ message: PubsubMessage) {
        let key = MessageIDKey(id)
        guard messages[key] == nil else { return }
        messages[key] = message
        windows[0].append((key, message.topic))
    }

    func message(_ id: MessageID) -> PubsubMessage? { messages[MessageIDKey(id)] }

    /// The message for an IWANT from `peer`, unless that peer already asked `limit` times.
    mutating func messageForRequest(_ raw: MessageID, from peer: PeerID, limit: Int) -> PubsubMessage? {
        let id = MessageIDKey(raw)
        guard let message = messages[id] else { return nil }
        let asked = requests[id, default: [:]][peer, default: 0] + 1
        requests[id, default: [:]][peer] = asked
        return asked > limit ? nil : message
    }

    /// IDs to announce for `topic`: those of the most recent `gossipWindows` heartbeats.
    func gossipIDs(topic: String) -> [MessageID] {
        windows.prefix(gossipWindows).flatMap { $0.filter { $0.topic == topic }.map(\.id.bytes) }
    }

    /// Starts a new window, forgetting the oldest.
    mutating func shift() {
        for entry in windows.removeLast() {
            messages[entry.id] = nil
            requests[entry.id] = nil
        }
        windows.insert([], at: 0)
    }

    var count: Int { messages.count }
}
