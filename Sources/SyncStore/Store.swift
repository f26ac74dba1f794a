import CSQLite

/// The replica on disk: one SQLite database in WAL mode holding, per key, the entry of the
/// greatest version (DESIGN.md section 3, last writer wins).
///
/// Durability: `synchronous=FULL`, so when `apply` returns its commit is on disk and survives
/// `kill -9` and power loss; a batch shares one transaction (one fsync), which is what makes
/// that affordable. Opening runs `PRAGMA quick_check` and reports damage instead of starting
/// over. Single-threaded: use it from one thread (the Reactor's); it is deliberately not
/// `Sendable`.
///
/// Schema 4 (`PRAGMA user_version`), in a file stamped with `PRAGMA application_id` "P2PS":
///
///     entries(key TEXT PRIMARY KEY, value TEXT /* NULL = tombstone */,
///             hlc_ms INTEGER /* UInt64 bit pattern */, hlc_logical INTEGER, origin BLOB)
///     refused(key TEXT, hlc_ms INTEGER, hlc_logical INTEGER, origin BLOB)  -- schema 2, issue 17:
///             remote writes refused by the clock rule, so that they stay refused after a restart
///     index entries_tombstones ON entries(key) WHERE value IS NULL   -- schema 3, issue 15
///     proofs(origin BLOB, last_ms, last_logical, first_ms, first_logical, bytes BLOB)  -- schema 4,
///             issue 14: a batch's signed message, the proof of its writes (docs/GROUPS.md)
public final class Store {
    /// The database file this store was opened from.
    public let path: String
    private let connection: SQLiteConnection

    /// Schema version kept in `PRAGMA user_version`; migrations step it up in `migrate()`.
    static let schemaVersion = 4
    /// "P2PS" in `PRAGMA application_id`, so we never adopt another program's database.
    static let applicationID: Int32 = 0x5032_5053
    /// How long a statement waits for another connection's lock before failing.
    static let busyTimeoutMillis: Int32 = 5_000
    /// Log pages after which a commit checkpoints (see `setUp`).
    static let walCheckpointPages = 128

    /// Opens the store at `path`, creating it if missing.
    ///
    /// Throws `.cannotOpen` when the file cannot be opened or set up (unwritable location,
    /// another program's database, a newer schema), and `.damaged` when it is not an SQLite
    /// database or fails `quick_check`; in both cases the file is left as it was.
    /// SQLite's name for a private in-memory database: the simulation's "disk".
    public static let inMemoryPath = ":memory:"

    public init(path: String) throws(StoreError) {
        self.path = path
        do {
            connection = try SQLiteConnection(path: path)
        } catch {
            throw Store.openFailure(error, path: path)
        }
        do throws(StoreError) {
            try setUp()
        } catch {
            connection.close()
            throw Store.openFailure(error, path: path)
        }
    }

    deinit { close() }

    /// Finalizes the cached statements and closes the database; later calls throw
    /// `.sqlite(code: SQLITE_MISUSE)`. Also done on deinit; calling it twice is harmless.
    public func close() { connection.close() }

    // MARK: - Opening

    private func setUp() throws(StoreError) {
        sqlite3_busy_timeout(connection.handle, Store.busyTimeoutMillis)
        // Check before changing anything: switching to WAL would write the header of a file we
        // have not verified. This read is also where a non-database file fails (SQLITE_NOTADB).
        let check = try connection.texts("PRAGMA quick_check", limit: 5)
        guard check == ["ok"] else { throw .damaged(path: path, detail: "quick_check: " + check.joined(separator: "; ")) }

        // Also before any write: refuse another program's database or a newer schema.
        _ = try checkIdentity()

        let mode = try connection.texts("PRAGMA journal_mode=WAL").first
        // An in-memory store (the whole-node simulation) has no file to write ahead of.
        guard mode == "wal" || (path == Store.inMemoryPath && mode == "memory") else {
            throw .cannotOpen(path: path, reason: "cannot switch to WAL mode (SQLite answered \(mode ?? "nothing")); put the data dir on a local filesystem")
        }
        // FULL, not NORMAL: in WAL mode NORMAL may lose the last commits on power loss, and a
        // write acknowledged to a client must not be lost (DESIGN.md section 3).
        try connection.execute("PRAGMA synchronous=FULL")
        try migrate()
        // Prepare every statement now, so a table of the wrong shape fails at open, not later.
        for sql in Store.allStatements { _ = try connection.prepared(sql) }
        // Checkpoint the log every 128 pages (512 KiB), not SQLite's 1,000: the commit that
        // crosses the mark copies the log into the file and fsyncs it, which took 15-25 ms at
        // a million keys with 1,000 pages, a loop turn too long (issue 15); a tenth of that
        // work, ten times as often, keeps each such commit short.
        try connection.execute("PRAGMA wal_autocheckpoint=\(Store.walCheckpointPages)")
    }

    /// Creates the schema in a fresh file, or checks that an existing file is ours and not
    /// newer and steps an older one up.
    private func migrate() throws(StoreError) {
        try connection.execute("BEGIN IMMEDIATE")
        do throws(StoreError) {
            // Checked again under the write lock: another process may have created it meanwhile.
            let identity = try checkIdentity()
            if identity == .fresh {
                // WITHOUT ROWID: the key is the only lookup path, so rows live in its b-tree.
                try connection.execute("""
                    CREATE TABLE entries(
                        key TEXT PRIMARY KEY NOT NULL,
                        value TEXT,
                        hlc_ms INTEGER NOT NULL,
                        hlc_logical INTEGER NOT NULL,
                        origin BLOB NOT NULL
                    ) WITHOUT ROWID;
                    PRAGMA application_id=\(Store.applicationID);
                    """)
            }
            // Each migration from version N to N+1, in this transaction.
            if identity == .fresh || identity == .ours(version: 1) {
                try connection.execute("""
                    CREATE TABLE refused(
                        key TEXT NOT NULL,
                        hlc_ms INTEGER NOT NULL,
                        hlc_logical INTEGER NOT NULL,
                        origin BLOB NOT NULL,
                        PRIMARY KEY(key, hlc_ms, hlc_logical, origin)
                    ) WITHOUT ROWID;
                    PRAGMA user_version=2;
                    """)
            }
            // Version 3 (issue 15): the tombstones alone in a partial index, so that `status`
            // counts them without reading every row (a full count took 150 ms at a million keys).
            if identity == .fresh || identity == .ours(version: 1) || identity == .ours(version: 2) {
                try connection.execute("""
                    CREATE INDEX IF NOT EXISTS entries_tombstones ON entries(key) WHERE value IS NULL;
                    PRAGMA user_version=3;
                    """)
            }
            // Version 4 (issue 14): proofs of writes, one row per signed batch; a rowid table
            // (rows are up to 64 KiB) with an index to find a write's batch.
            if identity == .fresh || identity == .ours(version: 1) || identity == .ours(version: 2) || identity == .ours(version: 3) {
                try connection.execute("""
                    CREATE TABLE IF NOT EXISTS proofs(
                        origin BLOB NOT NULL,
                        last_ms INTEGER NOT NULL,
                        last_logical INTEGER NOT NULL,
                        first_ms INTEGER NOT NULL,
                        first_logical INTEGER NOT NULL,
                        bytes BLOB NOT NULL
                    );
                    CREATE UNIQUE INDEX IF NOT EXISTS proofs_by_write ON proofs(origin, last_ms, last_logical, first_ms, first_logical);
                    PRAGMA user_version=4;
                    """)
            }
            try connection.execute("COMMIT")
        } catch {
            try? connection.execute("ROLLBACK")
            throw error
        }
    }

    /// What `checkIdentity()` found.
    private enum Identity: Equatable { case fresh, ours(version: Int) }

    /// Reads (never writes) the file's stamp: empty, or a p2p-sync store this build can use.
    private func checkIdentity() throws(StoreError) -> Identity {
        let applicationID = Int32(try connection.texts("PRAGMA application_id").first ?? "") ?? 0
        let version = Int(try connection.texts("PRAGMA user_version").first ?? "") ?? 0
        let objects = Int(try connection.texts("SELECT count(*) FROM sqlite_schema").first ?? "") ?? 0
        if applicationID == 0 && version == 0 && objects == 0 { return .fresh }
        guard applicationID == Store.applicationID else {
            throw .cannotOpen(path: path, reason: "it is an SQLite database of another program (application_id \(applicationID)), not a p2p-sync store; check the data dir")
        }
        guard version <= Store.schemaVersion else {
            throw .cannotOpen(path: path, reason: "it was written by a newer p2p-syncd (schema \(version); this one knows up to \(Store.schemaVersion)); upgrade p2p-syncd")
        }
        guard version >= 1 else {
            throw .damaged(path: path, detail: "it is stamped as a p2p-sync store but has no schema version")
        }
        return .ours(version: version)
    }

    /// Turns a failure while opening into what the user should hear.
    private static func openFailure(_ error: StoreError, path: String) -> StoreError {
        guard case .sqlite(let operation, let code, let message) = error else { return error }
        switch code & 0xff {
        case SQLITE_NOTADB:
            return .damaged(path: path, detail: "it is not an SQLite database (\(message)); is the data dir the right one?")
        case SQLITE_CORRUPT:
            return .damaged(path: path, detail: message)
        case SQLITE_CANTOPEN, SQLITE_PERM, SQLITE_READONLY, SQLITE_AUTH:
            return .cannotOpen(path: path, reason: "\(message) (is the data dir writable?)")
        case SQLITE_BUSY, SQLITE_LOCKED:
            return .cannotOpen(path: path, reason: "\(message) (is another p2p-syncd using this data dir?)")
        default:
            return .cannotOpen(path: path, reason: "\(operation): \(message) (SQLite code \(code))")
        }
    }

    // MARK: - Writes

    /// Applies a batch by the merge rule, in one transaction (one fsync).
    ///
    /// Every entry is validated first (`EntryLimits`); on the first invalid one this throws and
    /// nothing is written. Then each entry is kept only if its version is strictly greater than
    /// the one stored for its key, counting entries earlier in the same batch, so the batch
    /// ends as if its entries had arrived one by one in any order. Tombstones are entries too
    /// and block older puts.
    ///
    /// Returns the entries that changed the replica, in input order: for a key written more
    /// than once in the batch, only the entry that ends up stored.
    ///
    /// `storedVersion`, when given, answers for the version stored under a key (by its UTF-8
    /// bytes) without reading the database: the node's replica index holds every stored
    /// version, and a lookup there costs a fraction of a SELECT (a new node's catch-up
    /// misses on every key).
    @discardableResult
    public func apply(_ entries: [Entry], proofs: [WriteProofRecord] = [], storedVersion known: ((_ key: [UInt8]) -> Version?)? = nil) throws(StoreError) -> [Entry] {
        for entry in entries {
            try EntryLimits.validate(key: entry.key)
            if let value = entry.value { try EntryLimits.validate(value: value) }
        }
        guard !entries.isEmpty || !proofs.isEmpty else { return [] }

        try run(Store.sqlBegin, "begin a transaction")
        do throws(StoreError) {
            for proof in proofs { try insert(proof) }
            // Keys written in this batch: the winner so far, so the database is read once per key.
            // Keyed by UTF-8 bytes, as SQLite keys are: String equality would merge "é" (NFC)
            // with "e\u{301}" (NFD), which are two different keys here.
            var written: [KeyBytes: (index: Int, version: Version)] = [:]
            // A batch in strictly ascending key order (a streamed catch-up) has no key twice:
            // no dictionary needed until a key breaks the order.
            var ascending = true
            var previous: [UInt8] = []
            var changed = [Bool](repeating: false, count: entries.count)
            for (index, entry) in entries.enumerated() {
                let keyBytes = Array(entry.key.utf8)
                if ascending, index > 0, !previous.lexicographicallyPrecedes(keyBytes) {
                    // Out of order: from here on, remember every key written so far.
                    ascending = false
                    written.reserveCapacity(entries.count)
                    for earlier in 0..<index where changed[earlier] {
                        written[KeyBytes(Array(entries[earlier].key.utf8))] = (earlier, entries[earlier].version)
                    }
                }
                // Not `??`: its autoclosure would widen the typed throw to `any Error`.
                let current: Version?
                if !ascending, let earlier = written[KeyBytes(keyBytes)] {
                    current = earlier.version
                } else if let known {
                    current = known(keyBytes)
                } else {
                    current = try storedVersion(forKey: entry.key)
                }
                if ascending { previous = keyBytes }
                if let current, entry.version <= current { continue }
                try write(entry)
                if ascending {
                    changed[index] = true
                } else {
                    if let earlier = written.updateValue((index, entry.version), forKey: KeyBytes(keyBytes)) { changed[earlier.index] = false }
                    changed[index] = true
                }
            }
            try run(Store.sqlCommit, "commit")
            return entries.indices.filter { changed[$0] }.map { entries[$0] }
        } catch {
            // If SQLite already rolled back (e.g. on SQLITE_FULL), ROLLBACK fails harmlessly.
            try? run(Store.sqlRollback, "roll back")
            throw error
        }
    }

    /// Remembers remote writes refused by the clock rule (issue 17), in one transaction.
    public func recordRefused(_ writes: [(key: String, version: Version)]) throws(StoreError) {
        guard !writes.isEmpty else { return }
        try run(Store.sqlBegin, "begin a transaction")
        do throws(StoreError) {
            for write in writes {
                let statement = try connection.prepared(Store.sqlRefuse)
                statement.bind(1, text: write.key)
                statement.bind(2, int64: Int64(bitPattern: write.version.hlc.physicalMillis))
                statement.bind(3, int64: Int64(write.version.hlc.logical))
                statement.bind(4, blob: write.version.origin)
                _ = try connection.step(statement, "remember a refused write of \(write.key)")
            }
            try run(Store.sqlCommit, "commit")
        } catch {
            try? run(Store.sqlRollback, "roll back")
            throw error
        }
    }

    /// Every remembered refused write.
    public func refusedWrites() throws(StoreError) -> [(key: String, version: Version)] {
        let statement = try connection.prepared(Store.sqlRefused)
        defer { connection.done(statement) }
        var out: [(key: String, version: Version)] = []
        while try connection.step(statement, "read refused writes") {
            out.append((statement.text(0) ?? "", Version(hlc: Store.hlc(statement, 1), origin: statement.blob(3))))
        }
        return out
    }

    private func storedVersion(forKey key: String) throws(StoreError) -> Version? {
        let statement = try connection.prepared(Store.sqlVersion)
        defer { connection.done(statement) }
        statement.bind(1, text: key)
        guard try connection.step(statement, "read the version of key \(key)") else { return nil }
        return Version(hlc: Store.hlc(statement, 0), origin: statement.blob(2))
    }

    private func write(_ entry: Entry) throws(StoreError) {
        let statement = try connection.prepared(Store.sqlUpsert)
        statement.bind(1, text: entry.key)
        if let value = entry.value { statement.bind(2, text: value) } else { statement.bindNull(2) }
        // Stored as the bit pattern: SQLite integers are signed, HLC milliseconds are not.
        statement.bind(3, int64: Int64(bitPattern: entry.version.hlc.physicalMillis))
        statement.bind(4, int64: Int64(entry.version.hlc.logical))
        statement.bind(5, blob: entry.version.origin)
        _ = try connection.step(statement, "write key \(entry.key)")
    }

    private func insert(_ proof: WriteProofRecord) throws(StoreError) {
        let statement = try connection.prepared(Store.sqlInsertProof)
        statement.bind(1, blob: proof.origin)
        statement.bind(2, int64: Int64(bitPattern: proof.last.physicalMillis))
        statement.bind(3, int64: Int64(proof.last.logical))
        statement.bind(4, int64: Int64(bitPattern: proof.first.physicalMillis))
        statement.bind(5, int64: Int64(proof.first.logical))
        statement.bind(6, blob: proof.bytes)
        _ = try connection.step(statement, "store the proof of a batch of writes")
    }

    /// The stored proofs whose batch may hold the write of `version` (by its author and clock
    /// range), nearest first; usually one.
    public func proofs(covering version: Version, limit: Int = 4) throws(StoreError) -> [WriteProofRecord] {
        let statement = try connection.prepared(Store.sqlProofsCovering)
        defer { connection.done(statement) }
        statement.bind(1, blob: version.origin)
        statement.bind(2, int64: Int64(bitPattern: version.hlc.physicalMillis))
        statement.bind(3, int64: Int64(version.hlc.logical))
        statement.bind(4, int64: Int64(limit))
        var out: [WriteProofRecord] = []
        while try connection.step(statement, "read proofs of writes") {
            let record = WriteProofRecord(origin: statement.blob(0), first: Store.hlc(statement, 3), last: Store.hlc(statement, 1), bytes: statement.blob(5))
            if record.covers(version) { out.append(record) }
        }
        return out
    }

    /// How many proofs are stored (for `status`).
    public func proofCount() throws(StoreError) -> Int {
        Int(try connection.texts("SELECT count(*) FROM proofs").first ?? "") ?? 0
    }

    private func run(_ sql: String, _ operation: String) throws(StoreError) {
        _ = try connection.step(try connection.prepared(sql), operation)
    }

    // MARK: - Reads

    /// The entry stored for `key`, tombstones included; nil if the key was never written.
    public func entry(forKey key: String) throws(StoreError) -> Entry? {
        let statement = try connection.prepared(Store.sqlEntry)
        defer { connection.done(statement) }
        statement.bind(1, text: key)
        guard try connection.step(statement, "read key \(key)") else { return nil }
        return Store.entry(statement)
    }

    /// Live entries (no tombstones) whose key starts with `prefix`, ordered by key bytes, at
    /// most `limit` of them (nil: all; negative counts as 0). nil or "" lists everything.
    /// `after`: only keys greater than it (the last key of the previous page, for paging).
    ///
    /// The match is exact on bytes: a range on the primary key rather than LIKE, which is
    /// case-insensitive for ASCII and treats `%` and `_` as wildcards.
    public func list(prefix: String?, after: String? = nil, limit: Int? = nil) throws(StoreError) -> [Entry] {
        let start = Array((prefix ?? "").utf8)
        // The key right after `after` in byte order is `after` followed by a 0 byte.
        var lower = start
        if let after {
            let next = Array(after.utf8) + [UInt8(0)]
            if lower.lexicographicallyPrecedes(next) { lower = next }
        }
        // -1 is SQLite's "no limit".
        let count = limit.map { Int64(max(0, $0)) } ?? -1
        let statement: SQLiteStatement
        if let upper = Store.upperBound(forPrefix: start) {
            statement = try connection.prepared(Store.sqlListRange)
            statement.bind(2, textBytes: upper)
            statement.bind(3, int64: count)
        } else {
            // Two statements, not "?2 IS NULL OR key < ?2": with the OR, SQLite uses only
            // the lower bound of the index and scans to the end of the table.
            statement = try connection.prepared(Store.sqlListFrom)
            statement.bind(2, int64: count)
        }
        statement.bind(1, textBytes: lower)
        return try rows(statement, "list keys")
    }

    /// Every entry including tombstones, ordered by key bytes: for dumps and comparisons.
    public func allEntries() throws(StoreError) -> [Entry] {
        try rows(try connection.prepared(Store.sqlAll), "read all entries")
    }

    /// Every key with its version (tombstones included), ordered by key bytes: what
    /// reconciliation fingerprints. Values are not read.
    public func versions() throws(StoreError) -> [(key: [UInt8], version: Version)] {
        let statement = try connection.prepared(Store.sqlVersions)
        defer { connection.done(statement) }
        var result: [(key: [UInt8], version: Version)] = []
        while try connection.step(statement, "read versions") {
            result.append((Array((statement.text(0) ?? "").utf8), Version(hlc: Store.hlc(statement, 1), origin: statement.blob(3))))
        }
        return result
    }

    /// Up to `limit` keys with their versions (tombstones included) after `after` (nil: from
    /// the first), ordered by key bytes: `versions()` a page at a time, so the node can build
    /// its replica index over many short loop turns.
    public func versions(after: [UInt8]?, limit: Int) throws(StoreError) -> [(key: [UInt8], version: Version)] {
        let statement: SQLiteStatement
        if let after {
            statement = try connection.prepared(Store.sqlVersionsAfter)
            statement.bind(1, textBytes: after)
            statement.bind(2, int64: Int64(max(1, limit)))
        } else {
            statement = try connection.prepared(Store.sqlVersionsFirst)
            statement.bind(1, int64: Int64(max(1, limit)))
        }
        defer { connection.done(statement) }
        var result: [(key: [UInt8], version: Version)] = []
        result.reserveCapacity(limit)
        while try connection.step(statement, "read versions") {
            result.append((Array((statement.text(0) ?? "").utf8), Version(hlc: Store.hlc(statement, 1), origin: statement.blob(3))))
        }
        return result
    }

    /// The stored entries (tombstones included) for those of `keys` that exist, in order.
    /// One read transaction for all: outside one, every lookup takes and drops SQLite's
    /// shared lock (two fcntl calls and an fstat, 10% of a catch-up's serving side).
    public func entries(forKeys keys: [String]) throws(StoreError) -> [Entry] {
        var result: [Entry] = []
        result.reserveCapacity(keys.count)
        guard keys.count > 1 else {
            if let key = keys.first, let e = try entry(forKey: key) { result.append(e) }
            return result
        }
        try run(Store.sqlBeginRead, "begin a read transaction")
        do throws(StoreError) {
            for key in keys { if let e = try entry(forKey: key) { result.append(e) } }
            try run(Store.sqlCommit, "end a read transaction")
        } catch {
            try? run(Store.sqlRollback, "roll back")
            throw error
        }
        return result
    }

    /// Entries (tombstones included) with keys in `[lower, upper)` by bytes (nil `upper`: to
    /// the end), in key order: at most `limit`, and no more once their keys and values reach
    /// `maxBytes` (at least one). A catch-up streams a range with this, page after page.
    public func entries(from lower: [UInt8], below upper: [UInt8]?, limit: Int, maxBytes: Int) throws(StoreError) -> [Entry] {
        let statement: SQLiteStatement
        if let upper {
            statement = try connection.prepared(Store.sqlRangeBelow)
            statement.bind(2, textBytes: upper)
            statement.bind(3, int64: Int64(max(1, limit)))
        } else {
            statement = try connection.prepared(Store.sqlRangeFrom)
            statement.bind(2, int64: Int64(max(1, limit)))
        }
        defer { connection.done(statement) }
        statement.bind(1, textBytes: lower)
        var result: [Entry] = []
        var bytes = 0
        while bytes < maxBytes, try connection.step(statement, "read a range of entries") {
            let entry = Store.entry(statement)
            bytes += entry.key.utf8.count + (entry.value?.utf8.count ?? 0)
            result.append(entry)
        }
        return result
    }

    /// How many keys hold a value and how many hold a tombstone.
    public func counts() throws(StoreError) -> (live: Int, tombstones: Int) {
        let statement = try connection.prepared(Store.sqlCounts)
        defer { connection.done(statement) }
        guard try connection.step(statement, "count entries") else { return (0, 0) }
        return (Int(statement.int64(0)), Int(statement.int64(1)))
    }

    /// How many keys hold a tombstone: read from their partial index, so it costs as much as
    /// there are tombstones, not keys.
    public func tombstoneCount() throws(StoreError) -> Int {
        let statement = try connection.prepared(Store.sqlTombstoneCount)
        defer { connection.done(statement) }
        guard try connection.step(statement, "count tombstones") else { return 0 }
        return Int(statement.int64(0))
    }

    /// The greatest clock value of any stored version (`.zero` when empty), so a restarted
    /// node's clock starts above every version it holds.
    public func greatestHLC() throws(StoreError) -> HLC {
        let statement = try connection.prepared(Store.sqlGreatest)
        defer { connection.done(statement) }
        guard try connection.step(statement, "read the greatest version") else { return .zero }
        return Store.hlc(statement, 0)
    }

    /// The smallest byte string greater than every string that starts with `prefix`, or nil
    /// when there is none (empty prefix, or only 0xFF bytes, which UTF-8 never contains).
    public static func upperBound(forPrefix prefix: [UInt8]) -> [UInt8]? {
        var bound = prefix
        while let last = bound.last {
            if last < 0xff {
                bound[bound.count - 1] = last + 1
                return bound
            }
            bound.removeLast()
        }
        return nil
    }

    private func rows(_ statement: SQLiteStatement, _ operation: String) throws(StoreError) -> [Entry] {
        var result: [Entry] = []
        while try connection.step(statement, operation) { result.append(Store.entry(statement)) }
        return result
    }

    private static func entry(_ statement: SQLiteStatement) -> Entry {
        Entry(key: statement.text(0) ?? "", value: statement.text(1),
              version: Version(hlc: hlc(statement, 2), origin: statement.blob(4)))
    }

    /// Reads `hlc_ms` at `column` and `hlc_logical` after it.
    private static func hlc(_ statement: SQLiteStatement, _ column: Int32) -> HLC {
        HLC(physicalMillis: UInt64(bitPattern: statement.int64(column)),
            logical: UInt32(truncatingIfNeeded: statement.int64(column + 1)))
    }

    /// A pragma's answer, for tests that check the connection's settings.
    func pragma(_ name: String) throws(StoreError) -> String? {
        try connection.texts("PRAGMA \(name)").first
    }

    // MARK: - SQL

    private static let columns = "key, value, hlc_ms, hlc_logical, origin"
    private static let sqlBegin = "BEGIN IMMEDIATE"
    private static let sqlBeginRead = "BEGIN DEFERRED"
    private static let sqlCommit = "COMMIT"
    private static let sqlRollback = "ROLLBACK"
    private static let sqlVersion = "SELECT hlc_ms, hlc_logical, origin FROM entries WHERE key = ?1"
    private static let sqlEntry = "SELECT \(columns) FROM entries WHERE key = ?1"
    private static let sqlTombstoneCount = "SELECT COUNT(*) FROM entries INDEXED BY entries_tombstones WHERE value IS NULL"
    private static let sqlUpsert = """
        INSERT INTO entries(\(columns)) VALUES(?1, ?2, ?3, ?4, ?5)
        ON CONFLICT(key) DO UPDATE SET value = excluded.value, hlc_ms = excluded.hlc_ms,
            hlc_logical = excluded.hlc_logical, origin = excluded.origin
        """
    // TEXT compares with memcmp under the default BINARY collation, so these order by bytes.
    private static let sqlListRange = "SELECT \(columns) FROM entries WHERE key >= ?1 AND key < ?2 AND value IS NOT NULL ORDER BY key LIMIT ?3"
    private static let sqlListFrom = "SELECT \(columns) FROM entries WHERE key >= ?1 AND value IS NOT NULL ORDER BY key LIMIT ?2"
    private static let sqlRangeBelow = "SELECT \(columns) FROM entries WHERE key >= ?1 AND key < ?2 ORDER BY key LIMIT ?3"
    private static let sqlRangeFrom = "SELECT \(columns) FROM entries WHERE key >= ?1 ORDER BY key LIMIT ?2"
    private static let sqlVersionsFirst = "SELECT key, hlc_ms, hlc_logical, origin FROM entries ORDER BY key LIMIT ?1"
    private static let sqlVersionsAfter = "SELECT key, hlc_ms, hlc_logical, origin FROM entries WHERE key > ?1 ORDER BY key LIMIT ?2"
    private static let sqlAll = "SELECT \(columns) FROM entries ORDER BY key"
    private static let sqlVersions = "SELECT key, hlc_ms, hlc_logical, origin FROM entries ORDER BY key"
    private static let sqlCounts = "SELECT count(value), count(*) - count(value) FROM entries"
    // Milliseconds of 2^63 and more are stored negative: those sort first, as the larger.
    private static let sqlGreatest = "SELECT hlc_ms, hlc_logical FROM entries ORDER BY hlc_ms < 0 DESC, hlc_ms DESC, hlc_logical DESC LIMIT 1"

    private static let sqlInsertProof = "INSERT OR IGNORE INTO proofs(origin, last_ms, last_logical, first_ms, first_logical, bytes) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"
    // Row values compare as tuples; HLC milliseconds are stored as signed bit patterns, and
    // every real clock is below 2^63, so signed order is clock order.
    private static let sqlProofsCovering = """
        SELECT origin, last_ms, last_logical, first_ms, first_logical, bytes FROM proofs
        WHERE origin = ?1 AND (last_ms, last_logical) >= (?2, ?3) ORDER BY last_ms, last_logical LIMIT ?4
        """
    private static let sqlRefuse = "INSERT OR IGNORE INTO refused(key, hlc_ms, hlc_logical, origin) VALUES(?1, ?2, ?3, ?4)"
    private static let sqlRefused = "SELECT key, hlc_ms, hlc_logical, origin FROM refused"

    private static let allStatements = [sqlBegin, sqlCommit, sqlRollback, sqlVersion, sqlEntry, sqlUpsert,
                                        sqlListRange, sqlListFrom, sqlAll, sqlVersions, sqlCounts, sqlGreatest,
                                        sqlRefuse, sqlRefused]
}

/// A key's UTF-8 bytes as a dictionary key, hashed in one call over the whole buffer (an
/// `[UInt8]` hashes byte by byte: a third of the cost of applying a catch-up batch).
struct KeyBytes: Hashable {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}
