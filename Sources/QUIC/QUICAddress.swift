#if canImport(Glibc)
import Glibc
#endif

/// A UDP endpoint as ngtcp2 wants it (a `sockaddr`), made from an IP literal and a port.
/// QUIC keeps its own small address type so that the protocol machine needs nothing from the
/// Reactor (which knows nothing of libp2p); the node converts between the two.
public struct QUICAddress: Hashable, Sendable, CustomStringConvertible {
    /// The IP literal as given (`127.0.0.1`, `::1`).
    public let host: String
    public let port: UInt16
    public let isIPv6: Bool
    /// The `sockaddr_in` or `sockaddr_in6`, built once.
    private let storage: sockaddr_storage
    private let length: socklen_t

    /// Nil when `host` is not an IPv4 or IPv6 literal.
    public init?(host: String, port: UInt16) {
        var storage = sockaddr_storage()
        if withUnsafeMutableBytes(of: &storage, { Self.fill($0, AF_INET, host, port) }) {
            isIPv6 = false
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
        } else if withUnsafeMutableBytes(of: &storage, { Self.fill($0, AF_INET6, host, port) }) {
            isIPv6 = true
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        } else {
            return nil
        }
        self.storage = storage
        self.host = host
        self.port = port
    }

    /// Writes a `sockaddr_in` (AF_INET) or `sockaddr_in6` (AF_INET6) for `host` into `raw`.
    private static func fill(_ raw: UnsafeMutableRawBufferPointer, _ family: Int32, _ host: String, _ port: UInt16) -> Bool {
        if family == AF_INET {
            let address = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in.self)
            address.pointee.sin_family = sa_family_t(AF_INET)
            address.pointee.sin_port = port.bigEndian
            return inet_pton(AF_INET, host, &address.pointee.sin_addr) == 1
        }
        let address = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self)
        address.pointee.sin6_family = sa_family_t(AF_INET6)
        address.pointee.sin6_port = port.bigEndian
        return inet_pton(AF_INET6, host, &address.pointee.sin6_addr) == 1
    }

    public var description: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public static func == (a: QUICAddress, b: QUICAddress) -> Bool { a.host == b.host && a.port == b.port }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(host)
        hasher.combine(port)
    }

    /// Calls `body` with this address as a `sockaddr` and its length.
    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        withUnsafeBytes(of: storage) { raw in body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), length) }
    }
}
