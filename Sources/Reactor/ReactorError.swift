/// What the Reactor throws. Each case carries the value a user needs to act on it.
public enum ReactorError: Error, Equatable, CustomStringConvertible {
    /// A system call failed: its name and the error ("epoll_ctl failed: EBADF (Bad file descriptor)").
    case syscall(String, Errno)
    /// bind() found the address taken; the address text, e.g. "0.0.0.0:4001" or a socket path.
    case addressInUse(String)
    /// A host that is not an IPv4 or IPv6 literal (or "localhost"), or a family the socket cannot reach.
    case invalidAddress(String)
    /// A Unix socket path longer than `sun_path` allows (107 bytes plus the terminating NUL).
    case pathTooLong(String)
    /// A datagram for the other IP family than the socket's: the destination and the socket's
    /// own address, e.g. ("[::1]:4001", "127.0.0.1:5000").
    case addressFamilyMismatch(destination: String, socket: String)
    /// A datagram over the largest UDP payload of its family: its size and the limit in bytes.
    case datagramTooLarge(Int, limit: Int)

    public var description: String {
        switch self {
        case .syscall(let call, let errno):
            return "\(call) failed: \(errno)"
        case .addressInUse(let address):
            return "\(address): address already in use (is another process listening there?)"
        case .invalidAddress(let address):
            return "invalid address '\(address)': expected an IPv4 or IPv6 literal such as 127.0.0.1 or ::1"
        case .pathTooLong(let path):
            return "Unix socket path is \(path.utf8.count) bytes, over the \(SocketAddress.maxUnixPathBytes)-byte limit: \(path)"
        case .addressFamilyMismatch(let destination, let socket):
            return "cannot send to \(destination) from the UDP socket \(socket): the families differ (send from a socket bound to an address of the destination's family)"
        case .datagramTooLarge(let size, let limit):
            return "datagram of \(size) bytes is over the \(limit)-byte UDP payload limit (split it before sending)"
        }
    }
}
