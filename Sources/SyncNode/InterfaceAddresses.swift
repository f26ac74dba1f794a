#if canImport(Glibc)
import Glibc
#endif
import Wire

/// The IPv4 addresses of the machine's interfaces that are up, so that a node listening on
/// `0.0.0.0` can print the addresses a peer can actually dial.
enum InterfaceAddresses {
    /// One IPv4 address of an interface, with what `doctor` and mDNS need to know about it.
    struct Interface: Equatable {
        let name: String
        let address: String
        let netmask: String
        let up: Bool
        let multicast: Bool
        let loopback: Bool

        /// True when `host` is on this interface's subnet.
        func contains(_ host: String) -> Bool {
            guard let a = InterfaceAddresses.number(address), let m = InterfaceAddresses.number(netmask),
                  let h = InterfaceAddresses.number(host) else { return false }
            return a & m == h & m
        }
    }

    /// Every interface with an IPv4 address, up or not.
    static func interfaces() -> [Interface] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(list) }
        var result: [Interface] = []
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET) else { continue }
            let flags = entry.pointee.ifa_flags
            result.append(Interface(name: String(cString: entry.pointee.ifa_name), address: text(address),
                                    netmask: entry.pointee.ifa_netmask.map(text) ?? "255.255.255.255",
                                    up: flags & UInt32(IFF_UP) != 0 && flags & UInt32(IFF_RUNNING) != 0,
                                    multicast: flags & UInt32(IFF_MULTICAST) != 0, loopback: flags & UInt32(IFF_LOOPBACK) != 0))
        }
        return result
    }

    /// An interface with IPv6 up, for mDNS on ff02::fb (one membership per interface index).
    struct InterfaceV6: Equatable {
        let name: String
        let index: UInt32
        let up: Bool
        let multicast: Bool
        let loopback: Bool
    }

    /// Interfaces that have at least one IPv6 address (link-local counts), one entry each.
    static func ipv6Interfaces() -> [InterfaceV6] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(list) }
        var result: [InterfaceV6] = []
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET6) else { continue }
            let name = String(cString: entry.pointee.ifa_name)
            guard !result.contains(where: { $0.name == name }) else { continue }
            let flags = entry.pointee.ifa_flags
            result.append(InterfaceV6(name: name, index: if_nametoindex(entry.pointee.ifa_name),
                                      up: flags & UInt32(IFF_UP) != 0 && flags & UInt32(IFF_RUNNING) != 0,
                                      multicast: flags & UInt32(IFF_MULTICAST) != 0, loopback: flags & UInt32(IFF_LOOPBACK) != 0))
        }
        return result
    }

    /// The dotted quad of an AF_INET address, formatted where every other one is (`IPAddressText`).
    private static func text(_ address: UnsafeMutablePointer<sockaddr>) -> String {
        let inAddr = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
        // s_addr is in network byte order: its bytes in memory are the address's bytes.
        return withUnsafeBytes(of: inAddr.s_addr) { IPAddressText.formatIPv4($0) }
    }

    static func number(_ text: String) -> UInt32? {
        IPAddressText.parseIPv4(text).map { $0.reduce(0) { $0 << 8 | UInt32($1) } }
    }

    /// IPv6 addresses others can dial without a zone: global and unique-local ones of interfaces
    /// that are up (link-local fe80::/10 and loopback left out).
    static func ipv6() -> [String] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(list) }
        var result: [String] = []
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET6),
                  entry.pointee.ifa_flags & UInt32(IFF_UP) != 0, entry.pointee.ifa_flags & UInt32(IFF_LOOPBACK) == 0 else { continue }
            let bytes = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                withUnsafeBytes(of: pointer.pointee.sin6_addr) { Array($0) }
            }
            guard !(bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80) else { continue }
            let text = IPAddressText.formatIPv6(bytes)
            if !result.contains(text) { result.append(text) }
        }
        return result
    }

    static func ipv4() -> [String] {
        var result: [String] = []
        for i in interfaces() where i.up && !result.contains(i.address) { result.append(i.address) }
        // Loopback first: it is what a user on the same machine dials.
        return result.sorted { a, b in (a.hasPrefix("127.") ? 0 : 1, a) < (b.hasPrefix("127.") ? 0 : 1, b) }
    }
}
