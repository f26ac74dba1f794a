/// The multiaddr protocol table this node knows (libp2p-wire.md §1.4, from `protocols.csv`).
struct MultiaddrProtocol: Sendable {
    enum Size: Sendable {
        case none
        case fixed(Int)
        case lengthPrefixed
    }

    let name: String
    let code: UInt64
    let size: Size

    static let all: [MultiaddrProtocol] = [
        .init(name: "ip4", code: 4, size: .fixed(4)),
        .init(name: "tcp", code: 6, size: .fixed(2)),
        .init(name: "ip6", code: 41, size: .fixed(16)),
        .init(name: "ip6zone", code: 42, size: .lengthPrefixed),
        .init(name: "dns", code: 53, size: .lengthPrefixed),
        .init(name: "dns4", code: 54, size: .lengthPrefixed),
        .init(name: "dns6", code: 55, size: .lengthPrefixed),
        .init(name: "dnsaddr", code: 56, size: .lengthPrefixed),
        .init(name: "udp", code: 273, size: .fixed(2)),
        .init(name: "webrtc-direct", code: 280, size: .none),
        .init(name: "webrtc", code: 281, size: .none),
        .init(name: "p2p-circuit", code: 290, size: .none),
        .init(name: "p2p", code: 421, size: .lengthPrefixed),
        .init(name: "tls", code: 448, size: .none),
        .init(name: "noise", code: 454, size: .none),
        .init(name: "quic", code: 460, size: .none),
        .init(name: "quic-v1", code: 461, size: .none),
        .init(name: "webtransport", code: 465, size: .none),
        .init(name: "ws", code: 477, size: .none),
        .init(name: "wss", code: 478, size: .none),
    ]

    static func named(_ name: some StringProtocol) -> MultiaddrProtocol? {
        // `ipfs` is the old name of `p2p`; accepted on input, never printed.
        let canonical = name == "ipfs" ? "p2p" : String(name)
        return all.first { $0.name == canonical }
    }

    static func withCode(_ code: UInt64) -> MultiaddrProtocol? {
        all.first { $0.code == code }
    }
}
