#if canImport(Glibc)
import Glibc
#endif
import CSyncShim

/// An IPv4, IPv6 or Unix socket address, built from text and printed back as text.
///
/// Public because datagram consumers (QUIC over `UDPSocket`) key their connection tables by
/// the peer's address and hand it back on every send: it stays the kernel's `sockaddr_in`/
/// `sockaddr_in6`, so a received address goes back to `sendmmsg` without text round trips.
/// Equality and hashing look at family, address, port and (IPv6) scope id only: the kernel
/// leaves `sin_zero` and the flow label out of what identifies a peer.
public enum SocketAddress: Hashable, Sendable, CustomStringConvertible {
    case v4(sockaddr_in)
    case v6(sockaddr_in6)
    case unix(String)

    /// `sun_path` is 108 bytes on Linux and needs a terminating NUL.
    static let maxUnixPathBytes = Int(csync_sun_path_size()) - 1

    /// Parses an IP literal: "0.0.0.0", "127.0.0.1", "::", "::1", "[::1]"; "localhost" means 127.0.0.1.
    /// Host names are not resolved: the Reactor never blocks on DNS.
    public init(host: String, port: UInt16) throws(ReactorError) {
        var text = host
        if text == "localhost" { text = "127.0.0.1" }
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        var v4 = sockaddr_in()
        if inet_pton(AF_INET, text, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = port.bigEndian
            self = .v4(v4)
            return
        }
        var v6 = sockaddr_in6()
        if inet_pton(AF_INET6, text, &v6.sin6_addr) == 1 {
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = port.bigEndian
            self = .v6(v6)
            return
        }
        throw .invalidAddress(host)
    }

    public init(unixPath path: String) throws(ReactorError) {
        guard path.utf8.count <= SocketAddress.maxUnixPathBytes else { throw .pathTooLong(path) }
        guard !path.isEmpty, !path.utf8.contains(0) else { throw .invalidAddress(path) }
        self = .unix(path)
    }

    /// Reads a kernel-filled `sockaddr_storage` (accept, recvfrom, getsockname).
    init?(storage: sockaddr_storage) {
        var storage = storage
        guard let address = withUnsafeBytes(of: &storage, { SocketAddress(kernel: $0) }) else { return nil }
        self = address
    }

    /// Reads an IPv4 or IPv6 address the kernel wrote into `raw` (a `sockaddr_storage`, or
    /// a `msg_name` buffer of recvmmsg), copying only the bytes of its family; nil for others.
    init?(kernel raw: UnsafeRawBufferPointer) {
        guard raw.count >= MemoryLayout<sa_family_t>.size else { return nil }
        switch Int32(raw.loadUnaligned(as: sa_family_t.self)) {
        case AF_INET where raw.count >= MemoryLayout<sockaddr_in>.size:
            self = .v4(raw.loadUnaligned(as: sockaddr_in.self))
        case AF_INET6 where raw.count >= MemoryLayout<sockaddr_in6>.size:
            self = .v6(raw.loadUnaligned(as: sockaddr_in6.self))
        default:
            return nil
        }
    }

    /// Writes an IPv4 or IPv6 address into `raw` (at least `sockaddr_in6`-sized) and returns its
    /// length, for the `msg_name` of a sendmmsg entry; nil for a Unix address.
    func write(into raw: UnsafeMutableRawPointer) -> socklen_t? {
        switch self {
        case .v4(let address):
            raw.storeBytes(of: address, as: sockaddr_in.self)
            return socklen_t(MemoryLayout<sockaddr_in>.size)
        case .v6(let address):
            raw.storeBytes(of: address, as: sockaddr_in6.self)
            return socklen_t(MemoryLayout<sockaddr_in6>.size)
        case .unix:
            return nil
        }
    }

    public static func == (lhs: SocketAddress, rhs: SocketAddress) -> Bool {
        switch (lhs, rhs) {
        case (.v4(let a), .v4(let b)):
            return a.sin_port == b.sin_port && a.sin_addr.s_addr == b.sin_addr.s_addr
        case (.v6(var a), .v6(var b)):
            return a.sin6_port == b.sin6_port && a.sin6_scope_id == b.sin6_scope_id
                && withUnsafeBytes(of: &a.sin6_addr) { x in withUnsafeBytes(of: &b.sin6_addr) { y in x.elementsEqual(y) } }
        case (.unix(let a), .unix(let b)):
            return a == b
        default:
            return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .v4(let address):
            hasher.combine(4 as UInt8)
            hasher.combine(address.sin_port)
            hasher.combine(address.sin_addr.s_addr)
        case .v6(var address):
            hasher.combine(6 as UInt8)
            hasher.combine(address.sin6_port)
            hasher.combine(address.sin6_scope_id)
            withUnsafeBytes(of: &address.sin6_addr) { hasher.combine(bytes: $0) }
        case .unix(let path):
            hasher.combine(path)
        }
    }

    /// The `AF_*` family: `AF_INET`, `AF_INET6` or `AF_UNIX`.
    public var family: Int32 {
        switch self {
        case .v4: AF_INET
        case .v6: AF_INET6
        case .unix: AF_UNIX
        }
    }

    /// The port (0 for Unix addresses).
    public var port: UInt16 {
        switch self {
        case .v4(let address): UInt16(bigEndian: address.sin_port)
        case .v6(let address): UInt16(bigEndian: address.sin6_port)
        case .unix: 0
        }
    }

    /// The address without the port: "127.0.0.1", "::1", or the Unix path.
    public var host: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        switch self {
        case .v4(var address):
            inet_ntop(AF_INET, &address.sin_addr, &buffer, socklen_t(buffer.count))
        case .v6(var address):
            inet_ntop(AF_INET6, &address.sin6_addr, &buffer, socklen_t(buffer.count))
        case .unix(let path):
            return path
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// "127.0.0.1:4001", "[::1]:4001", or the Unix path.
    public var text: String {
        switch self {
        case .v4: "\(host):\(port)"
        case .v6: "[\(host)]:\(port)"
        case .unix(let path): path
        }
    }

    public var description: String { text }

    /// Lends the address as the `sockaddr` pointer and length that bind/connect/sendto take.
    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws(ReactorError) -> R) throws(ReactorError) -> R {
        switch self {
        case .v4(var address):
            return try withUnsafeBytes(of: &address) { (raw) throws(ReactorError) -> R in
                try body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        case .v6(var address):
            return try withUnsafeBytes(of: &address) { (raw) throws(ReactorError) -> R in
                try body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(MemoryLayout<sockaddr_in6>.size))
            }
        case .unix(let path):
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { target in
                let bytes = Array(path.utf8)
                target.copyBytes(from: bytes)
                target[bytes.count] = 0
            }
            let length = socklen_t(MemoryLayout<sa_family_t>.size + path.utf8.count + 1)
            return try withUnsafeBytes(of: &address) { (raw) throws(ReactorError) -> R in
                try body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), length)
            }
        }
    }

    /// The address a socket is bound to (getsockname), for port-0 binds.
    static func local(of fd: Int32) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let outcome = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                Syscall.attempt("getsockname") { getsockname(fd, address, &length) }
            }
        }
        guard case .done = outcome else { return nil }
        return SocketAddress(storage: storage)
    }
}
