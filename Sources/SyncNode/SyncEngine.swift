import JSON
import SyncStore
import Wire

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
    public typealias Completion = (Result<Entry, StoreError>) -> Void

    public let store: Store
    public let localOrigin: [UInt8]
    private var clock: HybridClock
    private let wallMillis: () -> UInt64
    private var staged: [(entry: Entry, completion: Completion)] = []
    private let logger: Logger

    /// Called for every entry that changed the replica, after it is committed.
    public var onChange: ((Entry, ChangeSource) -> Void)?

    public private(set) var localWrites = 0
    public private(set) var commits = 0

    public init(store: Store, localOrigin: [UInt8], logger: Logger, wallMillis: @escaping () -> UInt64) throws(StoreError) {
        self.store = store
        self.localOrigin = localOrigin
        self.wallMillis = wallMillis
        self.logger = logger
        // The clock starts above every version on disk, so a restart never reuses a version.
        clock = HybridClock(lastIssued: try store.greatestHLC())
    }

    public var hasStagedWrites: Bool { !staged.isEmpty }

    /// Stages a put; `completion` runs once it is committed (or failed). Invalid input fails at once.
    public func stagePut(key: String, value: String, completion: @escaping Completion) {
        do throws(StoreError) {
            try EntryLimits.validate(key: key)
            try EntryLimits.validate(value: value)
        } catch {
            completion(.failure(error))
            return
        }
        stage(Entry(key: key, value: value, version: nextVersion()), completion)
    }

    /// Stages a delete (a tombstone, so that older puts cannot bring the key back).
    public func stageDelete(key: String, completion: @escaping Completion) {
        do throws(StoreError) {
            try EntryLimits.validate(key: key)
        } catch {
            completion(.failure(error))
            return
        }
        stage(Entry(key: key, value: nil, version: nextVersion()), completion)
    }

    private func nextVersion() -> Version {
        Version(hlc: clock.tick(wallMillis: wallMillis()), origin: localOrigin)
    }

    private func stage(_ entry: Entry, _ completion: @escaping Completion) {
        staged.append((entry, completion))
    }

    /// Commits every staged write in one transaction, then runs their completions and
    /// change notifications in the order they were staged.
    public func commitStaged() {
        guard !staged.isEmpty else { return }
        let batch = staged
        staged.removeAll(keepingCapacity: true)
        do {
            let changed = try store.apply(batch.map(\.entry))
            commits += 1
            localWrites += batch.count
            for item in batch { item.completion(.success(item.entry)) }
            for entry in changed { onChange?(entry, .local) }
        } catch {
            logger.error("commit of \(batch.count) writes failed: \(error)")
            for item in batch { item.completion(.failure(error)) }
        }
    }

    /// The live entry for `key`, or nil if absent or deleted.
    public func get(key: String) throws(StoreError) -> Entry? {
        commitStaged()
        guard let entry = try store.entry(forKey: key), !entry.isTombstone else { return nil }
        return entry
    }

    public func list(prefix: String?, limit: Int?) throws(StoreError) -> [Entry] {
        commitStaged()
        return try store.list(prefix: prefix, limit: limit)
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

    /// The origin as a peer ID string when it is one, else hex.
    static func originText(_ bytes: [UInt8]) -> String {
        if let peer = try? PeerID(bytes: bytes) { return peer.description }
        return bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }
}
