import Wire

/// The network a peer's address belongs to, for the routing table's diversity rule: an IPv4
/// /24 or an IPv6 /48. One operator with one block of addresses should not fill a bucket
/// (go-libp2p-kbucket's `peerdiversity` filter uses the same prefixes, 2 peers per group per
/// bucket). Loopback, private and link-local addresses have no group: on a LAN or in a test
/// every peer shares them, and an attacker gains nothing by claiming one it cannot be
/// reached on from outside.
public enum SubnetGroup: Hashable, Sendable, CustomStringConvertible {
    /// The first three bytes of an IPv4 address.
    case ip4(UInt8, UInt8, UInt8)
    /// The first six bytes of an IPv6 address.
    case ip6([UInt8])

    /// The group of the first IP component among `addresses` (the address the peer is judged
    /// by), or nil when that address is exempt or no address carries an IP (DNS names only).
    public init?(firstIPOf addresses: [Multiaddr]) {
        for address in addresses {
            for component in address.components {
                switch component {
                case .ip4(let b) where b.count == 4:
                    if Self.isExemptIPv4(b) { return nil }
                    self = .ip4(b[0], b[1], b[2])
                    return
                case .ip6(let b) where b.count == 16:
                    if Self.isExemptIPv6(b) { return nil }
                    self = .ip6(Array(b[0..<6]))
                    return
                default:
                    continue
                }
            }
        }
        return nil
    }

    /// 10/8, 172.16/12, 192.168/16 (RFC 1918), 127/8 (loopback), 169.254/16 (link-local),
    /// 100.64/10 (carrier-grade NAT, RFC 6598).
    static func isExemptIPv4(_ b: [UInt8]) -> Bool {
        switch (b[0], b[1]) {
        case (10, _), (127, _): true
        case (172, 16...31): true
        case (192, 168), (169, 254): true
        case (100, 64...127): true
        default: false
        }
    }

    /// ::1 (loopback), fc00::/7 (unique local), fe80::/10 (link-local).
    static func isExemptIPv6(_ b: [UInt8]) -> Bool {
        if b[0..<15].allSatisfy({ $0 == 0 }) && b[15] == 1 { return true }
        if b[0] & 0xfe == 0xfc { return true }
        if b[0] == 0xfe && b[1] & 0xc0 == 0x80 { return true }
        return false
    }

    public var description: String {
        switch self {
        case .ip4(let a, let b, let c): "\(a).\(b).\(c).0/24"
        case .ip6(let p):
            stride(from: 0, to: 6, by: 2).map { String(UInt16(p[$0]) << 8 | UInt16(p[$0 + 1]), radix: 16) }.joined(separator: ":") + "::/48"
        }
    }
}
