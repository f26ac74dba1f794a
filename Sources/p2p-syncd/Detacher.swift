#if canImport(Glibc)
import Glibc
#endif
import ControlProtocol
import CSyncShim
import SyncNode

enum DetachError: Error, CustomStringConvertible {
    case spawnFailed(String)
    case childFailed(log: String, tail: String)
    case timedOut(log: String)

    var description: String {
        switch self {
        case .spawnFailed(let reason): return "cannot start in the background: \(reason)"
        case .childFailed(let log, let tail): return "the background daemon exited during start-up (log: \(log)):\n\(tail)"
        case .timedOut(let log): return "the background daemon did not open its control socket within 15 s (see \(log))"
        }
    }
}

/// `--detach`: starts this same executable again in a new session with its output going to
/// the log file, and returns once the child serves its control socket, so that a script can
/// run `p2p-syncd --detach && p2p-syncctl status`.
///
/// A re-exec rather than `fork`: the parent has already parsed arguments and may hold state
/// that must not be duplicated; the child starts clean.
enum Detacher {
    static let childMarker = "P2P_SYNC_DETACHED_CHILD"

    static func detach(configuration: NodeConfiguration) throws {
        let dir = configuration.dataDirectory
        try dir.create()
        // Fail here, with the usual message, if a daemon already holds the directory; otherwise
        // we might mistake that daemon's control socket for our child's.
        do { _ = try dir.lock() }
        let logPath = dir.logPath
        let arguments = CommandLine.arguments.filter { $0 != "--detach" }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else the launcher had open goes to the daemon: a supervisor that watches
        // a pipe or socket for our exit would otherwise wait as long as the daemon lives.
        csync_spawn_closefrom(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A new session: the daemon survives the terminal that started it.
        posix_spawnattr_setflags(&attributes, Int16(csync_posix_spawn_setsid()))

        var environment = ProcessEnvironment.current
        environment[childMarker] = "1"
        let envStrings = environment.map { "\($0.key)=\($0.value)" }
        let executable = "/proc/self/exe"

        var pid: pid_t = 0
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = envStrings.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw DetachError.spawnFailed(String(cString: strerror(rc))) }

        // Wait for the child to answer on its control socket, or to die trying.
        for _ in 0..<300 {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                throw DetachError.childFailed(log: logPath, tail: tail(of: logPath))
            }
            if let client = try? ControlClient(path: configuration.controlPath),
               let response = try? client.call(.status), case .success = response {
                print("p2p-syncd started in the background (pid \(pid))")
                print("log: \(logPath)")
                print("control socket: \(configuration.controlPath)")
                return
            }
            usleep(50_000)
        }
        throw DetachError.timedOut(log: logPath)
    }

    static func writePidFile(_ path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        let text = Array("\(getpid())\n".utf8)
        _ = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    private static func tail(of path: String) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        let size = lseek(fd, 0, SEEK_END)
        let start = max(0, size - 2048)
        var buffer = [UInt8](repeating: 0, count: Int(size - start))
        let n = pread(fd, &buffer, buffer.count, start)
        guard n > 0 else { return "" }
        return String(decoding: buffer[0..<n], as: UTF8.self)
    }
}
