import CSQLite

/// The replica on disk: one SQLite database in WAL mode (DESIGN.md section 3).
///
/// `synchronous=FULL`: a commit is on disk when `apply` returns, so a write acknowledged to a
/// client survives `kill -9` and power loss. Batches share one transaction, which is what
/// makes that affordable. Single-threaded: used from the Reactor's thread only.
public final class Store {
    public let path: String
    private var db: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]

    /// Schema version in `PRAGMA user_version`, for future migrations.
    static let schemaVersion: Int32 = 1

    public init(path: String) throws(StoreError) {
        self.path = path
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK, let handle else {
            let reason = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_close_v2(handle)
            throw .cannotOpen(path: path, reason: reason)
        }
        db = handle
        do {
            sqlite3_busy_timeout(handle, 5000)
            // The first statement reads the header: a file that is not a database fails here.
            let mode = try queryText("PRAGMA journal_mode=WAL")
            guard mode?.lowercased() == "wal" else {
                throw StoreError.cannotOpen(path: path, reason: "cannot switch to WAL mode (got \(mode ?? "nothing"))")
            }
            try execute("PRAGMA synchronous=FULL")
            let check = try queryText("PRAGMA quick_check") ?? "no answer"
            guard check == "ok" else { throw StoreError.damaged(path: path, detail: check) }
            try execute("""
                CREATE TABLE IF NOT EXISTS entries(
                    key TEXT PRIMARY KEY NOT NULL,
                    value TEXT,
                    hlc_ms INTEGER NOT NULL,
                    hlc_logical INTEGER NOT NULL,
                    origin BLOB NOT NULL
                ) WITHOUT ROWID
                """)
            try execute("PRAGMA user_version=\(Store.schemaVersion)")
        } catch let error as StoreError {
            close()
            switch error {
            case .sqlite(_, let code, let message) where code & 0xff == SQLITE_NOTADB || code & 0xff == SQLITE_CORRUPT:
                throw .damaged(path: path, detail: message)
            case .sqlite(_, _, let message):
                throw .cannotOpen(path: path, reason: message)
            default:
                throw error
            }
        } catch {
            close()
            throw .cannotOpen(path: path, reason: "\(error)")
        }
    }

    deinit { close() }

    /// Finalizes the statements and closes the database (also done on deinit).
    public func close() {
        for statement in statements.values { sqlite3_finalize(statement) }
        statements.removeAll()
        if let db { sqlite3_close_v2(db) }
        db = nil
    }

    // MARK: - Writes

    /// Applies a batch in one transaction by the merge rule: an entry is kept only if its
    /// version is greater than the one stored for its key (last writer wins; tombstones are
    /// entries too). Every entry is validated first; if one is invalid nothing is written.
    /// Returns the entries that changed the replica, in input order.
    @discardableResult
    public func apply(_ entries: [Entry]) throws(StoreError) -> [Entry] {
        for entry in entries {
            try EntryLimits.validate(key: entry.key)
            if let value = entry.value { try EntryLimits.validate(value: value) }
        }
        guard !entries.isEmpty else { return [] }
        try execute("BEGIN IMMEDIATE")
        do {
            var current: [String: Version] = [:]
            var winners: [Int] = []
            var winnerIndexByKey: [String: Int] = [:]
            for (index, entry) in entries.enumerated() {
                let stored: Version?
                if let v = current[entry.key] { stored = v } else { stored = try self.entry(forKey: entry.key)?.version }
                if let stored, entry.version <= stored { continue }
                current[entry.key] = entry.version
                try upsert(entry)
                // A later entry in the batch that wins the same key replaces the earlier one in the result.
                if let earlier = winnerIndexByKey[entry.key] { winners.removeAll { $0 == earlier } }
                winnerIndexByKey[entry.key] = index
                winners.append(index)
            }
            try execute("COMMIT")
            return winners.map { entries[$0] }
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    private func upsert(_ entry: Entry) throws(StoreError) {
        let statement = try prepared("""
            INSERT INTO entries(key, value, hlc_ms, hlc_logical, origin) VALUES(?1, ?2, ?3, ?4, ?5)
            ON CONFLICT(key) DO UPDATE SET value=excluded.value, hlc_ms=excluded.hlc_ms,
                hlc_logical=excluded.hlc_logical, origin=excluded.origin
            """)
        defer { sqlite3_reset(statement) }
        bindText(statement, 1, entry.key)
        if let value = entry.value { bindText(statement, 2, value) } else { sqlite3_bind_null(statement, 2) }
        sqlite3_bind_int64(statement, 3, Int64(bitPattern: entry.version.hlc.physicalMillis))
        sqlite3_bind_int64(statement, 4, Int64(entry.version.hlc.logical))
        bindBlob(statement, 5, entry.version.origin)
        try step(statement, "write \(entry.key)", expect: SQLITE_DONE)
    }

    // MARK: - Reads

    /// The entry for `key`, tombstones included.
    public func entry(forKey key: String) throws(StoreError) -> Entry? {
        let statement = try prepared("SELECT key, value, hlc_ms, hlc_logical, origin FROM entries WHERE key = ?1")
        defer { sqlite3_reset(statement) }
        bindText(statement, 1, key)
        guard try step(statement, "read \(key)", expect: SQLITE_ROW) else { return nil }
        return row(statement)
    }

    /// Live entries (no tombstones) whose key starts with `prefix` (exact bytes), by key bytes.
    public func list(prefix: String?, limit: Int? = nil) throws(StoreError) -> [Entry] {
        try select(prefix: prefix, limit: limit, includeTombstones: false)
    }

    /// Every entry including tombstones, by key: for dumps and comparisons.
    public func allEntries() throws(StoreError) -> [Entry] {
        try select(prefix: nil, limit: nil, includeTombstones: true)
    }

    private func select(prefix: String?, limit: Int?, includeTombstones: Bool) throws(StoreError) -> [Entry] {
        // A range on the primary key rather than LIKE: LIKE is case-insensitive for ASCII and
        // treats % and _ as wildcards. TEXT compares with memcmp (BINARY), so bytes order it.
        let statement = try prepared("""
            SELECT key, value, hlc_ms, hlc_logical, origin FROM entries
            WHERE key >= ?1 AND (?2 IS NULL OR key < ?2) AND (?3 OR value IS NOT NULL)
            ORDER BY key LIMIT ?4
            """)
        defer { sqlite3_reset(statement) }
        let lower = Array((prefix ?? "").utf8)
        bindBytesAsText(statement, 1, lower)
        if let upper = Store.upperBound(forPrefix: lower) { bindBytesAsText(statement, 2, upper) } else { sqlite3_bind_null(statement, 2) }
        sqlite3_bind_int(statement, 3, includeTombstones ? 1 : 0)
        sqlite3_bind_int64(statement, 4, Int64(limit ?? -1))
        var result: [Entry] = []
        while try step(statement, "list", expect: SQLITE_ROW) { result.append(row(statement)) }
        return result
    }

    /// The smallest byte string greater than every string starting with `prefix`, or nil when
    /// there is none (empty prefix, or all 0xFF).
    static func upperBound(forPrefix prefix: [UInt8]) -> [UInt8]? {
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

    public func counts() throws(StoreError) -> (live: Int, tombstones: Int) {
        let statement = try prepared("SELECT count(value), count(*) - count(value) FROM entries")
        defer { sqlite3_reset(statement) }
        _ = try step(statement, "count", expect: SQLITE_ROW)
        return (Int(sqlite3_column_int64(statement, 0)), Int(sqlite3_column_int64(statement, 1)))
    }

    /// The greatest clock value stored, so a restarted node's clock starts above it.
    public func greatestHLC() throws(StoreError) -> HLC {
        let statement = try prepared("SELECT hlc_ms, hlc_logical FROM entries ORDER BY hlc_ms DESC, hlc_logical DESC LIMIT 1")
        defer { sqlite3_reset(statement) }
        guard try step(statement, "read the greatest version", expect: SQLITE_ROW) else { return .zero }
        return HLC(physicalMillis: UInt64(bitPattern: sqlite3_column_int64(statement, 0)),
                   logical: UInt32(truncatingIfNeeded: sqlite3_column_int64(statement, 1)))
    }

    // MARK: - SQLite plumbing

    private func row(_ statement: OpaquePointer) -> Entry {
        let key = columnText(statement, 0) ?? ""
        let value = sqlite3_column_type(statement, 1) == SQLITE_NULL ? nil : (columnText(statement, 1) ?? "")
        let hlc = HLC(physicalMillis: UInt64(bitPattern: sqlite3_column_int64(statement, 2)),
                      logical: UInt32(truncatingIfNeeded: sqlite3_column_int64(statement, 3)))
        let count = Int(sqlite3_column_bytes(statement, 4))
        let origin = count == 0 ? [] : Array(UnsafeRawBufferPointer(start: sqlite3_column_blob(statement, 4), count: count))
        return Entry(key: key, value: value, version: Version(hlc: hlc, origin: origin))
    }

    private func columnText(_ statement: OpaquePointer, _ column: Int32) -> String? {
        guard let text = sqlite3_column_text(statement, column) else { return nil }
        let count = Int(sqlite3_column_bytes(statement, column))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }

    /// SQLite copies bound values at once with this destructor (SQLITE_TRANSIENT).
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    private func bindText(_ statement: OpaquePointer, _ index: Int32, _ text: String) {
        bindBytesAsText(statement, index, Array(text.utf8))
    }

    private func bindBytesAsText(_ statement: OpaquePointer, _ index: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { buffer in
            // An empty array may have no base address; SQLite wants a pointer for "" (not NULL).
            let pointer = buffer.baseAddress.map { UnsafeRawPointer($0) } ?? UnsafeRawPointer(("" as StaticString).utf8Start)
            _ = sqlite3_bind_text(statement, index, pointer.assumingMemoryBound(to: CChar.self), Int32(bytes.count), Store.transient)
        }
    }

    private func bindBlob(_ statement: OpaquePointer, _ index: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            if let base = raw.baseAddress {
                _ = sqlite3_bind_blob(statement, index, base, Int32(raw.count), Store.transient)
            } else {
                _ = sqlite3_bind_zeroblob(statement, index, 0)
            }
        }
    }

    /// Steps once; returns true for a row, false when done.
    @discardableResult
    private func step(_ statement: OpaquePointer, _ operation: String, expect: Int32) throws(StoreError) -> Bool {
        let rc = sqlite3_step(statement)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw .sqlite(operation: operation, code: rc, message: errorMessage())
        }
    }

    private func prepared(_ sql: String) throws(StoreError) -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        guard let db else { throw .sqlite(operation: "prepare", code: SQLITE_MISUSE, message: "store is closed") }
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard rc == SQLITE_OK, let statement else {
            throw .sqlite(operation: "prepare", code: rc, message: errorMessage())
        }
        statements[sql] = statement
        return statement
    }

    private func execute(_ sql: String) throws(StoreError) {
        guard let db else { throw .sqlite(operation: sql, code: SQLITE_MISUSE, message: "store is closed") }
        let rc = sqlite3_exec(db, sql, nil, nil, nil)
        guard rc == SQLITE_OK else { throw .sqlite(operation: sql, code: sqlite3_extended_errcode(db), message: errorMessage()) }
    }

    private func queryText(_ sql: String) throws(StoreError) -> String? {
        guard let db else { throw .sqlite(operation: sql, code: SQLITE_MISUSE, message: "store is closed") }
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v2(db, sql, -1, &statement, nil)
        guard rc == SQLITE_OK, let statement else {
            throw .sqlite(operation: sql, code: sqlite3_extended_errcode(db), message: errorMessage())
        }
        defer { sqlite3_finalize(statement) }
        let stepped = sqlite3_step(statement)
        guard stepped == SQLITE_ROW || stepped == SQLITE_DONE else {
            throw .sqlite(operation: sql, code: sqlite3_extended_errcode(db), message: errorMessage())
        }
        return stepped == SQLITE_ROW ? columnText(statement, 0) : nil
    }

    private func errorMessage() -> String {
        db.map { String(cString: sqlite3_errmsg($0)) } ?? "store is closed"
    }
}
