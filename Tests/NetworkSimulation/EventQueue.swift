/// The simulated clock: events due at a time in milliseconds, taken out in time order, and
/// in the order they were scheduled among those due at the same millisecond (so a run replays
/// exactly). `now` only moves forward, when an event is taken or `advance(to:)` is called.
public struct EventQueue<Event> {
    private struct Entry: Comparable {
        let at: UInt64
        let sequence: UInt64
        let event: Event
        static func < (a: Entry, b: Entry) -> Bool { (a.at, a.sequence) < (b.at, b.sequence) }
        static func == (a: Entry, b: Entry) -> Bool { a.sequence == b.sequence }
    }

    private var heap = MinHeap<Entry>()
    private var sequence: UInt64 = 0
    /// Simulated milliseconds since the start of the run.
    public private(set) var now: UInt64 = 0

    public init() {}

    public var count: Int { heap.count }
    public var isEmpty: Bool { heap.isEmpty }
    /// When the next event is due, if there is one.
    public var nextTime: UInt64? { heap.peek?.at }

    /// Schedules `event` at `at` (an earlier time than `now` means now).
    public mutating func schedule(_ event: Event, at: UInt64) {
        sequence += 1
        heap.push(Entry(at: max(at, now), sequence: sequence, event: event))
    }

    public mutating func schedule(_ event: Event, after millis: UInt64) { schedule(event, at: now + millis) }

    /// The next event due at or before `until`, with `now` moved to its time; nil (and `now`
    /// moved to `until`) when none is.
    public mutating func next(until: UInt64) -> Event? {
        guard let top = heap.peek, top.at <= until else {
            now = max(now, until)
            return nil
        }
        _ = heap.pop()
        now = top.at
        return top.event
    }

    /// Moves the clock forward without taking events (they stay due).
    public mutating func advance(to time: UInt64) { now = max(now, time) }
}
