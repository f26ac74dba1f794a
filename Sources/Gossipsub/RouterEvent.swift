import Wire

/// What the application says about a received message (the validator's three answers that
/// the spec requires): accept and forward, reject (the sender is penalised), or ignore.
public enum ValidationResult: Equatable, Sendable {
    case accept
    case reject(String)
    case ignore(String)
}

/// What the router asks its owner to do, in order.
public enum RouterEvent: Equatable, Sendable {
    /// Send this RPC to the peer on its pubsub stream (already under the size limit).
    case send(PeerID, PubsubRPC)
    /// A message from someone else passed validation: apply it.
    case deliver(PubsubMessage, author: PeerID, receivedFrom: PeerID)
    /// A peer is now known to subscribe to a topic.
    case peerSubscribed(PeerID, topic: String)
    /// A peer sent something we refused; worth a log line.
    case refused(PeerID, reason: String)
    /// Peers suggested in a PRUNE by a peer we trust (binary IDs, no addresses).
    case peerExchange(topic: String, peers: [PeerID])
}

/// Running totals, shown by `status`.
public struct RouterCounters: Equatable, Sendable {
    /// Messages we authored.
    public var published = 0
    /// Messages that arrived from peers (duplicates and invalid ones included).
    public var received = 0
    public var duplicates = 0
    /// Refused: bad signature, failed validation.
    public var invalid = 0
    public var ignored = 0
    /// Copies of other nodes' messages sent on to our peers.
    public var forwarded = 0
    /// Our messages held because no peer subscribed to the topic yet, and those sent later.
    public var queued = 0
    public var sentFromQueue = 0
    /// Queued messages dropped, oldest first, to keep the queue under its limits.
    public var queueOverflow = 0
    public var ihaveSent = 0
    public var iwantSent = 0
    public var iwantAnswered = 0
    public var graftsSent = 0
    public var prunesSent = 0
    public var brokenPromises = 0
    /// Messages that could not fit under the send limit and were not forwarded.
    public var oversizeDropped = 0

    public init() {}
}
