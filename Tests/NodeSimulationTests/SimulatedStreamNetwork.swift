import Reactor
@testable import SyncNode
import Wire

/// Hosts on a simulated network of byte streams, on the simulated clock. A link behaves as TCP
/// does: bytes arrive in order after a latency drawn per chunk; a lost segment arrives late (a
/// retransmission) but never out of order; a partition stalls a link (bytes wait, and go on
/// after the heal unless a side gave up and closed meanwhile); a crashed host's streams end
/// with a FIN, as the kernel sends one for a killed process.
///
/// Why not `Tests/NetworkSimulation`: that one moves messages between routers it steps itself;
/// whole nodes need byte streams with TCP's ordering and a `NodeLoop` whose timers call back, so
/// this file models the stream and borrows nothing but the seeded generator.
final class SimulatedStreamNetwork {
    struct Conditions {
        /// One-way latency of a chunk, drawn uniformly.
        var latencyMilliseconds: ClosedRange<Double> = 1...30
        /// Chance that a chunk is lost once and retransmitted.
        var lossRate = 0.02
        var retransmitMilliseconds = 200.0
    }

    final class Host {
        let address: String
        var up = true
        /// A connection arrives (the node's listener).
        var accept: ((SimulatedChannel) -> Void)?
        var channels: [SimulatedChannel] = []
        init(address: String) { self.address = address }
    }

    let scheduler: SimulatedScheduler
    var conditions: Conditions
    private var random: SplitMix64
    private(set) var hosts: [String: Host] = [:]
    /// Unordered pairs of hosts that cannot reach each other.
    private var cuts: Set<[String]> = []
    private var nextPort: UInt16 = 40000
    private(set) var bytesDelivered = 0
    private(set) var retransmissions = 0

    init(scheduler: SimulatedScheduler, conditions: Conditions, seed: UInt64) {
        self.scheduler = scheduler
        self.conditions = conditions
        random = SplitMix64(seed: seed)
    }

    func addHost(_ address: String) -> Host {
        let host = Host(address: address)
        hosts[address] = host
        return host
    }

    func reachable(_ a: String, _ b: String) -> Bool { !cuts.contains([a, b].sorted()) }

    /// Cuts every link between the two groups.
    func partition(_ left: [String], _ right: [String]) {
        for a in left { for b in right { cuts.insert([a, b].sorted()) } }
    }

    /// Restores every link; stalled bytes move on.
    func heal() {
        cuts.removeAll()
        for host in hosts.values { for channel in host.channels { channel.resume() } }
    }

    /// The host crashes: its streams end (the peers read a FIN), it accepts nothing.
    func crash(_ address: String) {
        guard let host = hosts[address] else { return }
        host.up = false
        host.accept = nil
        for channel in host.channels { channel.abort() }
        host.channels.removeAll()
    }

    func latency() -> Duration {
        var ms = Double.random(in: conditions.latencyMilliseconds, using: &random)
        if Double.random(in: 0..<1, using: &random) < conditions.lossRate {
            ms += conditions.retransmitMilliseconds
            retransmissions += 1
        }
        return .microseconds(Int64(ms * 1000))
    }

    /// A dialer for one host: TCP connects to "ADDRESS:4001" style endpoints.
    func dialer(from address: String) -> SimulatedDialer { SimulatedDialer(network: self, from: address) }

    /// Opens a stream from `from` to `host`: the listener gets its end after one latency, the
    /// dialer its `onConnected` after a round trip; refused (host down, nobody listening) or
    /// timed out (partitioned) otherwise.
    func connect(from: String, to host: String) -> SimulatedChannel {
        nextPort += 1
        let client = SimulatedChannel(network: self, local: from, remote: host, remoteAddress: "\(host):4001")
        let server = SimulatedChannel(network: self, local: host, remote: from, remoteAddress: "\(from):\(nextPort)")
        client.peer = server
        server.peer = client
        guard let target = hosts[host], target.up, target.accept != nil else {
            scheduler.schedule(at: scheduler.now + latency() * 2) { client.deliverClose(.error(.connectionRefused)) }
            return client
        }
        guard reachable(from, host) else {
            scheduler.schedule(at: scheduler.now + .seconds(3)) { client.deliverClose(.error(Errno(110))) }  // ETIMEDOUT
            return client
        }
        hosts[from]?.channels.append(client)
        target.channels.append(server)
        let there = latency()
        scheduler.schedule(at: scheduler.now + there) { [weak target] in
            guard let target, target.up, let accept = target.accept else { return client.deliverClose(.error(.connectionRefused)) }
            accept(server)
        }
        scheduler.schedule(at: scheduler.now + there + latency()) { client.onConnected?() }
        return client
    }

    fileprivate func delivered(_ count: Int) { bytesDelivered += count }
}

final class SimulatedDialer: StreamDialer {
    let network: SimulatedStreamNetwork
    let from: String
    init(network: SimulatedStreamNetwork, from: String) {
        self.network = network
        self.from = from
    }

    func dial(host: String, port: UInt16) throws -> any ByteChannel { network.connect(from: from, to: host) }
}

/// One end of a simulated stream.
final class SimulatedChannel: ByteChannel {
    unowned let network: SimulatedStreamNetwork
    let local: String
    let remote: String
    let remoteAddress: String
    weak var peer: SimulatedChannel?
    var onConnected: (() -> Void)?
    var onRead: ((inout ByteRing) -> Void)?
    var onClose: ((CloseReason) -> Void)?
    private var open = true
    private var closeDelivered = false
    /// When the last chunk sent from this end arrives: later chunks never overtake it.
    private var lastArrival = Instant(nanoseconds: 0)
    /// What waits for a partition to heal, in order.
    private var stalled: [() -> Void] = []

    init(network: SimulatedStreamNetwork, local: String, remote: String, remoteAddress: String) {
        self.network = network
        self.local = local
        self.remote = remote
        self.remoteAddress = remoteAddress
    }

    func write(_ bytes: [UInt8]) {
        guard open, !bytes.isEmpty else { return }
        transmit { [weak self] in
            guard let peer = self?.peer, !peer.closeDelivered else { return }
            self?.network.delivered(bytes.count)
            var ring = ByteRing(capacity: bytes.count)
            _ = ring.append(bytes)
            peer.onRead?(&ring)
        }
    }

    func close() {
        guard open else { return }
        open = false
        transmit { [weak self] in self?.peer?.deliverClose(.endOfFile) }
        deliverCloseLater(.closedLocally)
    }

    func closeAfterFlush() { close() }

    /// The host died: the peer reads a FIN (it may be stalled by a partition), we hear nothing.
    func abort() {
        guard open else { return }
        open = false
        closeDelivered = true
        onRead = nil
        transmit { [weak self] in self?.peer?.deliverClose(.endOfFile) }
    }

    private func transmit(_ action: @escaping () -> Void) {
        guard network.reachable(local, remote) else {
            stalled.append(action)
            return
        }
        let at = max(network.scheduler.now + network.latency(), lastArrival)
        lastArrival = at
        network.scheduler.schedule(at: at, action)
    }

    /// A partition healed: what waited goes now, in order.
    func resume() {
        let waiting = stalled
        stalled.removeAll()
        for action in waiting { transmit(action) }
    }

    private func deliverCloseLater(_ reason: CloseReason) {
        network.scheduler.schedule(at: network.scheduler.now) { [weak self] in self?.deliverClose(reason) }
    }

    func deliverClose(_ reason: CloseReason) {
        guard !closeDelivered else { return }
        closeDelivered = true
        open = false
        let callback = onClose
        onClose = nil
        onRead = nil
        callback?(reason)
    }
}
