/// What went wrong with the store, with a message a user can act on.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidKey(String)
    case invalidValue(String)
    case cannotOpen(path: String, reason: String)
    /// `PRAGMA quick_check` did not say ok: reported, never silently replaced.
    case damaged(path: String, detail: String)
    case sqlite(operation: String, code: Int32, message: String)

    public var description: String {
        switch self {
        case .invalidKey(let why): return "invalid key: \(why)"
        case .invalidValue(let why): return "invalid value: \(why)"
        case .cannotOpen(let path, let reason):
            return "cannot open store \(path): \(reason) (is the data directory writable?)"
        case .damaged(let path, let detail):
            return "store \(path) is damaged (\(detail)); it was left untouched: restore it from a backup or move it away to start empty and catch up from peers"
        case .sqlite(let operation, let code, let message):
            return "store error during \(operation): \(message) (SQLite code \(code))"
        }
    }
}
