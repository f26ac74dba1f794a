import JSON
import Reactor
import Reconcile
import Swarm
import SyncStore
import Wire
import Yamux

/// Catch-up (`/p2p-sync/reconcile/1.0.0`): runs a reconciliation when a connection we dialed
/// is identified, and with a random connected peer every `interval`, and answers the peer's.
/// The session machine decides what to say; this class moves its messages over the stream
/// and hands the entries it receives to the engine (same checks and merge rule as gossip).
final class ReconcileService {
    /// The last reconciliation with a peer, for `peers` and `status`.
    struct LastSync {
        var finishedAtMillis: UInt64
        var milliseconds: Double
        var entriesSent: Int
        var entriesReceived: Int
        var bytesSent: Int
        var bytesReceived: Int
        var rounds: Int
        var equal: Bool
        var error: String?
    }

    private struct Key: Hashable { let connection: Int; let stream: StreamID }

    private struct Running {
        var session: ReconcileSession
        let connection: PeerConnection
        let peer: PeerID
        let started: Instant
        var bytesSent = 0
        var bytesReceived = 0
    }

    static let interval: Duration = .seconds(30)
    /// Sessions the peers may run against us at once; more are refused (reset).
    static let maxResponders = 16

    private let loop: NodeLoop
    private let engine: SyncEngine
    private let logger: Logger
    private let peers: () -> [PeerConnection]
    private let random: NodeRandom
    private var running: [Key: Running] = [:]
    var runningCount: Int { running.count }
    private var timer: TimerID?
    private(set) var last: [PeerID: LastSync] = [:]
    private(set) var completed = 0
    private(set) var failed = 0

    init(loop: NodeLoop, engine: SyncEngine, logger: Logger, random: NodeRandom, peers: @escaping () -> [PeerConnection]) {
        self.loop = loop
        self.random = random
        self.engine = engine
        self.logger = logger
        self.peers = peers
        schedule()
    }

    func stop() { if let timer { loop.cancel(timer) } }

    private func schedule() {
        timer = loop.after( ReconcileService.interval) { [weak self] in
            guard let self else { return }
            let idle = self.peers().filter { c in !self.running.values.contains { $0.connection === c } }
            if let pick = self.random.element(of: idle) { self.start(with: pick) }
            self.schedule()
        }
    }

    /// A connection is identified: the side that dialed starts a reconciliation at once.
    func identified(_ connection: PeerConnection) {
        if connection.direction == .outbound { start(with: connection) }
    }

    /// Starts a reconciliation with the peer unless one is already running with it.
    @discardableResult
    func start(with connection: PeerConnection) -> Bool {
        guard !running.values.contains(where: { $0.peer == connection.remotePeer }) else { return false }
        return connection.open(ReconcileHandler.key) != nil
    }

    /// A report from a connection's reconcile handler.
    func handle(_ event: ReconcileHandler.Event, stream: StreamID, on connection: PeerConnection) {
        switch event {
        case .opened(let initiator): streamOpened(connection, stream, initiator: initiator)
        case .message(let bytes): frame(connection, stream, bytes)
        case .ended(let reason): streamEnded(connection, stream, reason: reason)
        }
    }

    private func streamOpened(_ connection: PeerConnection, _ id: StreamID, initiator: Bool) {
        guard let peer = connection.remotePeer else { return connection.send(ReconcileHandler.Command.abort, onStream: id) }
        if !initiator, running.values.filter({ $0.session.role == .responder }).count >= ReconcileService.maxResponders {
            logger.info("refusing a reconciliation from \(peer): \(ReconcileService.maxResponders) already running")
            return connection.send(ReconcileHandler.Command.abort, onStream: id)
        }
        let index: ReplicaIndex
        do { index = try engine.replicaIndex() } catch {
            logger.error("cannot reconcile with \(peer): \(error)")
            return connection.send(ReconcileHandler.Command.abort, onStream: id)
        }
        var state = Running(session: ReconcileSession(role: initiator ? .initiator : .responder, index: index),
                            connection: connection, peer: peer, started: loop.now)
        connection.syncing = true
        if initiator {
            let first = state.session.start().encoded()
            state.bytesSent += first.count
            connection.send(ReconcileHandler.Command.send(first), onStream: id)
        }
        running[Key(connection: connection.number, stream: id)] = state
        logger.debug("reconciling with \(peer) (\(initiator ? "we started" : "it started"); \(index.count) items here)")
    }

    private func frame(_ connection: PeerConnection, _ id: StreamID, _ bytes: [UInt8]) {
        let key = Key(connection: connection.number, stream: id)
        guard var state = running[key] else { return connection.send(ReconcileHandler.Command.abort, onStream: id) }
        state.bytesReceived += bytes.count + 4
        do {
            let message = try ReconcileMessage(decoding: bytes)
            let output = try state.session.receive(message) { [engine] keys in
                (try? engine.store.entries(forKeys: keys.map { String(decoding: $0, as: UTF8.self) })) ?? []
            }
            if !output.received.isEmpty {
                do { try engine.stageReconciled(output.received) } catch {
                    throw ReconcileError.protocolViolation("refused entries: \(error)")
                }
            }
            if let reply = output.send {
                let encoded = reply.encoded()
                state.bytesSent += encoded.count + 4
                connection.send(ReconcileHandler.Command.send(encoded), onStream: id)
            }
            running[key] = state
            if output.finished {
                connection.send(ReconcileHandler.Command.finish, onStream: id)
                end(key, error: nil)
            }
        } catch {
            running[key] = state
            logger.info("reconciliation with \(state.peer) cut off: \(error)")
            connection.send(ReconcileHandler.Command.abort, onStream: id)
            end(key, error: "\(error)")
        }
    }

    private func streamEnded(_ connection: PeerConnection, _ id: StreamID, reason: String?) {
        let key = Key(connection: connection.number, stream: id)
        guard let state = running[key] else { return }
        end(key, error: state.session.finished ? nil : (reason ?? "the peer closed the stream before the end"))
    }

    private func end(_ key: Key, error: String?) {
        guard let state = running.removeValue(forKey: key) else { return }
        let session = state.session
        let millis = loop.now.duration(since: state.started)
        last[state.peer] = LastSync(finishedAtMillis: WallClock.nowMillis(), milliseconds: millis.milliseconds,
                                    entriesSent: session.entriesSent, entriesReceived: session.entriesReceived,
                                    bytesSent: state.bytesSent, bytesReceived: state.bytesReceived, rounds: session.rounds,
                                    equal: error == nil && session.foundEqual, error: error)
        if error == nil { completed += 1 } else { failed += 1 }
        if !running.values.contains(where: { $0.connection === state.connection }) { state.connection.syncing = false }
        if error == nil {
            logger.debug("reconciled with \(state.peer): \(session.entriesSent) sent, \(session.entriesReceived) received, \(session.rounds) rounds")
        }
    }

}
