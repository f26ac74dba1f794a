#if canImport(Glibc)
import Glibc
#endif

/// The IPv4 addresses of the machine's interfaces that are up, so that a node listening on
/// `0.0.0.0` can print the addresses a peer can actually dial.
enum InterfaceAddresses {
    static func ipv4() -> [String] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(list) }
        var result: [String] = []
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET),
                  entry.pointee.ifa_flags & UInt32(IFF_UP) != 0 else { continue }
            var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                var inAddr = sin.pointee.sin_addr
                _ = inet_ntop(AF_INET, &inAddr, &text, socklen_t(text.count))
            }
            let s = text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            if !result.contains(s) { result.append(s) }
        }
        // Loopback first: it is what a user on the same machine dials.
        return result.sorted { a, b in (a.hasPrefix("127.") ? 0 : 1, a) < (b.hasPrefix("127.") ? 0 : 1, b) }
    }
}
