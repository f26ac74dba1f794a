import SyncStore
import Wire

/// What `p2p-syncd` was asked to do, resolved and checked (DESIGN.md section 1).
public struct NodeConfiguration: Sendable {
    public var dataDirectory: DataDirectory
    public var controlPath: String
    /// Host part of the TCP listen address: `0.0.0.0` (every IPv4 interface) by default.
    public var listenHost: String
    /// TCP listen port; 0 picks any free port.
    public var port: UInt16
    /// `--quic-port`: UDP port of the QUIC v1 transport; nil means the TCP port's number.
    public var quicPort: UInt16?
    /// QUIC v1 beside TCP (issue 13); `--no-quic` turns it off.
    public var quic = true
    /// TCP beside QUIC; `--no-tcp` turns it off (QUIC only).
    public var tcp = true
    public var topic: String
    public var logFilter: LogFilter
    /// `--peer`: addresses dialed at start and kept connected.
    public var peers: [Multiaddr]
    /// Find and be found by peers on the LAN (mDNS); `--no-mdns` turns it off.
    public var mdns: Bool
    /// `--max-clock-skew`: how far ahead of our clock a remote version may be, and how far
    /// ahead of our peers' our clock may be before local writes are refused (issue 17).
    public var maxClockSkewMillis: UInt64 = HybridClock.maxForwardDriftMillis
    /// `--bootstrap`: DHT peers dialed at start to join the DHT (issue 12).
    public var bootstrap: [Multiaddr] = []
    /// `--dht-mode`: whether we answer DHT queries (server) or only ask (client).
    public var dhtMode: DHTModeSetting = .auto
    /// `--dht-protocol`: the Kademlia protocol ID (a private DHT uses its own).
    public var dhtProtocol: String = DHTService.defaultProtocolID
    /// `--swarm-key`: a private network's key file; nil uses `<data-dir>/swarm.key` if it exists.
    public var swarmKeyPath: String?
    /// `--join`: a group invite (`p2p-syncctl group invite` on an admin) to join at start.
    public var joinInvite: String?

    public init(dataDirectory: DataDirectory, controlPath: String? = nil, listenHost: String = "0.0.0.0",
                port: UInt16 = 4001, topic: String = "p2p-sync", logFilter: LogFilter = LogFilter(), peers: [Multiaddr] = [],
                mdns: Bool = true) {
        self.mdns = mdns
        self.dataDirectory = dataDirectory
        self.controlPath = controlPath.map(DataDirectory.absolute) ?? dataDirectory.defaultControlPath
        self.listenHost = listenHost
        self.port = port
        self.topic = topic
        self.logFilter = logFilter
        self.peers = peers
    }
}

/// `--dht-mode`: auto is server when we listen on an address others can reach (not loopback
/// only), else client; a client asks the DHT but does not advertise or answer the protocol;
/// off leaves the DHT out entirely (peers come from mDNS, `--peer` and `connect` only).
public enum DHTModeSetting: String, Sendable, CaseIterable {
    case auto, server, client, off
}

/// The product's version, announced as `p2p-sync/<version>` (Identify agentVersion).
public enum ProductVersion {
    public static let number = "0.1.0"
    public static let agent = "p2p-sync/\(number)"
}
