/// How one link carries messages, the same both ways: a one-way latency, a random extra delay
/// per message (with `ordered` off, a message can overtake an earlier one: reordering), and
/// the probability that a message is lost.
public struct LinkProfile: Sendable, Equatable {
    /// One-way delay of every message, milliseconds.
    public var latencyMillis: UInt64
    /// Each message waits a further 0...jitterMillis, drawn per message.
    public var jitterMillis: UInt64
    /// Probability that a message sent on the link never arrives (0...1).
    public var loss: Double
    /// First in, first out per direction, as a byte stream (TCP, a yamux connection): a
    /// message never arrives before one sent earlier the same way. Stream links should have
    /// no loss (a stream delays, it does not lose); cut them instead.
    public var ordered: Bool

    public init(latencyMillis: UInt64, jitterMillis: UInt64 = 0, loss: Double = 0, ordered: Bool = false) {
        precondition((0...1).contains(loss), "loss is a probability, not \(loss)")
        self.latencyMillis = latencyMillis
        self.jitterMillis = jitterMillis
        self.loss = loss
        self.ordered = ordered
    }

    /// A LAN-like link: 2 ms one way plus up to 38 ms of jitter, as the first simulations had.
    public static let lan = LinkProfile(latencyMillis: 2, jitterMillis: 38)
}
