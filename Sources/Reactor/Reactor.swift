#if canImport(Glibc)
import Glibc
#endif
import CSyncShim

/// A single-threaded event loop on epoll: sockets, timers, signals and a wake-up eventfd.
/// It knows nothing of libp2p (DESIGN.md section 2). Everything it owns is used from the
/// thread that calls `run()`; no Tasks, actors or locks.
///
/// epoll runs LEVEL-triggered. With partial reads and backpressure that is the simpler thing
/// to get right: a connection whose input ring is full simply drops EPOLLIN from its interest
/// and the kernel keeps the bytes; when the consumer makes room we add EPOLLIN back and epoll
/// reports the fd again because data is still there. Edge-triggered would force us to read
/// until EAGAIN every time (or remember that we stopped early), and a missed edge is a hang.
///
/// Each registration gets a generation number stored beside the fd in `epoll_data`
/// (`u64 = fd | generation << 32`, as swift-nio's SelectorEpoll does): an event that was
/// fetched for an fd that a callback closed and reused in the same turn no longer matches
/// and is dropped.
///
/// One turn: run the before-sleep hooks, wait in epoll_wait (timeout = the earliest timer),
/// refresh `now`, dispatch the events, fire the due timers.
public final class Reactor {
    struct Registration {
        var generation: UInt32
        /// The epoll interest mask, or nil while the fd is out of the epoll set.
        var interest: UInt32?
        let source: any EventSource
    }

    /// Events fetched per epoll_wait; more are simply reported next turn (level-triggered).
    static let maxEventsPerWait = 256
    /// How long a listener stops accepting after EMFILE/ENFILE before trying again.
    static let acceptPauseAfterExhaustion: Duration = .milliseconds(100)

    private let epollFD: Int32
    private let wakeEvent: EventFD
    private var signalFD: Int32 = -1
    private var signalMask = sigset_t()
    private var signalCallbacks: [Int32: (Int32) -> Void] = [:]

    private var registrations: [Int32: Registration] = [:]
    // Generation 0 marks the Reactor's own descriptors (eventfd, signalfd).
    private var nextGeneration: UInt32 = 1

    private var timers = TimerHeap()
    private var timerCallbacks: [TimerID: () -> Void] = [:]
    private var nextTimerID: UInt64 = 1

    private var beforeSleepCallbacks: [() -> Void] = []
    private var stopRequested = false
    private let eventBuffer: UnsafeMutableRawPointer
    private let eventSize = Int(csync_epoll_event_size())

    /// The time at the start of the current loop turn (CLOCK_MONOTONIC).
    public private(set) var now: Instant

    /// How long the turns have taken (the work between two waits).
    public private(set) var turnStatistics = TurnStatistics()

    /// Called on the loop thread after a `Waker` woke the loop.
    public var onWake: (() -> Void)?

    /// Events that arrived for a registration that no longer exists (closed, or fd reused
    /// in the same turn) and were dropped. For tests and debug output.
    public private(set) var staleEventsDropped = 0

    /// Creates the epoll instance and the wake-up eventfd, and ignores SIGPIPE for the whole
    /// process (sends use MSG_NOSIGNAL as well; the disposition covers any write we miss).
    public init() throws(ReactorError) {
        _ = csync_ignore_signal(SIGPIPE)
        epollFD = try Syscall.call("epoll_create1") { epoll_create1(csync_epoll_cloexec()) }
        do {
            let wake = try Syscall.call("eventfd") { eventfd(0, csync_efd_nonblock() | csync_efd_cloexec()) }
            wakeEvent = EventFD(fd: wake)
        } catch {
            Syscall.close(epollFD)
            throw error
        }
        eventBuffer = UnsafeMutableRawPointer.allocate(byteCount: Reactor.maxEventsPerWait * eventSize, alignment: 8)
        now = .now()
        sigemptyset(&signalMask)
        do {
            try epollControl(EPOLL_CTL_ADD, wakeEvent.fd, EpollBits.input, generation: 0)
        } catch {
            eventBuffer.deallocate()
            Syscall.close(epollFD)
            throw error
        }
    }

    deinit {
        for registration in registrations.values { registration.source.reactorDeinitializing() }
        registrations.removeAll()
        if signalFD >= 0 { Syscall.close(signalFD) }
        Syscall.close(epollFD)
        eventBuffer.deallocate()
    }

    // MARK: Running

    /// Runs turns until `stop()` is called (from any callback), then returns. Events left
    /// in the current batch are reported again by the next `run()` (level-triggered).
    /// A `stop()` before `run()` makes it return at once.
    public func run() throws(ReactorError) {
        defer { stopRequested = false }
        // The first turn starts when the first wait returns: set-up before `run()` is not a turn.
        var turnStarted: Instant?
        var eventsDone: Instant?
        var timersDone: Instant?
        while !stopRequested {
            for callback in beforeSleepCallbacks {
                callback()
                if stopRequested { return }
            }
            let turnEnded = Instant.now()
            if let turnStarted {
                turnStatistics.record(started: turnStarted, eventsDone: eventsDone, timersDone: timersDone, ended: turnEnded)
            }
            now = turnEnded
            let count = try wait(timeoutMilliseconds: timeoutToNextTimer())
            now = .now()
            turnStarted = now
            for index in 0 ..< count {
                let event = (eventBuffer + index * eventSize).assumingMemoryBound(to: epoll_event.self)
                dispatch(events: csync_epoll_event_events(event), data: csync_epoll_event_data(event))
                if stopRequested { return }
            }
            eventsDone = .now()
            fireDueTimers()
            timersDone = .now()
        }
    }

    /// Makes `run()` return after the callback that called it.
    public func stop() {
        stopRequested = true
    }

    /// Registers `callback` to run on every turn just before the loop sleeps in epoll_wait
    /// (after every event and timer of the turn: the place to flush batched work, as redis'
    /// beforeSleep does).
    public func addBeforeSleep(_ callback: @escaping () -> Void) {
        beforeSleepCallbacks.append(callback)
    }

    /// A handle that other threads may use to wake the loop; `onWake` then runs on the loop.
    public func makeWaker() -> Waker { Waker(event: wakeEvent) }

    /// Closes every listener, connection and datagram socket (connections get
    /// onClose(.closedLocally)), cancels every timer and drops the before-sleep hooks and
    /// signal callbacks, which breaks the reference cycles callbacks tend to form.
    public func shutdown() {
        // Closing may register nothing new but may close others: iterate until empty.
        while let fd = registrations.keys.first {
            let source = registrations[fd]!.source
            source.closeForShutdown()
            if registrations[fd] != nil, registrations[fd]!.source === source { deregister(fd) }
        }
        timers.removeAll()
        timerCallbacks.removeAll()
        beforeSleepCallbacks.removeAll()
        signalCallbacks.removeAll()
        onWake = nil
    }

    private func wait(timeoutMilliseconds: Int32) throws(ReactorError) -> Int {
        let events = eventBuffer.assumingMemoryBound(to: epoll_event.self)
        switch try Syscall.io("epoll_wait", { epoll_wait(epollFD, events, Int32(Reactor.maxEventsPerWait), timeoutMilliseconds) }) {
        case .done(let count): return Int(count)
        case .wouldBlock: return 0
        }
    }

    private func dispatch(events: UInt32, data: UInt64) {
        let fd = Int32(truncatingIfNeeded: data & 0xFFFF_FFFF)
        let generation = UInt32(truncatingIfNeeded: data >> 32)
        if generation == 0 {
            if fd == wakeEvent.fd { drainWakeups() } else if fd == signalFD { readSignals() }
            return
        }
        // Re-check before dispatch (as redis ae.c does): an earlier callback of this turn may
        // have closed this fd, or closed it and opened another that got the same number.
        guard let registration = registrations[fd], registration.generation == generation else {
            staleEventsDropped += 1
            return
        }
        registration.source.handleEvents(events)
    }

    // MARK: Registrations

    private func epollControl(_ operation: Int32, _ fd: Int32, _ interest: UInt32, generation: UInt32) throws(ReactorError) {
        var event = epoll_event()
        csync_epoll_event_set(&event, interest, UInt64(UInt32(bitPattern: fd)) | UInt64(generation) << 32)
        try Syscall.call("epoll_ctl") { epoll_ctl(epollFD, operation, fd, &event) }
    }

    /// Adds `fd` to the epoll set on behalf of `source`.
    func register(_ fd: Int32, interest: UInt32, source: any EventSource) throws(ReactorError) {
        precondition(registrations[fd] == nil, "fd \(fd) registered twice")
        let generation = nextGeneration
        nextGeneration = nextGeneration == .max ? 1 : nextGeneration + 1
        try epollControl(EPOLL_CTL_ADD, fd, interest, generation: generation)
        registrations[fd] = Registration(generation: generation, interest: interest, source: source)
    }

    /// Changes what `fd` waits for; nil takes it out of the epoll set (the only way to stop
    /// EPOLLHUP, which epoll reports whatever the mask says) while keeping the registration.
    func setInterest(_ fd: Int32, _ interest: UInt32?) throws(ReactorError) {
        guard var registration = registrations[fd], registration.interest != interest else { return }
        switch (registration.interest, interest) {
        case (nil, let new?):
            try epollControl(EPOLL_CTL_ADD, fd, new, generation: registration.generation)
        case (_?, let new?):
            try epollControl(EPOLL_CTL_MOD, fd, new, generation: registration.generation)
        case (_?, nil):
            try epollControl(EPOLL_CTL_DEL, fd, 0, generation: registration.generation)
        case (nil, nil):
            return
        }
        registration.interest = interest
        registrations[fd] = registration
    }

    /// Whether `fd` is registered (for tests of closing).
    func isRegistered(_ fd: Int32) -> Bool { registrations[fd] != nil }

    /// Removes `fd` from the epoll set and forgets it; the caller closes it next.
    func deregister(_ fd: Int32) {
        guard let registration = registrations.removeValue(forKey: fd) else { return }
        if registration.interest != nil {
            var event = epoll_event()
            // Cannot fail for an fd in the set; ignored, since the close that follows removes it anyway.
            _ = Syscall.attempt("epoll_ctl(DEL)") { epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, &event) }
        }
    }

    // MARK: Timers

    /// Runs `callback` on the loop once `now >= deadline` (in deadline order; ties in the
    /// order scheduled). A timer scheduled from a timer callback runs on a later turn.
    @discardableResult
    public func schedule(at deadline: Instant, _ callback: @escaping () -> Void) -> TimerID {
        let id = TimerID(rawValue: nextTimerID)
        nextTimerID += 1
        timerCallbacks[id] = callback
        timers.insert(.init(deadline: deadline, id: id))
        return id
    }

    /// Runs `callback` once `delay` has passed (measured from the clock now, not from `now`).
    @discardableResult
    public func schedule(after delay: Duration, _ callback: @escaping () -> Void) -> TimerID {
        schedule(at: Instant.now() + delay, callback)
    }

    /// Cancels a timer that has not fired; cancelling a fired or unknown timer does nothing.
    public func cancel(_ timer: TimerID) {
        timerCallbacks[timer] = nil
    }

    private func timeoutToNextTimer() -> Int32 {
        // Cancelled entries on top would make us wake for nothing.
        while let top = timers.first, timerCallbacks[top.id] == nil { _ = timers.removeFirst() }
        guard let next = timers.first else { return -1 }
        guard next.deadline > now else { return 0 }
        // Round up: waking before the deadline would only spin through another turn.
        let milliseconds = (next.deadline.nanoseconds - now.nanoseconds + 999_999) / 1_000_000
        return Int32(clamping: milliseconds)
    }

    private func fireDueTimers() {
        var due: [TimerHeap.Entry] = []
        while let top = timers.first, top.deadline <= now {
            due.append(timers.removeFirst()!)
        }
        for (index, entry) in due.enumerated() {
            guard let callback = timerCallbacks.removeValue(forKey: entry.id) else { continue }
            callback()
            if stopRequested {
                // Keep the rest for the next run().
                for rest in due[(index + 1)...] { timers.insert(rest) }
                return
            }
        }
    }

    // MARK: Signals and wake-ups

    /// Delivers `signals` to `callback` on the loop thread through a signalfd.
    ///
    /// signalfd only sees signals that are blocked, so this blocks them with pthread_sigmask
    /// in the calling thread (which must be the loop thread). A signal sent to the process
    /// (kill, Ctrl-C) may be delivered to any thread that does not block it: call this from
    /// the main thread before starting other threads, which inherit the mask.
    public func handleSignals(_ signals: [Int32], _ callback: @escaping (Int32) -> Void) throws(ReactorError) {
        var added = sigset_t()
        sigemptyset(&added)
        for signal in signals {
            guard sigaddset(&added, signal) == 0 else { throw .syscall("sigaddset(\(signal))", Errno(EINVAL)) }
            sigaddset(&signalMask, signal)
        }
        // pthread_sigmask returns the error number instead of setting errno.
        let result = pthread_sigmask(SIG_BLOCK, &added, nil)
        guard result == 0 else { throw .syscall("pthread_sigmask", Errno(result)) }
        if signalFD < 0 {
            signalFD = try Syscall.call("signalfd") { signalfd(-1, &signalMask, csync_sfd_nonblock() | csync_sfd_cloexec()) }
            try epollControl(EPOLL_CTL_ADD, signalFD, EpollBits.input, generation: 0)
        } else {
            let fd = signalFD
            try Syscall.call("signalfd") { signalfd(fd, &signalMask, 0) }
        }
        for signal in signals { signalCallbacks[signal] = callback }
    }

    private func readSignals() {
        var info = signalfd_siginfo()
        let size = MemoryLayout<signalfd_siginfo>.size
        while true {
            let fd = signalFD
            guard case .done(let count) = Syscall.attempt("read(signalfd)", { read(fd, &info, size) }), count == size else { return }
            let signal = Int32(bitPattern: info.ssi_signo)
            signalCallbacks[signal]?(signal)
        }
    }

    private func drainWakeups() {
        var counter: UInt64 = 0
        let fd = wakeEvent.fd
        // The counter resets on read; a would-block means another turn already drained it.
        _ = Syscall.attempt("read(eventfd)") { read(fd, &counter, 8) }
        onWake?()
    }
}

/// The eventfd behind `Waker`s, closed when the last of the Reactor and its wakers goes.
final class EventFD: @unchecked Sendable {
    // Immutable after init; write(2) on an eventfd is safe from any thread.
    let fd: Int32
    init(fd: Int32) { self.fd = fd }
    deinit { Syscall.close(fd) }
}

/// Wakes a Reactor's loop from any thread (an eventfd write); `Reactor.onWake` runs on the loop.
public struct Waker: Sendable {
    let event: EventFD

    public func wake() {
        var one: UInt64 = 1
        let fd = event.fd
        // EAGAIN means the counter is saturated: the loop is already due to wake.
        _ = Syscall.attempt("write(eventfd)") { write(fd, &one, 8) }
    }
}
