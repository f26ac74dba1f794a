import Kademlia
import Wire

/// Peer IDs and addresses for Kademlia tests: sha2-256 multihashes of a repeated byte (valid
/// peer IDs without any key), and loopback-style TCP addresses.
enum KadTestPeers {
    static func id(_ n: UInt8) -> PeerID { try! PeerID(bytes: [0x12, 0x20] + [UInt8](repeating: n, count: 32)) }

    static func address(_ n: Int) -> Multiaddr {
        try! Multiaddr("/ip4/10.0.\(n / 256 % 256).\(n % 256)/tcp/\(4001 + n % 1000)")
    }

    static func peer(_ n: UInt8, addresses: Int = 1, connection: KadPeer.ConnectionType = .notConnected) -> KadPeer {
        KadPeer(id: id(n), addresses: (0..<addresses).map { address(Int(n) * 100 + $0) }, connection: connection)
    }
}
