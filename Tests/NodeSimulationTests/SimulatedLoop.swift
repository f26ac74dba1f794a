import Reactor
@testable import SyncNode

/// One simulated clock and timer queue for every node of a simulation: events run in deadline
/// order (ties in scheduling order), and `now` jumps from one to the next.
final class SimulatedScheduler {
    private struct Entry: Comparable {
        let at: Instant
        let sequence: UInt64
        let id: TimerID
        static func < (a: Entry, b: Entry) -> Bool { (a.at, a.sequence) < (b.at, b.sequence) }
    }

    private(set) var now = Instant(nanoseconds: 1_000_000_000)
    private var queue: [Entry] = []
    private var callbacks: [TimerID: () -> Void] = [:]
    private var sequence: UInt64 = 0
    /// Runs after every event (the daemon's `beforeSleep`: commit what the turn staged).
    var afterEvent: (() -> Void)?
    private(set) var eventsRun = 0

    @discardableResult
    func schedule(at deadline: Instant, _ callback: @escaping () -> Void) -> TimerID {
        sequence += 1
        let id = TimerID(rawValue: sequence)
        callbacks[id] = callback
        let entry = Entry(at: max(deadline, now), sequence: sequence, id: id)
        // Binary insertion keeps the queue sorted; simulations here hold a few thousand entries.
        var low = 0, high = queue.count
        while low < high {
            let mid = (low + high) / 2
            if queue[mid] < entry { low = mid + 1 } else { high = mid }
        }
        queue.insert(entry, at: low)
        return id
    }

    func cancel(_ id: TimerID) { callbacks[id] = nil }

    /// Runs every event due up to `deadline`, then sets the clock there.
    func run(until deadline: Instant) {
        while let first = queue.first, first.at <= deadline {
            queue.removeFirst()
            guard let callback = callbacks.removeValue(forKey: first.id) else { continue }
            now = first.at
            callback()
            eventsRun += 1
            afterEvent?()
        }
        now = max(now, deadline)
    }

    func run(for duration: Duration) { run(until: now + duration) }
}

/// One node's view of the shared scheduler. A crashed node's timers are dropped with it.
final class NodeClock: NodeLoop {
    let scheduler: SimulatedScheduler
    private(set) var alive = true

    init(_ scheduler: SimulatedScheduler) { self.scheduler = scheduler }

    var now: Instant { scheduler.now }

    @discardableResult
    func schedule(at deadline: Instant, _ callback: @escaping () -> Void) -> TimerID {
        scheduler.schedule(at: deadline) { [weak self] in if self?.alive == true { callback() } }
    }

    func cancel(_ timer: TimerID) { scheduler.cancel(timer) }

    func kill() { alive = false }
}
