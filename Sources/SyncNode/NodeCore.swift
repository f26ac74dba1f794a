import P2PCrypto
import Reactor
import Swarm
import SyncStore
import Wire

/// The part of a node that syncs: the swarm, replication, catch-up and the engine, wired
/// together on one loop. The daemon's `Node` adds sockets, the control server, mDNS and the
/// data dir around it; the whole-node simulation runs many of these on a simulated network.
final class NodeCore {
    let peerID: PeerID
    let engine: SyncEngine
    let random: NodeRandom
    let peers: PeerManager
    let gossip: GossipService
    let reconcile: ReconcileService
    let clock: ClockService
    let dht: DHTService
    /// A connection was identified (the daemon records its addresses in peers.json).
    var onConnected: ((PeerConnection) -> Void)?
    /// Handler events no service owns (ping and perf answers to control requests).
    var onRequestEvent: ((PeerConnection, HandlerEvent) -> Void)?

    /// - Parameter makeKey: X25519 keys for Noise (libsodium's generator unless a simulation
    ///   derives them from its seed).
    /// How this node takes part in the DHT: whether it answers queries, and the protocol ID.
    struct DHTSettings {
        /// False: no DHT at all (`--dht-mode off`).
        var enabled = true
        var serving = true
        var protocolID = DHTService.defaultProtocolID
    }

    init(identity: Ed25519PrivateKey, engine: SyncEngine, topic: String, loop: NodeLoop, dialer: StreamDialer,
         random: NodeRandom, sink: LogSink, dht settings: DHTSettings = DHTSettings(),
         wallNanos: @escaping () -> UInt64 = { WallClock.nowMillis() &* 1_000_000 },
         makeKey: @escaping () -> X25519KeyPair = { .generate() }) {
        peerID = identity.publicKey.peerID
        self.engine = engine
        self.random = random
        let local = LocalIdentity(identity: identity, noiseStatic: makeKey(), agentVersion: ProductVersion.agent)
        peers = PeerManager(loop: loop, dialer: dialer, local: local, registry: NodeCore.protocols(dht: settings), random: random,
                            logger: sink.logger("swarm"), makeEphemeral: makeKey)
        gossip = GossipService(topic: topic, identity: identity, loop: loop, engine: engine, logger: sink.logger("gossip"),
                               seed: random.next())
        reconcile = ReconcileService(loop: loop, engine: engine, logger: sink.logger("sync"), random: random,
                                     peers: { [unowned peers] in peers.connectedPeers })
        reconcile.topic = topic
        clock = ClockService(loop: loop, engine: engine, logger: sink.logger("clock"),
                             peers: { [unowned peers] in peers.connectedPeers })
        dht = DHTService(local: peerID, enabled: settings.enabled, serving: settings.serving, protocolID: settings.protocolID, topic: topic, loop: loop,
                         peers: peers, logger: sink.logger("dht"), random: random, wallNanos: wallNanos)
        gossip.onAnnounced = { [unowned reconcile] announced, connection in reconcile.fetch(announced, from: connection) }
        peers.onEvent = { [unowned self] event in self.route(event) }
    }

    /// Every protocol a node speaks: one registration each.
    static func protocols(dht: DHTSettings = DHTSettings()) -> ProtocolRegistry {
        var registrations = [
            IdentifyHandler.registration(),
            IdentifyHandler.pushRegistration(),
            PingHandler.registration(),
            PerfHandler.registration(),
            PubsubHandler.registration(),
            ReconcileHandler.registration(),
            ClockHandler.registration(),
        ]
        if dht.enabled { registrations.append(KadHandler.registration(protocolID: dht.protocolID, serving: dht.serving)) }
        return ProtocolRegistry(registrations)
    }

    /// Sends each swarm event to the service that owns it.
    private func route(_ event: SwarmEvent) {
        switch event {
        case .connected(let connection):
            reconcile.identified(connection)
            clock.identified(connection)
            dht.identified(connection)
            onConnected?(connection)
        case .closed(let connection, _):
            gossip.connectionClosed(connection)
            clock.connectionClosed(connection)
            dht.connectionClosed()
        case .handler(let connection, let e):
            switch e.payload {
            case let p as PubsubHandler.Event: gossip.handle(p, from: connection)
            case let r as ReconcileHandler.Event: reconcile.handle(r, stream: e.stream, on: connection)
            case let c as ClockHandler.Event: clock.handle(c, stream: e.stream, on: connection)
            case let k as KadHandler.Event: dht.handle(k, stream: e.stream, on: connection)
            default: onRequestEvent?(connection, e)
            }
        }
    }

    func stop() {
        gossip.stop()
        reconcile.stop()
        clock.stop()
        dht.stop()
        peers.closeAll()
    }
}
