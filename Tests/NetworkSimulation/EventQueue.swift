/// The simulated clock: events due at a time in milliseconds, taken out in time order, and
/// in the order they were scheduled among those due at the same millisecond (so a run replays
/// exactly). `now` only moves forward, when an event is taken or `advance(to:)` is called.
public struct EventQueue<Event> {
    /// What the heap orders: small and trivially copyable. The events themselves (an RPC,
    /// a chunk of bytes) wait in `slots`: sifting whole payloads through the heap cost a
    /// retain and a release per comparison, the top of the 1,000-router profile.
    private struct Key: Comparable {
        let at: UInt64
        let sequence: UInt64
        let slot: Int
        static func < (a: Key, b: Key) -> Bool { (a.at, a.sequence) < (b.at, b.sequence) }
        static func == (a: Key, b: Key) -> Bool { a.sequence == b.sequence }
    }

    private var heap = MinHeap<Key>()
    private var slots: [Event?] = []
    private var freeSlots: [Int] = []
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
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
            slots[slot] = event
        } else {
            slot = slots.count
            slots.append(event)
        }
        heap.push(Key(at: max(at, now), sequence: sequence, slot: slot))
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
        let event = slots[top.slot].take()!
        freeSlots.append(top.slot)
        return event
    }

    /// Moves the clock forward without taking events (they stay due).
    public mutating func advance(to time: UInt64) { now = max(now, time) }
}
