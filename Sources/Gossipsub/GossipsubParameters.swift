/// The router's knobs, with the gossipsub v1.1 spec's defaults (libp2p-wire.md section 7.6).
/// Times are milliseconds of the clock the caller passes in.
public struct GossipsubParameters: Sendable {
    /// Mesh degree: the target, the low and high watermarks, and how many peers get gossip.
    public var d = 6
    public var dLow = 4
    public var dHigh = 12
    public var dLazy = 6
    /// When pruning an oversubscribed mesh, keep this many of the best-scoring peers first.
    public var dScore = 4
    public var heartbeatMillis: UInt64 = 1000
    public var fanoutTTLMillis: UInt64 = 60_000
    /// Heartbeats of history in the message cache, and how many of them gossip announces.
    public var mcacheLength = 5
    public var mcacheGossip = 3
    public var seenTTLMillis: UInt64 = 120_000
    public var pruneBackoffMillis: UInt64 = 60_000
    public var unsubscribeBackoffMillis: UInt64 = 10_000
    public var gossipFactor = 0.25
    /// Our own messages go to every subscribed peer above the publish threshold, not only the mesh.
    public var floodPublish = true
    /// IHAVE limits per peer and heartbeat (go's defaults), IWANT answers per message and peer.
    public var maxIHaveLength = 5000
    public var maxIHaveMessages = 10
    public var gossipRetransmission = 3
    /// How long a peer has to deliver a message it announced in IHAVE and we asked for.
    public var iwantFollowupMillis: UInt64 = 3000
    /// RPCs we send stay under rust-libp2p's default limit; we accept what go and py send.
    public var maxSentRPCBytes = 65536
    public var maxReceivedRPCBytes = 1 << 20
    /// Messages kept for topics with no subscribed peer yet ("InsufficientPeers"), sent when one
    /// joins: at most this many, and this many bytes, per topic; past either, the oldest go
    /// (p2p-sync's catch-up still brings those writes to peers when they connect).
    public var maxQueuedPublishes = 10_000
    public var maxQueuedBytes = 8 << 20
    /// Send peer exchange in PRUNE (off by default, as in go and rust).
    public var doPX = false
    public var score = PeerScoreParameters()

    public init() {}
}

/// The parts of v1.1 peer scoring that protect the node (libp2p-wire.md section 7.7): P4
/// (invalid messages) and P7 (behaviour: broken IWANT promises, GRAFT during back-off), both
/// squared, decayed once per heartbeat, with the spec's thresholds acting on the result.
public struct PeerScoreParameters: Sendable {
    public var invalidMessageWeight = -1.0
    public var behaviourPenaltyWeight = -10.0
    /// Behaviour penalties below this count are free (a slow peer may miss one promise).
    public var behaviourPenaltyThreshold = 1.0
    /// Counters are multiplied by this each heartbeat (halving in about 70 s) and reset below
    /// `decayToZero`. One invalid message puts the peer below 0 (out of the mesh, still
    /// gossiped with); eight stop our publishes to it; nine put it on the graylist. Lenient on
    /// purpose: in a sync group a peer with a buggy writer should not be cut off at once.
    public var decay = 0.99
    public var decayToZero = 0.01
    /// Below `gossipThreshold` no gossip goes either way; below `publishThreshold` our own
    /// messages are not sent to the peer; below `graylistThreshold` its RPCs are ignored.
    public var gossipThreshold = -10.0
    public var publishThreshold = -50.0
    public var graylistThreshold = -80.0
    /// Peer exchange from peers below this is ignored.
    public var acceptPXThreshold = 10.0

    public init() {}
}
