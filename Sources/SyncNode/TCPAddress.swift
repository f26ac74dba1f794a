import Wire

/// The bridge between multiaddrs and the Reactor's "host:port" socket addresses, in one place.
enum TCPAddress {
    /// The host text and port a `/ip4|ip6/HOST/tcp/PORT[/p2p/ID]` address dials.
    static func endpoint(of address: Multiaddr) throws(PeerError) -> (host: String, port: UInt16) {
        var host: String?
        var port: UInt16?
        for component in address.components {
            switch component {
            case .ip4, .ip6: host = hostText(component)
            case .tcp(let p): port = p
            case .p2p: break
            default: throw .unsupportedAddress(address.description)
            }
        }
        guard let host, let port else { throw .unsupportedAddress(address.description) }
        return (host, port)
    }

    /// The host text and port a `/ip4|ip6/HOST/udp/PORT/quic-v1[/p2p/ID]` address dials.
    static func quicEndpoint(of address: Multiaddr) throws(PeerError) -> (host: String, port: UInt16) {
        var host: String?
        var port: UInt16?
        var quic = false
        for component in address.components {
            switch component {
            case .ip4, .ip6: host = hostText(component)
            case .udp(let p): port = p
            case .quicV1: quic = true
            case .p2p: break
            default: throw .unsupportedAddress(address.description)
            }
        }
        guard let host, let port, quic else { throw .unsupportedAddress(address.description) }
        return (host, port)
    }

    /// A QUIC v1 address (`.../udp/PORT/quic-v1`), as opposed to a TCP one.
    static func isQUIC(_ address: Multiaddr) -> Bool { address.components.contains(.quicV1) }

    /// The multiaddr of a socket address as the Reactor prints it ("1.2.3.4:5", "[::1]:5").
    static func multiaddr(socketText text: String, quic: Bool = false) -> Multiaddr? {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = text[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        let port = text[text.index(after: colon)...]
        let transport = quic ? "udp/\(port)/quic-v1" : "tcp/\(port)"
        return try? Multiaddr("/\(host.contains(":") ? "ip6" : "ip4")/\(host)/\(transport)")
    }

    /// An address on 127.0.0.0/8 or ::1: reachable only from the same host.
    static func isLoopback(_ address: Multiaddr) -> Bool {
        address.components.contains { component in
            switch component {
            case .ip4(let bytes): bytes.first == 127
            case .ip6(let bytes): bytes == [UInt8](repeating: 0, count: 15) + [1]
            default: false
            }
        }
    }

    /// "1.2.3.4" or "::1" for an ip4/ip6 component, formatted by the multiaddr codec.
    static func hostText(_ component: MultiaddrComponent) -> String? {
        switch component {
        case .ip4, .ip6: Multiaddr(components: [component]).description.split(separator: "/").last.map(String.init)
        default: nil
        }
    }
}
