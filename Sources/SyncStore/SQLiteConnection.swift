import CSQLite

/// The one place the store calls SQLite: an owned connection handle with a cache of prepared
/// statements, and every failure turned into a `StoreError` that names the operation.
/// Single-threaded (opened with SQLITE_OPEN_NOMUTEX), like `Store`.
final class SQLiteConnection {
    private(set) var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]

    /// Opens (creating if missing) the file. Fails with the SQLite code and message; the
    /// caller decides what that means for the user.
    init(path: String) throws(StoreError) {
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            // On failure SQLite may still hand back a handle that holds the message; free it.
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_close_v2(db)
            throw .sqlite(operation: "open", code: rc, message: message)
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
    }

    deinit { close() }

    /// Finalizes every cached statement and closes the handle. Safe to call twice.
    func close() {
        for statement in statements.values { sqlite3_finalize(statement) }
        statements.removeAll()
        if let handle { sqlite3_close_v2(handle) }
        handle = nil
    }

    /// Runs SQL that returns no rows we need (pragmas with no answer, DDL, BEGIN/COMMIT).
    func execute(_ sql: String) throws(StoreError) {
        let db = try open(for: sql)
        let rc = sqlite3_exec(db, sql, nil, nil, nil)
        guard rc == SQLITE_OK else { throw failure(sql, rc) }
    }

    /// Runs one uncached statement and returns the first column of every row as text
    /// (pragmas such as `quick_check` answer in rows).
    func texts(_ sql: String, limit: Int = .max) throws(StoreError) -> [String] {
        let db = try open(for: sql)
        var raw: OpaquePointer?
        let rc = sqlite3_prepare_v2(db, sql, -1, &raw, nil)
        guard rc == SQLITE_OK, let raw else { throw failure(sql, rc) }
        defer { sqlite3_finalize(raw) }
        let statement = SQLiteStatement(raw)
        var rows: [String] = []
        while rows.count < limit, try step(statement, sql) { rows.append(statement.text(0) ?? "") }
        return rows
    }

    /// A cached prepared statement for `sql`, reset and with its bindings cleared.
    func prepared(_ sql: String) throws(StoreError) -> SQLiteStatement {
        if let raw = statements[sql] {
            sqlite3_reset(raw)
            sqlite3_clear_bindings(raw)
            return SQLiteStatement(raw)
        }
        let db = try open(for: "prepare")
        var raw: OpaquePointer?
        let rc = sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &raw, nil)
        guard rc == SQLITE_OK, let raw else { throw failure("prepare \(sql)", rc) }
        statements[sql] = raw
        return SQLiteStatement(raw)
    }

    /// Steps once: true for a row, false when done. The statement is reset on failure and when
    /// done, so no read transaction is left open behind a cached statement.
    func step(_ statement: SQLiteStatement, _ operation: @autoclosure () -> String) throws(StoreError) -> Bool {
        let rc = sqlite3_step(statement.raw)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE:
            sqlite3_reset(statement.raw)
            return false
        default:
            let error = failure(operation(), rc)
            sqlite3_reset(statement.raw)
            throw error
        }
    }

    /// Finishes with a statement whose remaining rows are not wanted, ending its read.
    func done(_ statement: SQLiteStatement) { sqlite3_reset(statement.raw) }

    private func open(for operation: String) throws(StoreError) -> OpaquePointer {
        guard let handle else { throw .sqlite(operation: operation, code: SQLITE_MISUSE, message: "the store is closed") }
        return handle
    }

    private func failure(_ operation: String, _ rc: Int32) -> StoreError {
        guard let handle else { return .sqlite(operation: operation, code: rc, message: String(cString: sqlite3_errstr(rc))) }
        // The extended code is more precise than `rc` (e.g. SQLITE_IOERR_FSYNC).
        return .sqlite(operation: operation, code: sqlite3_extended_errcode(handle), message: String(cString: sqlite3_errmsg(handle)))
    }
}

/// A borrowed prepared statement: typed binds and column reads. Owned by the connection's cache.
struct SQLiteStatement {
    let raw: OpaquePointer

    init(_ raw: OpaquePointer) { self.raw = raw }

    /// SQLite copies bound values at once with this destructor (SQLITE_TRANSIENT), so the
    /// Swift buffers need not outlive the bind call.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Binds UTF-8 text with its exact length, so a NUL inside a key survives.
    func bind(_ index: Int32, text: String) {
        // A native string's UTF-8 is read in place (no array per bind).
        var text = text
        text.withUTF8 { bind(index, textBuffer: $0) }
    }

    /// Binds bytes as TEXT. Used for prefix bounds, which need not be valid UTF-8: TEXT
    /// compares with memcmp under the default BINARY collation.
    func bind(_ index: Int32, textBytes bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { bind(index, textBuffer: $0) }
    }

    private func bind(_ index: Int32, textBuffer buffer: UnsafeBufferPointer<UInt8>) {
        // An empty buffer may have no base address, and a NULL pointer would bind SQL NULL
        // rather than "" (an empty value is live, not a tombstone).
        let empty: StaticString = ""
        let base = buffer.baseAddress.map(UnsafeRawPointer.init) ?? UnsafeRawPointer(empty.utf8Start)
        _ = sqlite3_bind_text(raw, index, base.assumingMemoryBound(to: CChar.self), Int32(buffer.count), SQLiteStatement.transient)
    }

    func bind(_ index: Int32, blob bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            if let base = buffer.baseAddress {
                _ = sqlite3_bind_blob(raw, index, base, Int32(buffer.count), SQLiteStatement.transient)
            } else {
                _ = sqlite3_bind_zeroblob(raw, index, 0)
            }
        }
    }

    func bind(_ index: Int32, int64 value: Int64) { _ = sqlite3_bind_int64(raw, index, value) }

    func bindNull(_ index: Int32) { _ = sqlite3_bind_null(raw, index) }

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(raw, column) == SQLITE_NULL }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(raw, column) }

    /// The column as text, read with its byte count (not up to a NUL); nil for SQL NULL.
    func text(_ column: Int32) -> String? {
        guard !isNull(column) else { return nil }
        guard let pointer = sqlite3_column_text(raw, column) else { return "" }
        let count = Int(sqlite3_column_bytes(raw, column))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    func blob(_ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(raw, column))
        guard count > 0, let pointer = sqlite3_column_blob(raw, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }
}
