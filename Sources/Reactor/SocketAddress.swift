#if canImport(Glibc)
import Glibc
#endif
import CSyncShim

/// An IPv4, IPv6 or Unix socket address, built from text and printed back as text.
enum SocketAddress {
    case v4(sockaddr_in)
    case v6(sockaddr_in6)
    case unix(String)

    /// `sun_path` is 108 bytes on Linux and needs a terminating NUL.
    static let maxUnixPathBytes = Int(csync_sun_path_size()) - 1

    /// Parses an IP literal: "0.0.0.0", "127.0.0.1", "::", "::1", "[::1]"; "localhost" means 127.0.0.1.
    /// Host names are not resolved: the Reactor never blocks on DNS.
    init(host: String, port: UInt16) throws(ReactorError) {
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

    init(unixPath path: String) throws(ReactorError) {
        guard path.utf8.count <= SocketAddress.maxUnixPathBytes else { throw .pathTooLong(path) }
        guard !path.isEmpty, !path.utf8.contains(0) else { throw .invalidAddress(path) }
        self = .unix(path)
    }

    /// Reads a kernel-filled `sockaddr_storage` (accept, recvfrom, getsockname).
    init?(storage: sockaddr_storage) {
        var storage = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            self = .v4(withUnsafeBytes(of: &storage) { $0.load(as: sockaddr_in.self) })
        case AF_INET6:
            self = .v6(withUnsafeBytes(of: &storage) { $0.load(as: sockaddr_in6.self) })
        default:
            return nil
        }
    }

    var family: Int32 {
        switch self {
        case .v4: AF_INET
        case .v6: AF_INET6
        case .unix: AF_UNIX
        }
    }

    var port: UInt16 {
        switch self {
        case .v4(let address): UInt16(bigEndian: address.sin_port)
        case .v6(let address): UInt16(bigEndian: address.sin6_port)
        case .unix: 0
        }
    }

    /// The address without the port: "127.0.0.1", "::1", or the Unix path.
    var host: String {
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
    var text: String {
        switch self {
        case .v4: "\(host):\(port)"
        case .v6: "[\(host)]:\(port)"
        case .unix(let path): path
        }
    }

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
