#if canImport(Glibc)
import Glibc
#endif
import Group
import JSON

/// The audit log file (docs/GROUPS.md): lines appended with O_APPEND and flushed to disk, the
/// chain's head kept beside it in `audit.head` (written whole), so that `--verify` finds an
/// edited line, a removed one, and removed last lines. The format is `AuditChain`'s.
final class AuditLog {
    let path: String
    let headPath: String
    private var chain: AuditChain
    private let logger: Logger
    private(set) var failures = 0

    init(path: String, headPath: String, logger: Logger) {
        self.path = path
        self.headPath = headPath
        self.logger = logger
        let stored = AtomicFile.read(headPath, limit: 4_096).flatMap { AuditChain.Head(text: String(decoding: $0, as: UTF8.self)) }
        chain = AuditChain(head: stored ?? .empty)
    }

    var count: Int { chain.head.count }

    /// Appends one event now; a failure to write is logged (and counted in `status`), never fatal.
    func record(_ event: String, _ fields: [String: JSON]) {
        var next = chain
        let line = next.append(event: event, time: Timestamp.iso8601(millis: WallClock.nowMillis()), fields: fields) + "\n"
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return fail("cannot open \(path): \(String(cString: strerror(errno)))") }
        let bytes = Array(line.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fdatasync(fd)
        close(fd)
        guard written == bytes.count, synced == 0 else { return fail("cannot append to \(path): \(String(cString: strerror(errno)))") }
        chain = next
        if let error = AtomicFile.write(Array((chain.head.text + "\n").utf8), to: headPath, mode: 0o600) {
            fail("cannot write \(headPath): \(error)")
        }
    }

    private func fail(_ message: String) {
        failures += 1
        logger.warning("audit log: \(message)")
    }

    /// The log's lines (at most 64 MiB read).
    func lines() -> [String] {
        guard let bytes = AtomicFile.read(path, limit: 64 << 20) else { return [] }
        return bytes.split(separator: UInt8(ascii: "\n")).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The chain checked against the stored head.
    func verify() -> [AuditChain.Problem] {
        let stored = AtomicFile.read(headPath, limit: 4_096).flatMap { AuditChain.Head(text: String(decoding: $0, as: UTF8.self)) }
        return AuditChain.verify(lines: lines(), head: stored)
    }
}
