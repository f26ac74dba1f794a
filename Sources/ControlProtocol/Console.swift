#if canImport(Glibc)
import Glibc
#endif

/// Writes for the command-line tools. stdio's `stderr`/`stdout` globals are not usable from
/// Swift 6 code, so errors go straight to fd 2 and flushing goes through `fflush(nil)`.
public enum Console {
    /// Writes `text` to standard error as is (the caller adds the newline).
    public static func error(_ text: String) {
        flush()
        write(Array(text.utf8), to: STDERR_FILENO)
    }

    /// Writes bytes to standard output as they are (bulk output such as `export`).
    public static func output(_ bytes: [UInt8]) {
        flush()
        write(bytes, to: STDOUT_FILENO)
    }

    private static func write(_ bytes: [UInt8], to fd: Int32) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { if n < 0 && errno == EINTR { continue }; return }
            offset += n
        }
    }

    /// Flushes standard output (and every other stdio stream).
    public static func flush() { fflush(nil) }
}
