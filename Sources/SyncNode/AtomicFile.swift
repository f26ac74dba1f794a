#if canImport(Glibc)
import Glibc
#endif

/// Small files written whole through a temporary file, fsync and rename, so that a crash
/// leaves either the old file or the new one, never half of one.
enum AtomicFile {
    /// Writes `bytes` to `path` with `mode`; the error text (strerror) on failure.
    static func write(_ bytes: [UInt8], to path: String, mode: mode_t) -> String? {
        let temporary = path + ".tmp"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { return String(cString: strerror(errno)) }
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == bytes.count, synced == 0, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            return reason
        }
        return nil
    }

    /// The whole file, or nil if it is missing, unreadable or larger than `limit`.
    static func read(_ path: String, limit: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = Glibc.read(fd, &buffer, buffer.count)
            if n < 0 { return nil }
            if n == 0 { return bytes }
            bytes += buffer[0..<n]
            if bytes.count > limit { return nil }
        }
    }
}
