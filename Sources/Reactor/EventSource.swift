import CSyncShim

/// An owner of one registered descriptor: a connection, listener or datagram socket.
/// The Reactor calls it for the events epoll reported, after checking the registration
/// is still the one the event was meant for.
protocol EventSource: AnyObject {
    /// Handles `events` (EPOLLERR, EPOLLHUP, EPOLLOUT, EPOLLIN, ... bits) in the order
    /// errors and hang-ups, then writes, then reads.
    func handleEvents(_ events: UInt32)
    /// Closes the descriptor and reports onClose(.closedLocally) where there is one (`Reactor.shutdown()`).
    func closeForShutdown()
    /// Closes the descriptor without any callback: the Reactor is going away.
    func reactorDeinitializing()
}

/// The epoll bits, read once from the C shim.
enum EpollBits {
    static let input = csync_epollin()
    static let output = csync_epollout()
    static let error = csync_epollerr()
    static let hangUp = csync_epollhup()
    static let readHangUp = csync_epollrdhup()
}
