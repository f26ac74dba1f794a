/// How long the loop's turns take: the work between two waits in epoll_wait (events,
/// timers, before-sleep hooks). A turn is time when the node answers nobody else, so the
/// long ones are what a user notices as a stall (issue 15: none over 20 ms while serving a
/// catch-up at 1,000,000 keys). Kept per process since start; `status` shows it.
public struct TurnStatistics: Sendable {
    /// One slow turn: how long it took, when it ended, and where the time went: socket
    /// events, due timers, and the before-sleep hooks (the daemon's commit of staged writes).
    public struct Turn: Sendable, Equatable {
        public var duration: Duration
        public var ended: Instant
        public var events: Duration = .zero
        public var timers: Duration = .zero
        public var beforeSleep: Duration = .zero
    }

    /// Turns at or over this are counted and the slowest of them kept.
    public static let slowThreshold: Duration = .milliseconds(10)
    /// The slowest turns kept, slowest first.
    public static let keptTurns = 8

    public private(set) var turns = 0
    /// Turns of at least `slowThreshold`, and of at least twice that.
    public private(set) var slow = 0
    public private(set) var verySlow = 0
    public private(set) var longest: Duration = .zero
    /// The slowest turns of at least `slowThreshold`, slowest first.
    public private(set) var slowest: [Turn] = []

    public init() {}

    /// Records a turn; `eventsDone` and `timersDone` split it into its three phases.
    public mutating func record(started: Instant, eventsDone: Instant? = nil, timersDone: Instant? = nil, ended: Instant) {
        turns += 1
        let duration = ended.duration(since: started)
        if duration > longest { longest = duration }
        guard duration >= TurnStatistics.slowThreshold else { return }
        slow += 1
        if duration >= TurnStatistics.slowThreshold * 2 { verySlow += 1 }
        guard slowest.count < TurnStatistics.keptTurns || duration > slowest[slowest.count - 1].duration else { return }
        let position = slowest.firstIndex { $0.duration < duration } ?? slowest.count
        let events = eventsDone ?? started, timers = timersDone ?? events
        slowest.insert(Turn(duration: duration, ended: ended, events: events.duration(since: started),
                            timers: timers.duration(since: events), beforeSleep: ended.duration(since: timers)), at: position)
        if slowest.count > TurnStatistics.keptTurns { slowest.removeLast() }
    }
}
