import Gossipsub
import P2PCrypto
import PrivateNetwork
import Swarm
import TestSupport
import Wire
import Yamux

/// Two `Connection` machines wired back to back in memory, on a manual clock: bytes one side
/// sends are queued for the other and delivered by `run`, in chunks of `chunk` bytes.
struct ConnectionPair {
    enum Side: Int { case dialer = 0, listener = 1 }

    var machines: [Connection]
    var now: UInt64 = 1_000_000_000
    /// Bytes in flight towards each side.
    var inFlight: [[UInt8]] = [[], []]
    var events: [[ConnectionEvent]] = [[], []]
    var closed: [String?] = [nil, nil]
    var chunk = Int.max
    let identities: [LocalIdentity]

    static func identity(_ rng: inout SplitMix64) -> LocalIdentity {
        LocalIdentity(identity: try! Ed25519PrivateKey(seed: rng.bytes(32)),
                      noiseStatic: try! X25519KeyPair(privateKey: rng.bytes(32)), agentVersion: "p2p-sync/test")
    }

    static func registry() -> ProtocolRegistry {
        ProtocolRegistry([IdentifyHandler.registration(), IdentifyHandler.pushRegistration(), PingHandler.registration(),
                          PerfHandler.registration(), PubsubHandler.registration(), ReconcileHandler.registration(),
                          ClockHandler.registration()])
    }

    /// `privateNetwork`: each side's pnet layer (nil for an open side).
    init(seed: UInt64 = 1, registry: ProtocolRegistry = ConnectionPair.registry(), expectListener: Bool = true,
         privateNetwork: [PrivateNetworkLayer?] = [nil, nil]) {
        var rng = SplitMix64(seed: seed)
        identities = [ConnectionPair.identity(&rng), ConnectionPair.identity(&rng)]
        let dialerAddress = try! Multiaddr("/ip4/10.0.0.1/tcp/40001")
        let listenerAddress = try! Multiaddr("/ip4/10.0.0.2/tcp/4001")
        machines = [
            Connection(role: .dialer, local: identities[0], registry: registry,
                       ephemeral: try! X25519KeyPair(privateKey: rng.bytes(32)),
                       expectedPeer: expectListener ? identities[1].peerID : nil, remoteAddress: listenerAddress,
                       listenAddresses: [try! Multiaddr("/ip4/10.0.0.1/tcp/4001")], seed: rng.next(), now: now,
                       privateNetwork: privateNetwork[0]),
            Connection(role: .listener, local: identities[1], registry: registry,
                       ephemeral: try! X25519KeyPair(privateKey: rng.bytes(32)), expectedPeer: nil,
                       remoteAddress: dialerAddress, listenAddresses: [listenerAddress], seed: rng.next(), now: now,
                       privateNetwork: privateNetwork[1]),
        ]
    }

    mutating func absorb(_ output: ConnectionOutput, from side: Side) {
        inFlight[1 - side.rawValue] += output.send
        events[side.rawValue] += output.events
        if let reason = output.close, closed[side.rawValue] == nil { closed[side.rawValue] = reason }
    }

    /// Both transports are up.
    mutating func start() {
        for side in [Side.dialer, .listener] { absorb(machines[side.rawValue].start(now: now), from: side) }
    }

    /// Delivers bytes both ways until nothing is in flight (or a side closed).
    mutating func run(maxSteps: Int = 1_000_000) {
        for _ in 0..<maxSteps {
            var moved = false
            for side in [Side.dialer, .listener] where !inFlight[side.rawValue].isEmpty {
                let n = min(chunk, inFlight[side.rawValue].count)
                let bytes = Array(inFlight[side.rawValue].prefix(n))
                inFlight[side.rawValue].removeFirst(n)
                if closed[side.rawValue] != nil { continue }
                absorb(machines[side.rawValue].receivedBytes(bytes, now: now), from: side)
                moved = true
            }
            if !moved { return }
        }
    }

    /// Delivers everything in flight towards one side, once.
    mutating func deliver(to side: Side) {
        let bytes = inFlight[side.rawValue]
        inFlight[side.rawValue] = []
        guard !bytes.isEmpty, closed[side.rawValue] == nil else { return }
        absorb(machines[side.rawValue].receivedBytes(bytes, now: now), from: side)
    }

    /// Moves the clock and fires whatever timers are due.
    mutating func advance(byMilliseconds ms: UInt64) {
        now += ms * 1_000_000
        for side in [Side.dialer, .listener] {
            if let due = machines[side.rawValue].deadline, due <= now {
                absorb(machines[side.rawValue].timerFired(now: now), from: side)
            }
        }
    }

    mutating func open(_ side: Side, _ key: String, request: (any Sendable)? = nil) -> StreamID? {
        let (id, output) = machines[side.rawValue].open(key, request: request, now: now)
        absorb(output, from: side)
        return id
    }

    @discardableResult
    mutating func send(_ side: Side, _ command: any Sendable, to key: String) -> Bool {
        let (ok, output) = machines[side.rawValue].send(command, to: key, now: now)
        absorb(output, from: side)
        return ok
    }

    mutating func send(_ side: Side, _ command: any Sendable, onStream id: StreamID) {
        absorb(machines[side.rawValue].send(command, onStream: id, now: now), from: side)
    }

    /// Handler payloads of one type a side reported, in order.
    func payloads<T>(_ side: Side, _ type: T.Type) -> [T] {
        events[side.rawValue].compactMap { if case .handler(let e) = $0 { e.payload as? T } else { nil } }
    }

    func handlerEvents(_ side: Side, key: String) -> [HandlerEvent] {
        events[side.rawValue].compactMap { if case .handler(let e) = $0, e.key == key { e } else { nil } }
    }

    /// Starts both sides, runs until both are identified and their first keep-alive pings
    /// (sent at once) are answered.
    mutating func connect() {
        start()
        run()
        advance(byMilliseconds: 0)
        run()
    }

    func state(_ side: Side) -> PeerState { machines[side.rawValue].state }
}
