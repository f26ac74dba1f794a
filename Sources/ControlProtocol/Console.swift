#if canImport(Glibc)
import Glibc
#endif

/// Writes for the command-line tools. stdio's `stderr`/`stdout` globals are not usable from
/// Swift 6 code, so errors go straight to fd 2 and flushing goes through `fflush(nil)`.
public enum Console {
    /// Writes `text` to standard error as is (the caller adds the newline).
    public static func error(_ text: String) {
        flush()
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { write(STDERR_FILENO, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { if n < 0 && errno == EINTR { continue }; return }
            offset += n
        }
    }

    /// Flushes standard output (and every other stdio stream).
    public static func flush() { fflush(nil) }
}
