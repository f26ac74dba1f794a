import Synchronization
import JSON
import P2PCrypto
import Reconcile
import SyncStore
import Wire

/// A local write once it is on disk, and where it went.
public struct CommittedWrite {
    public let entry: Entry
    public let delivery: WriteDelivery
}

/// What happened to a local write on the network (`add` shows it).
public enum WriteDelivery: Equatable, Sendable {
    /// Sent to this many peers subscribed to the topic.
    case sent(peers: Int)
    /// Too large for a gossip message: announced to this many peers, which fetch it by catch-up.
    case announced(peers: Int)
    /// No peer subscribed to the topic yet: held and sent when one does.
    case queued
    /// Not replicated (no network service, e.g. in tests of the engine alone).
    case localOnly

    /// The peers it went to, sent or announced.
    var peers: Int? {
        switch self {
        case .sent(let n), .announced(let n): n
        case .queued, .localOnly: nil
        }
    }

    var text: String {
        switch self {
        case .sent: "sent"
        case .announced: "announced"
        case .queued: "queued"
        case .localOnly: "local"
        }
    }
}

/// Why writes received by reconciliation were refused.
enum ReconciledWriteError: Error, CustomStringConvertible {
    case invalid(String)
    var description: String { if case .invalid(let why) = self { return why }; return "" }
}

/// Where a change to the replica came from.
public enum ChangeSource: String, Sendable {
    case local
    case remote
}

/// The replica: the hybrid logical clock, the merge rule and the SQLite store (DESIGN.md section 3).
///
/// Local writes are staged and committed together once per loop turn (`commitStaged`), so a
/// burst of pipelined writes costs one fsync; each write's completion runs after its commit,
/// which is what lets the control server acknowledge a write only once it is on disk.
public final class SyncEngine {
    public typealias Completion = (Result<CommittedWrite, StoreError>) -> Void

    public let store: Store
    public let localOrigin: [UInt8]
    private var clock: HybridClock
    /// The wall clock (Unix milliseconds): `WallClock.nowMillis` in the daemon.
    let wallMillis: () -> UInt64
    private var staged: [(entry: Entry, completion: Completion)] = []
    /// Writes from peers that passed validation, applied with the next commit.
    private var stagedRemote: [Entry] = []
    private let logger: Logger

    /// Called for every entry that changed the replica, after it is committed.
    public var onChange: ((Entry, ChangeSource) -> Void)?
    /// Sends committed local writes to the network; one answer per write, in order.
    var publishLocal: (([Entry]) -> [WriteDelivery])?
    /// In a group (issue 14): signs the messages that will carry the local writes before the
    /// commit, so that their proofs are stored in the same transaction; `publish` sends them
    /// after it. Set by `GossipService.keepProofs`; nil in open mode.
    var signLocal: (([Entry]) -> (proofs: [WriteProofRecord], publish: () -> [WriteDelivery]))?
    /// Whether this node keeps and checks proofs of writes (a node in a group).
    var keepsProofs: Bool { signLocal != nil }
    /// Proofs of remote writes, stored with the next commit.
    private var stagedProofs: [WriteProofRecord] = []
    /// A remote write refused by the group's rules (for the audit log).
    var onRemoteRefused: ((Entry, String) -> Void)?

    public private(set) var localWrites = 0
    public private(set) var commits = 0
    /// The monotonic clock in nanoseconds (the reactor's), for timing commits; nil: untimed.
    var monotonicNanos: (() -> UInt64)?
    /// The slowest commits of 10 ms or more (at most 8, slowest first), split into their parts:
    /// what made a loop turn's before-sleep phase long (issue 15).
    private(set) var slowCommits: [CommitTiming] = []
    /// Remote writes that changed the replica, and those that lost to a newer version.
    public private(set) var remoteApplied = 0
    public private(set) var remoteSuperseded = 0
    /// The reconcile index: built from the store once, then kept up to date by every commit
    /// (issue 15: rebuilding it after each write cost 1.6 s at a million keys).
    private var reconcileIndex: ReplicaIndex?
    /// The index while it is built a slice at a time (`continueIndexBuild`), and the last key
    /// read into it. Commits during the build go into it too: a key already read gets its new
    /// version, one not read yet is read again later with the same version (no change).
    private var partialIndex: ReplicaIndex?
    private var indexBuiltUpTo: [UInt8]?
    private var indexWaiters: [(Result<ReplicaIndex, StoreError>) -> Void] = []
    /// Keys read per slice of the build: about 6 ms of SQLite and SHA-256 here.
    static let indexSlice = 2_500
    /// The index is complete (not being built or not started).
    var indexReady: Bool { reconcileIndex != nil }

    /// A remote version more than this far ahead of our wall clock is refused, and a node this
    /// far ahead of its peers' median clock refuses local writes (`--max-clock-skew`).
    public let maxClockSkewMillis: UInt64
    /// Asked before every local write: a reason to refuse it (our clock is too far ahead of
    /// our peers'), or nil. Set by the `ClockService`.
    var localWriteCheck: (() -> String?)?
    /// Remote writes refused for their clock, remembered so that they stay refused once the
    /// wall clock catches up with their version (issue 17; docs/PROTOCOL.md, "Clock rule").
    private var refused: Set<RefusedWrite> = []
    private var refusedOrder: [RefusedWrite] = []
    /// Refused versions that came back once they were no longer ahead, and stayed refused.
    private var keptRefused: Set<RefusedWrite> = []
    /// Distinct remote writes refused for their clock, in all and by origin (peer-ID bytes).
    public private(set) var clockRefusals = 0
    public private(set) var clockRefusalsByOrigin: [[UInt8]: Int] = [:]
    /// Refused writes seen again when their version was no longer too far ahead: kept refused,
    /// each logged once at WARN (a write made before ours never replaces it silently).
    public private(set) var keptRefusedCount = 0
    /// Local writes refused because this node's clock is ahead of its peers'.
    public private(set) var localClockRefusals = 0
    /// Remembered refusals beyond this many are forgotten in memory, oldest first (about 100
    /// bytes each); the store keeps them all and the newest come back at start.
    static let maxRememberedRefusals = 100_000

    /// One remote write, named by key and version.
    struct RefusedWrite: Hashable {
        let key: String
        let version: Version
    }

    public init(store: Store, localOrigin: [UInt8], logger: Logger, wallMillis: @escaping () -> UInt64,
                maxClockSkewMillis: UInt64 = HybridClock.maxForwardDriftMillis) throws(StoreError) {
        self.store = store
        self.localOrigin = localOrigin
        self.wallMillis = wallMillis
        self.maxClockSkewMillis = maxClockSkewMillis
        self.logger = logger
        // The clock starts above every version on disk, so a restart never reuses a version.
        clock = HybridClock(lastIssued: try store.greatestHLC())
        // Refusals outlive restarts: a write refused once stays refused (issue 17).
        for write in try store.refusedWrites().suffix(SyncEngine.maxRememberedRefusals) {
            remember(RefusedWrite(key: write.key, version: write.version))
        }
    }

    public var hasStagedWrites: Bool { !staged.isEmpty || !stagedRemote.isEmpty || !stagedProofs.isEmpty }

    /// Stages a put; `completion` runs once it is committed (or failed). Invalid input fails at once.
    public func stagePut(key: String, value: String, completion: @escaping Completion) {
        if refuseForClock(completion) || refuseForKey(key, completion) { return }
        do throws(StoreError) {
            try EntryLimits.validate(key: key)
            try EntryLimits.validate(value: value)
        } catch {
            completion(.failure(error))
            return
        }
        // A write too large for one gossip message is announced and fetched by catch-up
        // (GossipService.publish), so any valid value is accepted here.
        stage(Entry(key: key, value: value, version: nextVersion()), completion)
    }

    /// Stages several puts and deletes (nil values) for one commit: all are checked first, and
    /// one that is invalid fails the batch (naming its index) with nothing staged. They are
    /// committed in one transaction, all or none; `completion` runs once, with each write's
    /// result in order.
    public func stageBatch(_ writes: [(key: String, value: String?)],
                           completion: @escaping (Result<[CommittedWrite], StoreError>) -> Void) {
        if refuseForClock({ result in if case .failure(let error) = result { completion(.failure(error)) } }) { return }
        var entries: [Entry] = []
        entries.reserveCapacity(writes.count)
        for (index, write) in writes.enumerated() {
            do throws(StoreError) {
                try EntryLimits.validate(key: write.key)
                if let value = write.value { try EntryLimits.validate(value: value) }
                if let why = localKeyCheck?(write.key) { throw .notPermitted(why) }
            } catch {
                completion(.failure(.invalidValue("entry \(index) (\(write.key.prefix(64))): \(error)")))
                return
            }
            entries.append(Entry(key: write.key, value: write.value, version: nextVersion()))
        }
        guard !entries.isEmpty else { return completion(.success([])) }
        // One commit holds them all (staging happens within this loop turn), so the results
        // arrive together; collect them, then answer once.
        var results: [CommittedWrite] = []
        results.reserveCapacity(entries.count)
        var failure: StoreError?
        let total = entries.count
        var seen = 0
        for entry in entries {
            stage(entry) { result in
                seen += 1
                switch result {
                case .success(let write): results.append(write)
                case .failure(let error): failure = failure ?? error
                }
                guard seen == total else { return }
                if let failure { completion(.failure(failure)) } else { completion(.success(results)) }
            }
        }
    }

    /// Stages a delete (a tombstone, so that older puts cannot bring the key back).
    public func stageDelete(key: String, completion: @escaping Completion) {
        if refuseForClock(completion) || refuseForKey(key, completion) { return }
        do throws(StoreError) {
            try EntryLimits.validate(key: key)
        } catch {
            completion(.failure(error))
            return
        }
        stage(Entry(key: key, value: nil, version: nextVersion()), completion)
    }

    /// Set in a private group (GroupService): why this node may not write `key`, or nil.
    public var localKeyCheck: ((String) -> String?)?
    /// Set in a private group: splits writes from peers into those to stage and those refused
    /// (not by a member who may write at that version, or a membership change that does not
    /// verify). It sees every remote write before the clock rule does.
    public var remoteWriteGate: (([Entry]) -> (accepted: [Entry], refused: [(entry: Entry, reason: String)]))?
    public private(set) var groupRefusals = 0

    private func refuseForKey(_ key: String, _ completion: Completion) -> Bool {
        guard let why = localKeyCheck?(key) else { return false }
        completion(.failure(.notPermitted(why)))
        return true
    }

    /// Stages a write this node made with a version it took from `makeVersion` (a signed
    /// membership change); it is committed and published like any local write.
    func stageLocal(_ entry: Entry, completion: @escaping Completion) {
        stage(entry, completion)
    }

    /// A fresh version of this node's clock.
    func makeVersion() -> Version { nextVersion() }

    /// A local write is refused while our clock is too far ahead of our peers': its version
    /// would be refused by them, or would beat writes they make later.
    private func refuseForClock(_ completion: Completion) -> Bool {
        guard let why = localWriteCheck?() else { return false }
        localClockRefusals += 1
        completion(.failure(.clockAhead(why)))
        return true
    }

    /// Whether `version` breaks the clock rule (below) by our clock now: an announced write
    /// that does is not fetched.
    func isTooFarAhead(_ version: Version) -> Bool {
        HybridClock.isTooFarAhead(version.hlc, wallMillis: wallMillis(), limitMillis: maxClockSkewMillis)
    }

    /// Checks writes received from a peer against the clock rule and stages the others for the
    /// next commit; returns the refused ones with why.
    ///
    /// The rule (docs/PROTOCOL.md, "Clock rule"): a version more than `maxClockSkewMillis`
    /// ahead of our wall clock when we first see it is refused, and remembered so that it stays
    /// refused later, when our clock has caught up with it. Accepting it then would let a write
    /// made minutes earlier beat every write made here since; keeping it out costs a difference
    /// between replicas on that key, which both sides show (`status`, `doctor`) until either
    /// side writes the key again.
    @discardableResult
    func stageRemote(_ given: [Entry], proof: WriteProofRecord? = nil) -> [(entry: Entry, error: RemoteWriteRefusal)] {
        let refusals = stageRemoteChecked(given)
        if let proof, keepsProofs, refusals.count < given.count { stagedProofs.append(proof) }
        return refusals
    }

    /// Keeps the proof of writes this node does not stage now (an announcement of a large
    /// write, fetched later by catch-up), so that it can serve them with their proof.
    func stageProof(_ proof: WriteProofRecord) {
        if keepsProofs { stagedProofs.append(proof) }
    }

    /// Entries received by catch-up without a proof from their author (in a group): refused,
    /// counted and reported.
    func refuseUnproven(_ list: [(entry: Entry, reason: String)]) {
        groupRefusals += list.count
        for (entry, reason) in list { onRemoteRefused?(entry, reason) }
    }

    private func stageRemoteChecked(_ given: [Entry]) -> [(entry: Entry, error: RemoteWriteRefusal)] {
        let wall = wallMillis()
        var accepted: [Entry] = []
        var refusals: [(entry: Entry, error: RemoteWriteRefusal)] = []
        var entries = given
        if let gate = remoteWriteGate {
            let split = gate(given)
            entries = split.accepted
            groupRefusals += split.refused.count
            refusals += split.refused.map { ($0.entry, .group($0.reason)) }
        }
        var newlyRefused: [RefusedWrite] = []
        accepted.reserveCapacity(entries.count)
        for entry in entries {
            // Most nodes have refused nothing: then no write needs its name hashed (a String
            // key and a version per entry was a visible part of a catch-up of a million keys).
            if !refused.isEmpty, refused.contains(RefusedWrite(key: entry.key, version: entry.version)) {
                let name = RefusedWrite(key: entry.key, version: entry.version)
                if !HybridClock.isTooFarAhead(entry.version.hlc, wallMillis: wall, limitMillis: maxClockSkewMillis),
                   keptRefused.insert(name).inserted {
                    keptRefusedCount += 1
                    logger.warning("write of \(entry.key) by \(Entry.originText(entry.version.origin)) (version \(entry.version.hlc)) is no longer ahead of this node's clock but stays refused: it was made while its node's clock was too far ahead, so it would undo writes made here since")
                }
                refusals.append((entry, .clock(ClockError.tooFarAhead(remote: entry.version.hlc, localWallMillis: wall, limitMillis: maxClockSkewMillis))))
                continue
            }
            do {
                try clock.observe(entry.version.hlc, wallMillis: wall, limitMillis: maxClockSkewMillis)
                accepted.append(entry)
            } catch {
                let name = RefusedWrite(key: entry.key, version: entry.version)
                remember(name)
                newlyRefused.append(name)
                clockRefusals += 1
                clockRefusalsByOrigin[entry.version.origin, default: 0] += 1
                logger.warning("write of \(entry.key) by \(Entry.originText(entry.version.origin)) refused for good: \(error)")
                refusals.append((entry, .clock(error)))
            }
        }
        stagedRemote += accepted
        if !newlyRefused.isEmpty {
            do { try store.recordRefused(newlyRefused.map { ($0.key, $0.version) }) } catch {
                logger.error("could not record \(newlyRefused.count) refused writes on disk (they stay refused until a restart): \(error)")
            }
        }
        return refusals
    }

    private func remember(_ name: RefusedWrite) {
        refused.insert(name)
        refusedOrder.append(name)
        if refusedOrder.count > SyncEngine.maxRememberedRefusals {
            let dropped = refusedOrder.count - SyncEngine.maxRememberedRefusals / 2
            for old in refusedOrder.prefix(dropped) { refused.remove(old) }
            refusedOrder.removeFirst(dropped)
        }
    }

    /// Remote writes we refused for their clock whose origin is `origin`.
    public func clockRefusals(from origin: [UInt8]) -> Int { clockRefusalsByOrigin[origin] ?? 0 }

    private func nextVersion() -> Version {
        Version(hlc: clock.tick(wallMillis: wallMillis()), origin: localOrigin)
    }

    private func stage(_ entry: Entry, _ completion: @escaping Completion) {
        staged.append((entry, completion))
    }

    /// Commits every staged write, local and remote, in one transaction, then publishes the
    /// local ones and runs their completions and the change notifications in order.
    public func commitStaged() {
        guard hasStagedWrites else { return }
        let started = monotonicNanos?()
        var marks: [UInt64] = []
        let batch = staged
        let remote = stagedRemote
        var proofs = stagedProofs
        staged.removeAll(keepingCapacity: true)
        stagedRemote.removeAll(keepingCapacity: true)
        stagedProofs.removeAll()
        let local = batch.map(\.entry)
        // In a group the local writes' messages are signed first: their proofs go into the
        // same transaction, and nothing is sent unless the commit holds.
        var publishSigned: (() -> [WriteDelivery])?
        if !local.isEmpty, let signLocal {
            let signed = signLocal(local)
            proofs += signed.proofs
            publishSigned = signed.publish
        }
        if let monotonicNanos { marks.append(monotonicNanos()) }
        do {
            let index = reconcileIndex
            let changed = try store.apply(local.isEmpty ? remote : local + remote, proofs: proofs,
                                          storedVersion: index.map { index in { index.version(of: $0) } })
            if let monotonicNanos { marks.append(monotonicNanos()) }
            // The entries the store applied (one per key) go into the index before any
            // completion or notification runs, so that what those ask of it includes this
            // commit. Keys as the UTF-8 bytes the store holds, as `versions()` gives them.
            let changedItems = changed.lazy.map { ItemID(key: Array($0.key.utf8), version: $0.version) }
            reconcileIndex?.insert(contentsOf: changedItems, hash: SHA256.hash)
            partialIndex?.insert(contentsOf: changedItems, hash: SHA256.hash)
            if let monotonicNanos { marks.append(monotonicNanos()) }
            commits += 1
            localWrites += batch.count
            let deliveries = local.isEmpty ? [] : (publishSigned?() ?? publishLocal?(local) ?? Array(repeating: .localOnly, count: local.count))
            for (index, item) in batch.enumerated() {
                item.completion(.success(CommittedWrite(entry: item.entry, delivery: index < deliveries.count ? deliveries[index] : .localOnly)))
            }
            // A local write is named by its version (our clock never repeats one); a commit of
            // remote writes alone (catch-up) hashes nothing here.
            let localVersions = local.isEmpty ? [] : Set(local.lazy.map(\.version))
            var remoteChanged = 0
            for entry in changed {
                let isLocal = !localVersions.isEmpty && entry.version.origin == localOrigin && localVersions.contains(entry.version)
                if !isLocal { remoteChanged += 1 }
                onChange?(entry, isLocal ? .local : .remote)
            }
            remoteApplied += remoteChanged
            remoteSuperseded += remote.count - remoteChanged
            if let started, let monotonicNanos, marks.count == 3 {
                noteTiming(CommitTiming(at: started, total: monotonicNanos() - started, sign: marks[0] - started,
                                        store: marks[1] - marks[0], index: marks[2] - marks[1],
                                        local: local.count, remote: remote.count, proofs: proofs.count))
            }
        } catch {
            logger.error("commit of \(batch.count) local and \(remote.count) remote writes failed: \(error)")
            for item in batch { item.completion(.failure(error)) }
        }
    }

    private func noteTiming(_ timing: CommitTiming) {
        guard timing.total >= 10_000_000 else { return }
        slowCommits.append(timing)
        slowCommits.sort { $0.total > $1.total }
        if slowCommits.count > 8 { slowCommits.removeLast() }
    }

    /// A snapshot of every key's version for reconciliation. Built from the store on the
    /// first call only (O(n)); after that each commit updates it in O(log n) per entry, so
    /// this costs nothing more than the commit of staged writes.
    func replicaIndex() throws(StoreError) -> ReplicaIndex {
        commitStaged()
        if let reconcileIndex { return reconcileIndex }
        if partialIndex != nil {
            // Asked for in the middle of a sliced build: finish it now, in this turn.
            while try !continueIndexBuildOrThrow(slice: 100_000) {}
            if let reconcileIndex { return reconcileIndex }
        }
        let items = try store.versions().map { ItemID(key: $0.key, version: $0.version) }
        let built = ReplicaIndex(sortedItems: items, hash: SHA256.hash)
        reconcileIndex = built
        return built
    }

    /// Runs `body` with the index: at once when it is built, else when the sliced build
    /// (which this starts if needed; the caller's loop must drive `continueIndexBuild`) ends.
    func withReplicaIndex(_ body: @escaping (Result<ReplicaIndex, StoreError>) -> Void) {
        commitStaged()
        if let reconcileIndex { return body(.success(reconcileIndex)) }
        startIndexBuild()
        indexWaiters.append(body)
    }

    /// Starts building the index a slice at a time, unless it is built or being built.
    func startIndexBuild() {
        guard reconcileIndex == nil, partialIndex == nil else { return }
        partialIndex = ReplicaIndex()
        indexBuiltUpTo = nil
    }

    /// Reads the next slice of the store into the index being built; true when there is no
    /// build left to do (done, failed, or none started). Waiters run when it completes.
    @discardableResult
    func continueIndexBuild(slice: Int = SyncEngine.indexSlice) -> Bool {
        do { return try continueIndexBuildOrThrow(slice: slice) } catch {
            logger.error("cannot build the catch-up index: \(error)")
            partialIndex = nil
            let waiters = indexWaiters
            indexWaiters.removeAll()
            for waiter in waiters { waiter(.failure(error)) }
            return true
        }
    }

    private func continueIndexBuildOrThrow(slice: Int) throws(StoreError) -> Bool {
        guard partialIndex != nil else { return true }
        // Staged writes first: their commit goes into the index as it stands.
        commitStaged()
        guard var partial = partialIndex.take() else { return true }
        let page = try store.versions(after: indexBuiltUpTo, limit: slice)
        partial.insert(sortedItems: page.map { ItemID(key: $0.key, version: $0.version) }, hash: SHA256.hash)
        if page.count == slice {
            partialIndex = partial
            indexBuiltUpTo = page.last?.key
            return false
        }
        let built = partial
        reconcileIndex = built
        let waiters = indexWaiters
        indexWaiters.removeAll()
        for waiter in waiters { waiter(.success(built)) }
        return true
    }

    /// Writes received by reconciliation: the same checks as gossip (limits, then the clock
    /// rule, which refuses single entries); an invalid entry refuses them all.
    func stageReconciled(_ entries: [Entry], proofs: [WriteProofRecord] = []) throws(ReconciledWriteError) {
        for entry in entries {
            do throws(StoreError) {
                try EntryLimits.validate(key: entry.key)
                if let value = entry.value { try EntryLimits.validate(value: value) }
            } catch {
                throw .invalid("\(error)")
            }
            guard !entry.version.origin.isEmpty else { throw .invalid("write of \(entry.key) has no origin") }
        }
        let refusals = stageRemoteChecked(entries)
        if keepsProofs, refusals.count < entries.count { stagedProofs += proofs }
    }

    /// Live keys and tombstones. With the replica index built, the total is its count and only
    /// the tombstones are counted in the store (a count of every row took 150 ms at a million
    /// keys, a stalled loop turn for each `status`).
    public func counts() throws(StoreError) -> (live: Int, tombstones: Int) {
        guard let index = reconcileIndex else { return try store.counts() }
        let tombstones = try store.tombstoneCount()
        return (index.count - tombstones, tombstones)
    }

    /// The version this replica holds for `key`, a deletion's included; nil if none.
    func heldVersion(of key: String) -> Version? {
        if let index = reconcileIndex { return index.version(of: Array(key.utf8)) }
        return (try? store.entries(forKeys: [key]))?.first?.version
    }

    /// The live entry for `key`, or nil if absent or deleted.
    public func get(key: String) throws(StoreError) -> Entry? {
        commitStaged()
        guard let entry = try store.entry(forKey: key), !entry.isTombstone else { return nil }
        return entry
    }

    public func list(prefix: String?, after: String? = nil, limit: Int?) throws(StoreError) -> [Entry] {
        commitStaged()
        return try store.list(prefix: prefix, after: after, limit: limit)
    }
}

extension Entry {
    /// The entry as the control socket shows it.
    public var json: JSON {
        var fields: [String: JSON] = [
            "key": .string(key),
            "value": value.map(JSON.string) ?? .null,
            "deleted": .bool(isTombstone),
            "hlc": .string(version.hlc.description),
            "origin": .string(Entry.originText(version.origin)),
        ]
        if isTombstone { fields["value"] = .null }
        return .object(fields)
    }

    /// The origin as a peer ID string when it is one, else hex. Every write message and
    /// control answer names its origin, and base58 is quadratic in the ID's length (a quarter
    /// of an import's time went there, perf record): the few origins a node sees are cached.
    static func originText(_ bytes: [UInt8]) -> String {
        if let known = originNames.withLock({ $0[bytes] }) { return known }
        let text: String
        if let peer = try? PeerID(bytes: bytes) {
            text = peer.description
        } else {
            text = bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        }
        originNames.withLock { names in
            if names.count >= 4096 { names.removeAll() }
            names[bytes] = text
        }
        return text
    }

    private static let originNames = Mutex<[[UInt8]: String]>([:])
}

/// Why a write from a peer was not staged.
public enum RemoteWriteRefusal: Error, CustomStringConvertible {
    /// The clock rule (docs/PROTOCOL.md).
    case clock(ClockError)
    /// The group's rules (docs/GROUPS.md): the author may not write then, or a membership
    /// change does not verify.
    case group(String)

    public var description: String {
        switch self {
        case .clock(let error): "\(error)"
        case .group(let why): why
        }
    }
}

/// Where one commit's time went, in nanoseconds: signing the local writes' messages (in a
/// group), the store's transaction (writes and fsync), the replica index, and the rest
/// (publishing, completions, change notifications).
struct CommitTiming {
    let at: UInt64
    let total: UInt64
    let sign: UInt64
    let store: UInt64
    let index: UInt64
    let local: Int
    let remote: Int
    let proofs: Int
    var rest: UInt64 { total - sign - store - index }
}
