/// Why a `StreamConnection` closed; delivered exactly once through `onClose`.
public enum CloseReason: Equatable, Sendable {
    /// The peer closed its side and everything we had queued was sent (or nothing was queued).
    case endOfFile
    /// A socket error: a failed connect (ECONNREFUSED), a reset, a broken pipe.
    case error(Errno)
    /// `close()` or a finished `closeAfterFlush()`, or `Reactor.shutdown()`.
    case closedLocally
    /// The peer stopped reading and the queued output passed `maxPendingOutput`.
    case outputOverflow
}
