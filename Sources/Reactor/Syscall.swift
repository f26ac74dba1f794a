#if canImport(Glibc)
import Glibc
#endif

/// The result of a non-blocking call: done, or it would have blocked (EAGAIN/EWOULDBLOCK),
/// which on a non-blocking fd is an ordinary outcome and not an error.
enum IOResult<T> {
    case done(T)
    case wouldBlock
}

/// Every system call of the Reactor goes through here (after swift-nio's `System.swift`):
/// EINTR is retried, EAGAIN comes back as `.wouldBlock`, EBADF and EFAULT trap because they
/// mean the Reactor itself lost track of a descriptor or a buffer, and every other failure
/// is an error naming the call.
enum Syscall {
    /// What happened, for call sites that act on particular errnos (connect, bind, accept).
    enum Outcome<T> {
        case done(T)
        case wouldBlock
        case failed(Errno)
    }

    /// Runs `body` (which returns -1 and sets errno on failure) until it is not interrupted.
    @inline(__always)
    static func attempt<T: FixedWidthInteger & SignedInteger>(_ name: StaticString, _ body: () -> T) -> Outcome<T> {
        while true {
            let result = body()
            if result >= 0 { return .done(result) }
            let code = errno
            switch code {
            case EINTR:
                continue
            case EAGAIN, EWOULDBLOCK:
                return .wouldBlock
            case EBADF, EFAULT:
                preconditionFailure("\(name) failed with \(Errno(code)): the Reactor used a closed descriptor or a bad buffer")
            default:
                return .failed(Errno(code))
            }
        }
    }

    /// `attempt`, throwing every failure other than would-block.
    @inline(__always)
    static func io<T: FixedWidthInteger & SignedInteger>(_ name: StaticString, _ body: () -> T) throws(ReactorError) -> IOResult<T> {
        switch attempt(name, body) {
        case .done(let value): return .done(value)
        case .wouldBlock: return .wouldBlock
        case .failed(let errno): throw .syscall("\(name)", errno)
        }
    }

    /// `attempt` for calls that cannot block (socket, bind, epoll_ctl, ...): every failure throws.
    @inline(__always)
    @discardableResult
    static func call<T: FixedWidthInteger & SignedInteger>(_ name: StaticString, _ body: () -> T) throws(ReactorError) -> T {
        switch attempt(name, body) {
        case .done(let value): return value
        case .wouldBlock: throw .syscall("\(name)", Errno(EAGAIN))
        case .failed(let errno): throw .syscall("\(name)", errno)
        }
    }

    /// close(2), called exactly once per descriptor. Not retried on EINTR: Linux releases the
    /// descriptor before it can be interrupted, and a retry could close a reused number.
    static func close(_ fd: Int32) {
        if Glibc.close(fd) != 0, errno == EBADF {
            preconditionFailure("close(\(fd)) failed with EBADF: the Reactor closed a descriptor twice")
        }
        // Other close errors (EINTR, EIO from a network filesystem) leave nothing to do for a socket.
    }

    /// The pending socket error (SO_ERROR), which reading also clears.
    static func socketError(_ fd: Int32) -> Errno? {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        if case .failed(let errno) = attempt("getsockopt(SO_ERROR)", { getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) }) {
            return errno
        }
        return value == 0 ? nil : Errno(value)
    }

    static func setOption(_ fd: Int32, _ level: Int32, _ option: Int32, _ value: Int32, _ name: StaticString) throws(ReactorError) {
        var value = value
        try call(name) { setsockopt(fd, level, option, &value, socklen_t(MemoryLayout<Int32>.size)) }
    }
}
