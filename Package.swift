// swift-tools-version:6.0
// p2p-sync: a serverless key-value sync daemon that speaks libp2p.
// Dependencies point one way: Wire -> P2PCrypto -> protocol machines -> SyncNode,
// with the Reactor beside them and the executables on top (see docs/ARCHITECTURE.md).
import PackageDescription

let package = Package(
    name: "p2p-sync",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "p2p-syncd", targets: ["p2p-syncd"]),
        .executable(name: "p2p-syncctl", targets: ["p2p-syncctl"]),
        // The library modules the fuzz targets import; fuzz/Package.swift reaches them by path.
        .library(name: "P2PSyncModules", targets: ["Wire", "P2PCrypto", "Multistream", "Yamux", "Identify", "Gossipsub",
                                                   "MDNS", "Reconcile", "SyncStore", "JSON", "ControlProtocol", "SyncNode", "Swarm", "Noise",
                                                   "Kademlia", "LibP2PTLS", "QUIC", "PrivateNetwork", "Group"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
    ],
    targets: [
        // C lives only here: system libraries and one-line shims.
        .systemLibrary(name: "CSodium", path: "CSupport/CSodium", pkgConfig: "libsodium",
                       providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "CSQLite", path: "CSupport/CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CEditLine", path: "CSupport/CEditLine", pkgConfig: "libedit",
                       providers: [.apt(["libedit-dev"])]),
        // secp256k1 ECDSA verification for libp2p Secp256k1 identity keys (libp2p-wire.md §1.5).
        .systemLibrary(name: "CSecp256k1", path: "CSupport/CSecp256k1", pkgConfig: "libsecp256k1",
                       providers: [.apt(["libsecp256k1-dev"])]),
        // ECDSA P-256 and RSA verification (P2PCrypto); X.509 certificates and TLS 1.3 sessions (LibP2PTLS).
        .systemLibrary(name: "CGnuTLS", path: "CSupport/CGnuTLS", pkgConfig: "gnutls",
                       providers: [.apt(["libgnutls28-dev"])]),
        // QUIC v1 (issue 13): ngtcp2 with its GnuTLS crypto back end.
        .systemLibrary(name: "CNgtcp2", path: "CSupport/CNgtcp2", pkgConfig: "libngtcp2_crypto_gnutls",
                       providers: [.apt(["libngtcp2-dev", "libngtcp2-crypto-gnutls-dev"])]),
        .target(name: "CSyncShim", path: "CSupport/CSyncShim"),
        // Counts malloc calls by defining malloc: linked by the benchmark executable only.
        .target(name: "CMallocCounter", path: "CSupport/CMallocCounter"),

        // Wire codecs: varint, base58, multihash, multiaddr, key protobufs, peer IDs.
        .target(name: "Wire"),
        // The only module that touches libsodium, libsecp256k1 and GnuTLS's public-key API (LibP2PTLS owns its X.509 and TLS API).
        .target(name: "P2PCrypto", dependencies: ["CSodium", "CSecp256k1", "CGnuTLS", "Wire"]),
        // The libp2p TLS certificate (tls/tls.md) and GnuTLS session set-up for QUIC and /tls/1.0.0.
        .target(name: "LibP2PTLS", dependencies: ["CGnuTLS", "P2PCrypto", "Wire"]),
        // Protocol state machines (sans-I/O): bytes and time in, bytes and events out.
        .target(name: "Multistream", dependencies: ["Wire"]),
        .target(name: "Noise", dependencies: ["Wire", "P2PCrypto"]),
        .target(name: "Yamux", dependencies: [.product(name: "DequeModule", package: "swift-collections")]),
        .target(name: "Identify", dependencies: ["Wire"]),
        .target(name: "Ping"),
        .target(name: "Perf"),
        .target(name: "Gossipsub", dependencies: ["Wire", "P2PCrypto", .product(name: "DequeModule", package: "swift-collections")]),
        // Kademlia DHT (libp2p kad-dht): keyspace, messages, routing table, lookups, record store (sans-I/O).
        .target(name: "Kademlia", dependencies: ["Wire", "P2PCrypto"]),
        // QUIC v1 on ngtcp2 (sans-I/O: datagrams and time in, datagrams and stream events out).
        .target(name: "QUIC", dependencies: ["CNgtcp2", "CGnuTLS", "LibP2PTLS", "Wire", "P2PCrypto",
                                             .product(name: "DequeModule", package: "swift-collections")]),
        // mDNS: the DNS message codec and the libp2p / DNS-SD discovery machine (sans-I/O).
        .target(name: "MDNS", dependencies: ["Wire"]),
        // Private networks (libp2p pnet): the swarm key file and the XSalsa20 connection layer (sans-I/O).
        .target(name: "PrivateNetwork", dependencies: ["P2PCrypto"]),
        // Private groups: signed membership changes, the membership they give, invites, the audit chain (no I/O).
        .target(name: "Group", dependencies: ["Wire", "P2PCrypto", "SyncStore", "JSON"]),
        // Catch-up: range-based set reconciliation of two replicas (sans-I/O).
        .target(name: "Reconcile", dependencies: ["Wire", "SyncStore"]),
        // One sans-I/O connection (upgrade, Noise, yamux, streams) and a handler per protocol.
        .target(name: "Swarm", dependencies: ["Wire", "P2PCrypto", "Multistream", "Noise", "Yamux", "Identify", "Ping",
                                              "Perf", "Gossipsub", "Kademlia", "QUIC", "PrivateNetwork",
                                              .product(name: "DequeModule", package: "swift-collections")]),
        // epoll event loop, timers, ring buffers, sockets. Knows nothing of libp2p.
        .target(name: "Reactor", dependencies: ["CSyncShim"]),
        // SQLite store with the hybrid-logical-clock merge rule.
        .target(name: "SyncStore", dependencies: ["CSQLite"]),
        // A small strict JSON codec (control lines now, gossip payloads later).
        .target(name: "JSON"),
        // The control socket's JSON-lines protocol, shared by daemon and client.
        .target(name: "ControlProtocol", dependencies: ["JSON"]),
        // The node: glue between the Reactor, the machines, the store and the control socket.
        .target(name: "SyncNode", dependencies: ["Wire", "P2PCrypto", "Reactor", "SyncStore", "ControlProtocol",
                                                "Multistream", "Noise", "Swarm", "Yamux", "Identify", "Ping", "Perf", "Gossipsub", "JSON", "Reconcile", "MDNS",
                                                "Kademlia", "PrivateNetwork", "Group"]),

        .executableTarget(name: "p2p-syncd", dependencies: [
            "SyncNode", "ControlProtocol", "CSyncShim", "Wire", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "p2p-syncctl", dependencies: [
            "ControlProtocol", "CEditLine", "CSyncShim", "PrivateNetwork", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // The gossip simulation at scale (issue 11): `p2p-sync-sim gossip --routers 1000 ...`.
        .executableTarget(name: "p2p-sync-sim", dependencies: ["GossipSimulation", "DHTSimulation", "NetworkSimulation"], path: "perf/Sources/p2p-sync-sim"),
        .executableTarget(name: "p2p-sync-bench", dependencies: ["ControlProtocol", "JSON", "P2PCrypto", "Wire", "Noise", "Yamux", "Swarm", "Reactor", "Reconcile",
                                                               "SyncStore", "CMallocCounter"],
                          path: "perf/Sources/p2p-sync-bench"),

        // Test scaffolding shared by every test target: hex helpers, seeded RNG, temp dirs, process runner.
        .target(name: "TestSupport", dependencies: ["Wire"], path: "Tests/TestSupport"),
        // A simulated clock and network (latency, loss, reordering, partitions, nodes down),
        // generic over what travels on it: for simulations of many nodes in one process.
        .target(name: "NetworkSimulation", dependencies: ["Wire"], path: "Tests/NetworkSimulation"),
        // Gossipsub routers on the simulated network: propagation and copies per message at scale.
        .target(name: "GossipSimulation", dependencies: ["NetworkSimulation", "Gossipsub", "P2PCrypto", "Wire"], path: "Tests/GossipSimulation"),
        // Kademlia routing tables and lookups on a simulated WAN: recall and hops at scale, nodes gone.
        .target(name: "DHTSimulation", dependencies: ["NetworkSimulation", "Kademlia", "Wire", "P2PCrypto"], path: "Tests/DHTSimulation"),
        .testTarget(name: "WireTests", dependencies: ["Wire", "P2PCrypto", "TestSupport"]),
        .testTarget(name: "P2PCryptoTests", dependencies: ["P2PCrypto", "Wire", "TestSupport"],
                    // The generator of Tests/TestSupport/KeyVectors.swift (run by hand, not built).
                    exclude: ["Vectors/make_key_vectors.py"]),
        .testTarget(name: "LibP2PTLSTests", dependencies: ["LibP2PTLS", "CGnuTLS", "P2PCrypto", "Wire", "TestSupport"]),
        .testTarget(name: "MultistreamTests", dependencies: ["Multistream", "TestSupport"]),
        .testTarget(name: "GroupTests", dependencies: ["Group", "P2PCrypto", "SyncStore", "Wire", "JSON", "TestSupport"]),
        .testTarget(name: "PrivateNetworkTests", dependencies: ["PrivateNetwork", "P2PCrypto", "Wire", "TestSupport"]),
        .testTarget(name: "NoiseTests", dependencies: ["Noise", "P2PCrypto", "Wire", "TestSupport"]),
        .testTarget(name: "YamuxTests", dependencies: ["Yamux", "TestSupport"]),
        .testTarget(name: "IdentifyTests", dependencies: ["Identify", "Wire", "TestSupport"]),
        .testTarget(name: "PingTests", dependencies: ["Ping", "Perf", "TestSupport"]),
        .testTarget(name: "GossipsubTests", dependencies: ["Gossipsub", "Wire", "P2PCrypto", "TestSupport"]),
        .testTarget(name: "KademliaTests", dependencies: ["Kademlia", "Wire", "P2PCrypto", "TestSupport"]),
        .testTarget(name: "MDNSTests", dependencies: ["MDNS", "Wire", "TestSupport"]),
        .testTarget(name: "ReconcileTests", dependencies: ["Reconcile", "SyncStore", "P2PCrypto", "TestSupport"]),
        .testTarget(name: "SimulationTests", dependencies: ["NetworkSimulation", "GossipSimulation", "DHTSimulation", "Kademlia", "Gossipsub", "Reconcile", "SyncStore", "P2PCrypto", "Wire", "TestSupport"]),
        .testTarget(name: "SwarmTests", dependencies: ["Swarm", "Noise", "Multistream", "Yamux", "Gossipsub", "Identify",
                                                      "Kademlia", "QUIC", "P2PCrypto", "Wire", "TestSupport", "PrivateNetwork"]),
        .testTarget(name: "QUICTests", dependencies: ["QUIC", "LibP2PTLS", "CGnuTLS", "P2PCrypto", "Wire", "TestSupport"]),
        .testTarget(name: "ReactorTests", dependencies: ["Reactor", "TestSupport"]),
        .testTarget(name: "SyncStoreTests", dependencies: ["SyncStore", "TestSupport"]),
        .testTarget(name: "JSONTests", dependencies: ["JSON", "TestSupport"]),
        .testTarget(name: "ControlProtocolTests", dependencies: ["ControlProtocol", "TestSupport"]),
        .testTarget(name: "SyncNodeTests", dependencies: ["SyncNode", "SyncStore", "Reconcile", "P2PCrypto", "Group", "Gossipsub", "Wire", "TestSupport"]),
        // Whole nodes (NodeCore) on a simulated network and clock, reproducible from a seed.
        .testTarget(name: "NodeSimulationTests", dependencies: ["SyncNode", "SyncStore", "Reconcile", "Reactor", "P2PCrypto", "Wire", "TestSupport"]),
        .testTarget(name: "P2PSyncCtlTests", dependencies: ["p2p-syncctl", "JSON", "ControlProtocol"]),
        .testTarget(name: "EndToEndTests", dependencies: ["TestSupport", "ControlProtocol", "JSON", "Swarm", "Noise", "Yamux",
                                                         "Multistream", "P2PCrypto", "Wire", "p2p-syncd", "p2p-syncctl"]),
    ]
)
