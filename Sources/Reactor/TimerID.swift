/// Names a scheduled timer so it can be cancelled. Never reused within one Reactor.
public struct TimerID: Hashable, Sendable {
    let rawValue: UInt64
}
