import Reactor
import Swarm
import SyncStore
import Wire
import Yamux

/// Peers' clocks (issue 17): runs the `/p2p-sync/clock/1.0.0` exchange with every peer when it
/// is identified and every `interval`, keeps a filtered offset per peer, and answers the
/// peers' exchanges with our wall time and the count of their writes we refused.
///
/// From the offsets it decides whether our own clock is too far ahead: more than the engine's
/// `maxClockSkewMillis` ahead of the median of the connected peers' clocks. Then local writes
/// are refused (their versions would be refused by the peers, or would beat the writes the
/// peers make for minutes to come). A clock that is behind needs nothing: the hybrid clock
/// moves forward on every version it receives.
final class ClockService {
    /// The estimate of one peer's clock.
    struct PeerClock {
        /// The last `window` samples, oldest first.
        var samples: [ClockHandler.Sample] = []
        /// Our writes the peer says it refused for their clock, and its limit.
        var refusedOurWrites: UInt32 = 0
        var peerLimitMillis: UInt32 = 0
        var measuredAt: Instant

        /// The sample with the smallest round trip of the window: the least disturbed by queueing
        /// (NTP's clock filter, simplified).
        var best: ClockHandler.Sample? { samples.min { $0.roundTripNanoseconds < $1.roundTripNanoseconds } }
        /// The peer's clock minus ours, in milliseconds.
        var offsetMillis: Double? { best?.offsetMillis }
    }

    /// With the keep-alive ping: often enough to notice a clock stepped by hand within a minute.
    static let interval: Duration = .seconds(15)
    /// Samples kept per peer.
    static let window = 8

    private let loop: NodeLoop
    private let engine: SyncEngine
    private let logger: Logger
    private let peers: () -> [PeerConnection]
    private var timer: TimerID?
    private(set) var clocks: [PeerID: PeerClock] = [:]
    private(set) var exchanges = 0
    private(set) var failures = 0
    /// Whether we last found our clock too far ahead (logged when it changes).
    private var wasAhead = false

    init(loop: NodeLoop, engine: SyncEngine, logger: Logger, peers: @escaping () -> [PeerConnection]) {
        self.loop = loop
        self.engine = engine
        self.logger = logger
        self.peers = peers
        engine.localWriteCheck = { [unowned self] in self.localWriteRefusal() }
        schedule()
    }

    func stop() { if let timer { loop.cancel(timer) } }

    var limitMillis: UInt64 { engine.maxClockSkewMillis }

    private func schedule() {
        timer = loop.after(ClockService.interval) { [weak self] in
            guard let self else { return }
            for connection in self.peers() { self.exchange(with: connection) }
            self.schedule()
        }
    }

    /// A connection is identified: measure its clock at once (both sides do, each for itself).
    func identified(_ connection: PeerConnection) { exchange(with: connection) }

    func connectionClosed(_ connection: PeerConnection) {
        guard let peer = connection.remotePeer else { return }
        if !peers().contains(where: { $0 !== connection && $0.remotePeer == peer }) { clocks[peer] = nil }
    }

    private func exchange(with connection: PeerConnection) {
        // A peer that announced its protocols without ours (py-, go-libp2p) would only refuse.
        if let identified = connection.machine.identified, !identified.protocols.isEmpty,
           !identified.protocols.contains(ClockHandler.protocolID) { return }
        connection.open(ClockHandler.key, request: ClockHandler.Request(wallMillis: engine.wallMillis()))
    }

    /// A report from a connection's clock handler.
    func handle(_ event: ClockHandler.Event, stream: StreamID, on connection: PeerConnection) {
        guard let peer = connection.remotePeer else { return }
        switch event {
        case .asked:
            let refused = UInt32(clamping: engine.clockRefusals(from: peer.bytes))
            connection.send(ClockHandler.Answer(wallMillis: engine.wallMillis(), refusedWrites: refused,
                                                limitMillis: UInt32(clamping: limitMillis)), onStream: stream)
        case .measured(let sample):
            exchanges += 1
            var clock = clocks[peer] ?? PeerClock(measuredAt: loop.now)
            clock.samples.append(sample)
            if clock.samples.count > ClockService.window { clock.samples.removeFirst(clock.samples.count - ClockService.window) }
            if sample.refusedWrites > clock.refusedOurWrites {
                logger.warning("\(peer) refused \(sample.refusedWrites - clock.refusedOurWrites) more of our writes for their clock: its clock is \(ClockService.signed(-sample.offsetMillis)) behind ours (its limit \(ClockError.seconds(UInt64(sample.limitMillis)))); check this node's clock (timedatectl)")
            }
            clock.refusedOurWrites = sample.refusedWrites
            clock.peerLimitMillis = sample.limitMillis
            clock.measuredAt = loop.now
            clocks[peer] = clock
            noteAhead()
        case .failed(let why):
            failures += 1
            logger.debug("clock exchange with \(peer) failed: \(why)")
        }
    }

    // MARK: - Our clock

    /// How far our clock is ahead of the median of the connected peers' (negative: behind),
    /// in milliseconds; nil with no measured peer.
    var aheadMillis: Double? {
        let connected = Set(peers().compactMap(\.remotePeer))
        let offsets = clocks.filter { connected.contains($0.key) }.compactMap(\.value.offsetMillis).sorted()
        guard !offsets.isEmpty else { return nil }
        let mid = offsets.count / 2
        let median = offsets.count % 2 == 1 ? offsets[mid] : (offsets[mid - 1] + offsets[mid]) / 2
        return -median
    }

    var measuredPeerCount: Int {
        let connected = Set(peers().compactMap(\.remotePeer))
        return clocks.keys.filter { connected.contains($0) && clocks[$0]?.offsetMillis != nil }.count
    }

    /// Our clock is more than the limit ahead of our peers'.
    var isAhead: Bool { (aheadMillis ?? 0) > Double(limitMillis) }

    /// Why a local write is refused now, or nil.
    func localWriteRefusal() -> String? {
        guard let ahead = aheadMillis, ahead > Double(limitMillis) else { return nil }
        return "write refused: this node's clock is \(ClockService.signed(ahead)) ahead of its peers' (median of \(measuredPeerCount) peer(s); limit \(ClockError.seconds(limitMillis))), so the write's version would be refused by them or would undo their later writes; fix this machine's clock (is NTP on? `timedatectl status`, `timedatectl set-ntp true`) and write again. Reads and catch-up go on."
    }

    private func noteAhead() {
        let ahead = isAhead
        defer { wasAhead = ahead }
        guard ahead != wasAhead else { return }
        if ahead, let millis = aheadMillis {
            logger.warning("this node's clock is \(ClockService.signed(millis)) ahead of its peers' (limit \(ClockError.seconds(limitMillis))): local writes are refused until it is fixed (timedatectl)")
        } else {
            logger.info("this node's clock is back within \(ClockError.seconds(limitMillis)) of its peers': local writes accepted again")
        }
    }

    /// Peers that refused some of our writes for their clock.
    var peersRefusingOurWrites: [(peer: PeerID, clock: PeerClock)] {
        clocks.filter { $0.value.refusedOurWrites > 0 }.sorted { $0.key.description < $1.key.description }.map { ($0.key, $0.value) }
    }

    /// `+300.0 s`, `-0.4 s`.
    static func signed(_ millis: Double) -> String {
        let seconds = (millis / 100).rounded() / 10
        return (seconds >= 0 ? "+" : "") + "\(seconds) s"
    }
}
