#if canImport(Glibc)
import Glibc
#endif
import ControlProtocol

/// The node's data directory and the files in it (DESIGN.md section 3), plus the lock
/// that keeps a second daemon off the same directory.
public struct DataDirectory: Sendable {
    public let path: String

    public var identityPath: String { path + "/identity.key" }
    public var storePath: String { path + "/store.db" }
    /// A private network's key (go-libp2p's swarm.key format), used when present.
    public var swarmKeyPath: String { path + "/swarm.key" }
    /// The private group this node belongs to (issue 14), and its audit log with the log's head.
    public var groupPath: String { path + "/group.json" }
    public var auditPath: String { path + "/audit.log" }
    public var auditHeadPath: String { path + "/audit.head" }
    public var defaultControlPath: String { DefaultPaths.controlSocket(inDataDirectory: path) }
    public var lockPath: String { path + "/p2p-syncd.lock" }
    public var pidPath: String { path + "/p2p-syncd.pid" }
    public var logPath: String { path + "/p2p-syncd.log" }
    public var peersPath: String { path + "/peers.json" }
    /// The DHT routing table's peers (issue 12).
    public var dhtPeersPath: String { path + "/dht-peers.json" }

    public init(path: String) { self.path = path }

    /// `--data-dir`, else `$P2P_SYNC_HOME`, else `~/.local/share/p2p-sync`.
    public static func resolve(explicit: String?, environment: [String: String]) throws(ConfigurationError) -> DataDirectory {
        guard let path = DefaultPaths.dataDirectory(explicit: explicit, environment: environment) else {
            throw .noDataDirectory
        }
        return DataDirectory(path: absolute(path))
    }

    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
        guard getcwd(&buffer, buffer.count) != nil else { return path }
        let cwd = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return path == "." ? cwd : cwd + "/" + path
    }

    /// Creates the directory (and its parents) with mode 0700 if missing.
    public func create() throws(ConfigurationError) {
        var current = ""
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            current += "/" + component
            if mkdir(current, 0o700) != 0 && errno != EEXIST {
                throw .cannotCreateDataDirectory(path: path, reason: String(cString: strerror(errno)))
            }
        }
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw .cannotCreateDataDirectory(path: path, reason: "it exists and is not a directory")
        }
    }

    /// Takes an exclusive `flock` on the lock file for the life of the process and writes our
    /// pid into it. The kernel drops the lock when the process dies, even by `kill -9`, so a
    /// crashed daemon never leaves a stale lock behind.
    public func lock() throws(ConfigurationError) -> DirectoryLock {
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw .dataDirectoryNotWritable(path: path, reason: String(cString: strerror(errno)))
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            let holder = readSmallFile(fd: fd).map { $0.split(separator: "\n").first.map(String.init) ?? "" }
            close(fd)
            if code == EWOULDBLOCK {
                throw .alreadyRunning(dataDirectory: path, pid: holder.flatMap { $0.isEmpty ? nil : $0 })
            }
            throw .dataDirectoryNotWritable(path: path, reason: String(cString: strerror(code)))
        }
        ftruncate(fd, 0)
        let pidLine = Array("\(getpid())\n".utf8)
        _ = pidLine.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return DirectoryLock(fd: fd)
    }

    private func readSmallFile(fd: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = pread(fd, &buffer, buffer.count, 0)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n], as: UTF8.self)
    }
}

/// Holds the data directory's lock; released when the process exits.
public final class DirectoryLock {
    private let fd: Int32
    init(fd: Int32) { self.fd = fd }
    deinit { close(fd) }
}
