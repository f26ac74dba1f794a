import P2PCrypto
#if canImport(Glibc)
import Glibc
#endif
import QUIC
import Swarm
import TestSupport
import Wire
import Yamux

/// Two `Connection`s over QUIC in memory, on a manual clock: the dialer's datagrams go through
/// a `QUICEndpoint` on the listener's side (as a real UDP socket's would), with a one-way delay
/// of `delayMs` and no loss unless `drop` says so.
struct QUICConnectionPair {
    enum Side: Int { case dialer = 0, listener = 1 }

    var machines: [Connection?] = [nil, nil]
    var now: UInt64 = 1_000_000_000
    var inFlight: [[(due: UInt64, bytes: [UInt8])]] = [[], []]
    var events: [[ConnectionEvent]] = [[], []]
    var closed: [String?] = [nil, nil]
    var delayMs: UInt64 = 1
    /// Called for each datagram in flight: true drops it.
    var drop: (Side, [UInt8]) -> Bool = { _, _ in false }
    let identities: [LocalIdentity]
    let tls: [LibP2PQUICTLS]
    var endpoint: QUICEndpoint
    let registry: ProtocolRegistry
    let dialerAddress = QUICAddress(host: "10.0.0.1", port: 40001)!
    let listenerAddress = QUICAddress(host: "10.0.0.2", port: 4001)!
    var listenerSeed: UInt64

    init(seed: UInt64 = 1, registry: ProtocolRegistry = ConnectionPair.registry(), expectedPeer: PeerID? = nil,
         dialerTLS: LibP2PQUICTLS? = nil) {
        var rng = SplitMix64(seed: seed)
        identities = [ConnectionPair.identity(&rng), ConnectionPair.identity(&rng)]
        // The certificate hook checks validity against the real clock, so the certificates use it too.
        let clock: () -> Int64 = { Int64(time(nil)) }
        tls = [try! dialerTLS ?? LibP2PQUICTLS(identity: identities[0].identity, wallClock: clock),
               try! LibP2PQUICTLS(identity: identities[1].identity, wallClock: clock)]
        self.registry = registry
        var endpointRandom = SplitMix64(seed: rng.next())
        endpoint = QUICEndpoint(local: listenerAddress, tls: tls[1], random: { endpointRandom.bytes($0) })
        listenerSeed = rng.next()
        var dialRandom = SplitMix64(seed: rng.next())
        let quic = try! QUICConnection(dialing: listenerAddress, from: dialerAddress,
                                       expectedPeer: expectedPeer ?? identities[1].peerID, tls: tls[0], now: now,
                                       random: { dialRandom.bytes($0) })
        machines[0] = Connection(quic: quic, role: .dialer, local: identities[0], registry: registry,
                                 remoteAddress: try! Multiaddr("/ip4/10.0.0.2/udp/4001/quic-v1"),
                                 listenAddresses: [], seed: rng.next(), now: now)
    }

    mutating func absorb(_ output: ConnectionOutput, from side: Side) {
        for datagram in output.datagrams where !drop(side, datagram) {
            inFlight[1 - side.rawValue].append((now + delayMs * 1_000_000, datagram))
        }
        events[side.rawValue] += output.events
        if let reason = output.close, closed[side.rawValue] == nil { closed[side.rawValue] = reason }
    }

    mutating func start() { absorb(machines[0]!.start(now: now), from: .dialer) }

    /// Delivers one datagram to `side` (through the endpoint for the listener).
    mutating func deliver(_ bytes: [UInt8], to side: Side) {
        guard closed[side.rawValue] == nil else { return }
        if side == .listener {
            let decision = bytes.withUnsafeBytes { endpoint.route($0, from: dialerAddress, halfOpen: 0, now: now) }
            switch decision {
            case .accept(let quic):
                guard machines[1] == nil else { return }
                machines[1] = Connection(quic: quic, role: .listener, local: identities[1], registry: registry,
                                         remoteAddress: try! Multiaddr("/ip4/10.0.0.1/udp/40001/quic-v1"),
                                         listenAddresses: [], seed: listenerSeed, now: now)
                endpoint.register(quic, as: 1)
            case .deliver: break
            case .reply(let reply):
                inFlight[0].append((now + delayMs * 1_000_000, reply))
                return
            case .drop: return
            }
        }
        guard machines[side.rawValue] != nil else { return }
        absorb(bytes.withUnsafeBytes { machines[side.rawValue]!.receivedDatagram($0, now: now) }, from: side)
    }

    /// Runs the network and both clocks until nothing is in flight and no timer is due before
    /// `untilMs` from now.
    mutating func run(forMilliseconds limit: UInt64 = 2_000) {
        let end = now + limit * 1_000_000
        while now <= end {
            // The next thing to happen: a datagram arriving, or a timer.
            var next = UInt64.max
            for side in 0..<2 {
                if let first = inFlight[side].map(\.due).min() { next = min(next, first) }
                if closed[side] == nil, let due = machines[side]?.deadline { next = min(next, due) }
            }
            guard next != .max, next <= end else { break }
            now = max(now, next)
            for side in [Side.dialer, .listener] {
                while let index = inFlight[side.rawValue].firstIndex(where: { $0.due <= now }) {
                    let datagram = inFlight[side.rawValue].remove(at: index)
                    deliver(datagram.bytes, to: side)
                }
                if closed[side.rawValue] == nil, let due = machines[side.rawValue]?.deadline, due <= now {
                    absorb(machines[side.rawValue]!.timerFired(now: now), from: side)
                }
            }
        }
        now = max(now, end)
    }

    mutating func open(_ side: Side, _ key: String, request: (any Sendable)? = nil) -> StreamID? {
        let (id, output) = machines[side.rawValue]!.open(key, request: request, now: now)
        absorb(output, from: side)
        return id
    }

    func payloads<T>(_ side: Side, _ type: T.Type) -> [T] {
        events[side.rawValue].compactMap { if case .handler(let e) = $0 { e.payload as? T } else { nil } }
    }

    func state(_ side: Side) -> PeerState? { machines[side.rawValue]?.state }
}
