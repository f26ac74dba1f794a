/// Names a scheduled timer so it can be cancelled. Never reused within one Reactor.
public struct TimerID: Hashable, Sendable {
    let rawValue: UInt64

    /// Simulated loops (tests) make their own IDs.
    public init(rawValue: UInt64) { self.rawValue = rawValue }
}
