import Group
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
        /// A turn that sends the next streamed message is scheduled.
        var pumpScheduled = false
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

    /// Writes announced on the topic (too large for gossip) that are newer than ours, by key
    /// bytes: fetched by a session with a connection that announced them, tried again after
    /// each session ends while they are missing (the announcer may still be fetching them).
    private struct Wanted {
        var version: Version
        var sources: [PeerConnection]
        var attempts = 0
    }
    private var wanted: [[UInt8]: Wanted] = [:]
    /// The gossip topic, which proofs of writes must be messages of.
    var topic = ""
    /// Proofs read lately, for the next entries of a streamed range.
    private var recentProofs: [WriteProofRecord] = []
    var wantedCount: Int { wanted.count }
    private var wantedCheckScheduled = false
    /// Checks of a missing announced write before it is left to the periodic catch-up.
    static let maxFetchAttempts = 30
    /// Announced writes tracked at once; more are left to the periodic catch-up, so that a
    /// peer flooding announcements cannot make this node hold and chase them without bound.
    static let maxWanted = 1_000
    private(set) var announcedOverCap = 0
    private(set) var fetchedAnnounced = 0
    private(set) var abandonedAnnounced = 0

    init(loop: NodeLoop, engine: SyncEngine, logger: Logger, random: NodeRandom, peers: @escaping () -> [PeerConnection]) {
        self.loop = loop
        self.random = random
        self.engine = engine
        self.logger = logger
        self.peers = peers
        schedule()
        // The index is built at start, a slice per loop turn, so that neither the first
        // session nor the first `digest` holds the loop for the whole store (issue 15).
        engine.startIndexBuild()
        driveIndexBuild()
    }

    /// Streams opened before the index was ready: their frames wait here (a few at most:
    /// the initiator sends one and waits for our answer).
    private struct Waiting {
        let connection: PeerConnection
        let initiator: Bool
        var frames: [[UInt8]] = []
    }
    private var waiting: [Key: Waiting] = [:]
    private var drivingIndexBuild = false

    private func driveIndexBuild() {
        guard !drivingIndexBuild else { return }
        drivingIndexBuild = true
        loop.after(.zero) { [weak self] in
            guard let self else { return }
            self.drivingIndexBuild = false
            if !self.engine.continueIndexBuild() { self.driveIndexBuild() }
        }
    }

    /// Runs `body` with the replica index once it is built (at once when it is).
    func withReplicaIndex(_ body: @escaping (Result<ReplicaIndex, StoreError>) -> Void) {
        engine.withReplicaIndex(body)
        if !engine.indexReady { driveIndexBuild() }
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

    /// A peer announced `announced`, newer than what we hold: runs a session with the
    /// connection it came on (now, or when the one running with that peer ends).
    func fetch(_ announced: WriteAnnouncement, from connection: PeerConnection) {
        let key = Array(announced.key.utf8)
        if var known = wanted[key] {
            if announced.version > known.version { known.version = announced.version }
            if !known.sources.contains(where: { $0 === connection }) { known.sources.append(connection) }
            wanted[key] = known
        } else if wanted.count < ReconcileService.maxWanted {
            wanted[key] = Wanted(version: announced.version, sources: [connection])
        } else {
            announcedOverCap += 1
            if announcedOverCap == 1 || announcedOverCap % 1_000 == 0 {
                logger.warning("\(announcedOverCap) announced writes not tracked: \(ReconcileService.maxWanted) are wanted already; the periodic catch-up fetches them")
            }
            return
        }
        // Started on the next turn: this runs inside the connection's gossip event.
        loop.after(.zero) { [weak self] in
            guard let self else { return }
            if connection.machine.isClosed || !self.start(with: connection) { self.scheduleWantedCheck() }
        }
    }

    /// After a session: drops the wanted writes that arrived, and runs another session for
    /// those still missing, with an announcer first, else any idle peer; a little later each
    /// time, so that an announcer still fetching the write has it by then.
    private func scheduleWantedCheck() {
        guard !wanted.isEmpty, !wantedCheckScheduled else { return }
        wantedCheckScheduled = true
        let attempts = wanted.values.map(\.attempts).min() ?? 0
        loop.after(.milliseconds(50 * Int64(min(attempts + 1, 20)))) { [weak self] in
            guard let self else { return }
            self.wantedCheckScheduled = false
            self.checkWanted()
        }
    }

    private func checkWanted() {
        var starts: [PeerConnection] = []
        for (key, var item) in wanted {
            if let held = engine.heldVersion(of: String(decoding: key, as: UTF8.self)), held >= item.version {
                wanted[key] = nil
                fetchedAnnounced += 1
                continue
            }
            item.attempts += 1
            item.sources.removeAll { $0.machine.isClosed }
            if item.attempts > ReconcileService.maxFetchAttempts {
                logger.info("announced write of \(String(decoding: key, as: UTF8.self)) not fetched after \(item.attempts - 1) sessions; left to the periodic catch-up")
                wanted[key] = nil
                abandonedAnnounced += 1
                continue
            }
            wanted[key] = item
            let idle = item.sources.filter { c in !running.values.contains { $0.connection === c } }
            let pick = random.element(of: idle.isEmpty ? peers().filter { c in !running.values.contains { $0.connection === c } } : idle)
            if let pick, !starts.contains(where: { $0 === pick }) { starts.append(pick) }
        }
        let started = starts.filter { start(with: $0) }.count
        // Nothing started and nothing runs whose end would look again: look again later.
        if started == 0, running.isEmpty { scheduleWantedCheck() }
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
        let responders = running.values.filter({ $0.session.role == .responder }).count + waiting.values.filter { !$0.initiator }.count
        if !initiator, responders >= ReconcileService.maxResponders {
            logger.info("refusing a reconciliation from \(peer): \(ReconcileService.maxResponders) already running")
            return connection.send(ReconcileHandler.Command.abort, onStream: id)
        }
        let key = Key(connection: connection.number, stream: id)
        guard !engine.indexReady else { return start(key, connection, peer, initiator: initiator) }
        // Still building the index: the session starts when it is done, with the frames that came.
        waiting[key] = Waiting(connection: connection, initiator: initiator)
        connection.syncing = true
        withReplicaIndex { [weak self] _ in
            guard let self, let parked = self.waiting.removeValue(forKey: key) else { return }
            self.start(key, parked.connection, peer, initiator: parked.initiator)
            for frame in parked.frames { self.frame(parked.connection, id, frame) }
        }
    }

    private func start(_ key: Key, _ connection: PeerConnection, _ peer: PeerID, initiator: Bool) {
        let id = key.stream
        let index: ReplicaIndex
        do { index = try engine.replicaIndex() } catch {
            logger.error("cannot reconcile with \(peer): \(error)")
            if !running.values.contains(where: { $0.connection === connection }) { connection.syncing = false }
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
        running[key] = state
        logger.debug("reconciling with \(peer) (\(initiator ? "we started" : "it started"); \(index.count) items here)")
    }

    private func frame(_ connection: PeerConnection, _ id: StreamID, _ bytes: [UInt8]) {
        let key = Key(connection: connection.number, stream: id)
        // Taken out of the table while it changes: a copy left behind would make every change
        // to the session's queues copy them whole (at 1,000,000 keys, most of a catch-up).
        guard var state = running.removeValue(forKey: key) else {
            if waiting[key] != nil, waiting[key]!.frames.count < 4 { return waiting[key]!.frames.append(bytes) }
            waiting[key] = nil
            return connection.send(ReconcileHandler.Command.abort, onStream: id)
        }
        state.bytesReceived += bytes.count + 4
        do {
            let message = try ReconcileMessage(decoding: bytes)
            let output = try state.session.receive(message) { [engine] keys in
                (try? engine.store.entries(forKeys: keys.map { String(decoding: $0, as: UTF8.self) })) ?? []
            }
            if !output.received.isEmpty {
                var received = output.received
                var proofs: [WriteProofRecord] = []
                if engine.keepsProofs {
                    // In a group each entry must come with its author's signed batch.
                    let check = WriteProof.check(received, proofs: message.proofs, topic: topic)
                    received = check.proven
                    proofs = check.records
                    if !check.unproven.isEmpty { engine.refuseUnproven(check.unproven) }
                }
                do { try engine.stageReconciled(received, proofs: proofs) } catch {
                    throw ReconcileError.protocolViolation("refused entries: \(error)")
                }
            }
            if let reply = output.send { send(reply, &state, id) }
            running[key] = state
            if output.finished {
                connection.send(ReconcileHandler.Command.finish, onStream: id)
                end(key, error: nil)
            } else if output.streaming {
                schedulePump(key)
            }
        } catch {
            running[key] = state
            fail(key, error)
        }
    }

    private func send(_ message: ReconcileMessage, _ state: inout Running, _ id: StreamID) {
        var message = message
        if engine.keepsProofs, !message.entries.isEmpty { message.proofs = proofs(for: message.entries) }
        let encoded = message.encoded()
        state.bytesSent += encoded.count + 4
        state.connection.send(ReconcileHandler.Command.send(encoded), onStream: id)
    }

    /// Sends the session's streamed messages one per loop turn: each is one page read from
    /// the store, so no turn holds the loop for a whole range, and writes and other peers are
    /// served between pages. The peer's acks restart it when the window is full.
    private func schedulePump(_ key: Key) {
        guard running[key]?.pumpScheduled == false else { return }
        running[key]?.pumpScheduled = true
        loop.after(.zero) { [weak self] in self?.pumpStream(key) }
    }

    private func pumpStream(_ key: Key) {
        guard var state = running.removeValue(forKey: key) else { return }
        state.pumpScheduled = false
        do {
            let message = try state.session.nextStreamed { [engine] lower, upper, limit, maxBytes in
                try? engine.store.entries(from: lower, below: upper, limit: limit, maxBytes: maxBytes)
            }
            if let message { send(message, &state, key.stream) }
            running[key] = state
            if message != nil { schedulePump(key) }
        } catch {
            running[key] = state
            fail(key, error)
        }
    }

    /// The stored proofs of `entries` (docs/GROUPS.md): entries in key order mostly share
    /// batches, so the proofs found last are tried first. At most `maxProofBytes` per message;
    /// entries past that go without, are refused by the peer, and come again next session.
    private func proofs(for entries: [Entry]) -> [[UInt8]] {
        var chosen: [WriteProofRecord] = []
        var bytes = 0
        for entry in entries where !MembershipChange.isMembershipKey(entry.key) {
            if chosen.last?.covers(entry.version) == true || chosen.contains(where: { $0.covers(entry.version) }) { continue }
            var found = recentProofs.filter { $0.covers(entry.version) }
            if found.isEmpty {
                found = (try? engine.store.proofs(covering: entry.version)) ?? []
                recentProofs = Array((recentProofs + found).suffix(16))
            }
            for proof in found where !chosen.contains(proof) {
                chosen.append(proof)
                bytes += proof.bytes.count
            }
            if bytes > ReconcileService.maxProofBytes { break }
        }
        return chosen.map(\.bytes)
    }

    static let maxProofBytes = 4 << 20

    private func fail(_ key: Key, _ error: any Error) {
        guard let state = running[key] else { return }
        logger.info("reconciliation with \(state.peer) cut off: \(error)")
        state.connection.send(ReconcileHandler.Command.abort, onStream: key.stream)
        end(key, error: "\(error)")
    }

    private func streamEnded(_ connection: PeerConnection, _ id: StreamID, reason: String?) {
        let key = Key(connection: connection.number, stream: id)
        waiting[key] = nil
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
        scheduleWantedCheck()
        if error == nil {
            logger.debug("reconciled with \(state.peer): \(session.entriesSent) sent, \(session.entriesReceived) received, \(session.rounds) rounds")
        }
    }

}
