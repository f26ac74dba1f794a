#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import ControlProtocol
import CSyncShim
import SyncNode
import Wire

/// `p2p-syncd`: the node. Foreground by default, logging to stderr (DESIGN.md section 1).
@main
struct P2PSyncDaemon: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "p2p-syncd",
        abstract: "Run a p2p-sync node: a replicated key-value store that syncs with its peers over libp2p.",
        discussion: """
            Prints its peer ID, its listen addresses and its control socket, then serves until
            SIGINT or SIGTERM. Drive it with p2p-syncctl (add, get, del, list, watch, status, peers).

            Files live in the data directory: identity.key (the node's Ed25519 identity; its peer ID
            stays the same across restarts), store.db (SQLite), control.sock, p2p-syncd.lock,
            peers.json and dht-peers.json (peers to reconnect to after a restart).

            Examples:
              p2p-syncd                                   # port 4001, ~/.local/share/p2p-sync
              p2p-syncd --port 0 --data-dir /tmp/node-b   # a second node on the same machine
              p2p-syncd --detach                          # in the background; log in the data dir
              p2p-syncd --bootstrap /ip4/192.0.2.7/tcp/4001/p2p/12D3KooW...   # find the group beyond the LAN (DHT)
            """,
        version: ProductVersion.number
    )

    @Option(help: ArgumentHelp("TCP listen port (0: any free port).", valueName: "port"))
    var port: UInt16 = 4001

    @Option(name: .customLong("data-dir"),
            help: ArgumentHelp("Identity, store and control socket live here. Default: $P2P_SYNC_HOME, else ~/.local/share/p2p-sync.", valueName: "path"))
    var dataDir: String?

    @Option(help: ArgumentHelp("Control socket path. Default: <data-dir>/control.sock.", valueName: "path"))
    var control: String?

    @Option(name: .customLong("peer"),
            help: ArgumentHelp("Dial this peer at start and keep reconnecting (repeatable), e.g. /ip4/192.0.2.7/tcp/4001/p2p/12D3KooW...", valueName: "multiaddr"))
    var peers: [String] = []

    @Option(help: ArgumentHelp("Gossipsub topic that carries the data.", valueName: "name"))
    var topic: String = "p2p-sync"

    @Option(name: .customLong("log-level"),
            help: ArgumentHelp("error, warn, info, debug or trace, optionally per area: control=debug,info. Default: $P2P_SYNC_LOG, else info.", valueName: "spec"))
    var logLevel: String?

    @Option(name: .customLong("max-clock-skew"),
            help: ArgumentHelp("Clock limit in seconds (decimals allowed). A write whose version is further ahead of this node's clock when first seen is refused for good; while this node's clock is further ahead of the median of its peers', local writes (add, del) are refused: fix the clock (NTP, timedatectl).", valueName: "seconds"))
    var maxClockSkew: Double = 60

    @Option(name: .customLong("bootstrap"),
            help: ArgumentHelp("Join the DHT through this peer (repeatable), e.g. /ip4/192.0.2.7/tcp/4001/p2p/12D3KooW...: nodes of the same topic then find each other beyond the LAN.", valueName: "multiaddr"))
    var bootstrap: [String] = []

    @Option(name: .customLong("dht-mode"),
            help: ArgumentHelp("server (answer DHT queries), client (only ask), off (no DHT: peers only from mDNS, --peer and connect) or auto: server when listening on an address other than loopback.", valueName: "mode"))
    var dhtMode: String = "auto"

    @Option(name: .customLong("dht-protocol"),
            help: ArgumentHelp("Kademlia protocol ID; a private DHT uses its own, e.g. /p2p-sync/kad/1.0.0.", valueName: "id"))
    var dhtProtocol: String = "/ipfs/kad/1.0.0"

    @Flag(help: "Run in the background: pid file and log file in the data directory.")
    var detach = false

    @Option(name: .customLong("quic-port"),
            help: ArgumentHelp("UDP port of the QUIC v1 transport (/udp/PORT/quic-v1; 0: any free port). Default: the TCP port's number.", valueName: "port"))
    var quicPort: UInt16?

    @Flag(name: .customLong("no-quic"), help: "TCP only: no QUIC v1 listener on UDP, and QUIC addresses are not dialed.")
    var noQUIC = false

    @Flag(name: .customLong("no-tcp"), help: "QUIC only: no TCP listener, and TCP addresses are not dialed.")
    var noTCP = false

    @Option(name: .customLong("swarm-key"),
            help: ArgumentHelp("Private network key (go-libp2p's swarm.key format; make one with `p2p-syncctl keygen swarm-key`). Only nodes with the same key can connect; TCP only (QUIC is off). Default: <data-dir>/swarm.key if it exists.", valueName: "file"))
    var swarmKey: String?

    @Option(name: .customLong("join"),
            help: ArgumentHelp("Join a private group with the invite line an admin's `p2p-syncctl group invite` printed (the admin must also run `members add` with this node's peer ID). Remembered in <data-dir>/group.json.", valueName: "invite"))
    var join: String?

    @Flag(name: .customLong("no-mdns"),
          help: "Do not use mDNS: nothing is sent on UDP 5353 and LAN peers are not discovered (use --peer or connect).")
    var noMDNS = false

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        // Bulk transfers allocate and free buffers of 64 KiB to a few hundred KiB per read; with
        // glibc's default 128 KiB mmap threshold each became a fresh mmap, page faults and
        // munmap (perf record: over 20% of the receiver's time in the kernel's fault path).
        // Keeping them on the heap made one Noise+yamux stream upload 1.6x faster (252 to 406
        // MB/s, release, loopback). The real fix is fewer transient buffers; until then:
        _ = csync_mallopt(csync_m_mmap_threshold(), 64 << 20)
        _ = csync_mallopt(csync_m_trim_threshold(), 128 << 20)
        let environment = ProcessEnvironment.current
        do {
            let filter = try LogFilter(parsing: logLevel ?? environment["P2P_SYNC_LOG"] ?? "info")
            let dataDirectory = try DataDirectory.resolve(explicit: dataDir, environment: environment)
            var peerAddresses: [Multiaddr] = []
            for text in peers {
                do { peerAddresses.append(try Multiaddr(text)) } catch {
                    throw ValidationError("--peer \(text): \(error)")
                }
            }
            var bootstrapAddresses: [Multiaddr] = []
            for text in bootstrap {
                do { bootstrapAddresses.append(try Multiaddr(text)) } catch {
                    throw ValidationError("--bootstrap \(text): \(error)")
                }
                guard bootstrapAddresses.last?.peerID != nil else {
                    throw ValidationError("--bootstrap \(text): the address must end in /p2p/<peer ID>, so the DHT knows whom it reached")
                }
            }
            guard let mode = DHTModeSetting(rawValue: dhtMode) else {
                throw ValidationError("--dht-mode \(dhtMode): give server, client, off or auto")
            }
            guard dhtProtocol.hasPrefix("/"), dhtProtocol.utf8.count < 128, !dhtProtocol.contains("\n") else {
                throw ValidationError("--dht-protocol \(dhtProtocol): a protocol ID starts with / and fits one line, e.g. /ipfs/kad/1.0.0")
            }
            guard maxClockSkew.isFinite, maxClockSkew >= 0.001, maxClockSkew <= 86_400 else {
                throw ValidationError("--max-clock-skew \(maxClockSkew): give seconds between 0.001 and 86400 (default 60)")
            }
            var configuration = NodeConfiguration(dataDirectory: dataDirectory, controlPath: control,
                                                  port: port, topic: topic, logFilter: filter, peers: peerAddresses,
                                                  mdns: !noMDNS)
            configuration.maxClockSkewMillis = UInt64((maxClockSkew * 1000).rounded())
            configuration.bootstrap = bootstrapAddresses
            configuration.dhtMode = mode
            if mode == .off && !bootstrapAddresses.isEmpty {
                throw ValidationError("--bootstrap needs the DHT: drop --dht-mode off, or give the peer with --peer instead")
            }
            configuration.dhtProtocol = dhtProtocol
            if noQUIC && noTCP { throw ValidationError("--no-quic and --no-tcp together leave no transport: drop one") }
            configuration.quic = !noQUIC
            configuration.tcp = !noTCP
            configuration.quicPort = quicPort
            configuration.swarmKeyPath = swarmKey
            configuration.joinInvite = join
            if detach {
                try Detacher.detach(configuration: configuration)
                return
            }
            let node = try Node(configuration: configuration, sink: LogSink(filter: filter))
            if environment[Detacher.childMarker] != nil {
                Detacher.writePidFile(configuration.dataDirectory.pidPath)
            }
            for line in node.startupLines { print(line) }
            Console.flush()
            try node.run()
            if environment[Detacher.childMarker] != nil { unlink(configuration.dataDirectory.pidPath) }
        } catch let error as ConfigurationError {
            Self.fail("\(error)")
        } catch let error as DetachError {
            Self.fail("\(error)")
        }
    }

    static func fail(_ message: String) -> Never {
        Console.error("p2p-syncd: \(message)\n")
        Glibc.exit(1)
    }
}
