import CSQLite

/// What went wrong with the store, with a message a user can act on.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The key breaks `EntryLimits`; the text says how.
    case invalidKey(String)
    /// The value breaks `EntryLimits`; the text says how.
    case invalidValue(String)
    /// The file could not be opened or set up; `reason` says why and what to try.
    case cannotOpen(path: String, reason: String)
    /// The file is not an SQLite database, or `PRAGMA quick_check` did not say ok. It is
    /// reported and left untouched, never silently replaced by an empty store.
    case damaged(path: String, detail: String)
    /// An SQLite call failed after the store was open. `code` is the extended result code.
    case sqlite(operation: String, code: Int32, message: String)
    /// A local write refused because this node's wall clock is too far ahead of its peers'
    /// (issue 17); the text says by how much and what to do.
    case clockAhead(String)
    /// A local write this node may not make: it is a reader in its group, or the key is one
    /// the node keeps for itself (issue 14). The text says which.
    case notPermitted(String)

    public var description: String {
        switch self {
        case .invalidKey(let why): return "invalid key: \(why)"
        case .invalidValue(let why): return "invalid value: \(why)"
        case .cannotOpen(let path, let reason): return "cannot open store \(path): \(reason)"
        case .damaged(let path, let detail):
            return "store \(path) is damaged (\(detail)); it was left untouched: restore it from a backup, or move it (and any -wal/-shm files beside it) away to start empty and catch up from peers"
        case .clockAhead(let why): return why
        case .notPermitted(let why): return why
        case .sqlite(let operation, let code, let message):
            return "store failed to \(operation): \(message) (SQLite code \(code))\(StoreError.hint(forCode: code))"
        }
    }

    /// Advice for the failures a user can do something about.
    private static func hint(forCode code: Int32) -> String {
        switch code & 0xff {
        case SQLITE_FULL: return "; the disk is full: free some space"
        case SQLITE_IOERR: return "; the disk reported an I/O error: check it and the kernel log"
        case SQLITE_READONLY: return "; the store file became read-only: check its permissions"
        case SQLITE_BUSY, SQLITE_LOCKED: return "; another process holds the store: is a second p2p-syncd using this data dir?"
        case SQLITE_CORRUPT: return "; the file is damaged: stop the daemon and restore it from a backup"
        default: return ""
        }
    }
}
