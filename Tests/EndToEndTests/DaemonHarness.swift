import ControlProtocol
import Foundation
import TestSupport

/// A real `p2p-syncd` on a temporary data dir and port 0, and a way to run `p2p-syncctl` at it.
final class DaemonHarness: @unchecked Sendable {
    let directory: TemporaryDirectory
    let dataDir: String
    private(set) var daemon: ChildProcess?
    private var starts = 0
    /// A command the daemon runs under, e.g. `ip netns exec NAME`.
    var launcher: [String] = []
    /// Off by default: daemons of one test would otherwise find those of every other test
    /// running at the same time on this machine (mDNS loops back on the host's interfaces).
    var mdns = false

    init() {
        directory = TemporaryDirectory(prefix: "p2p-sync-e2e")
        dataDir = directory.file("node")
    }

    var controlPath: String { dataDir + "/control.sock" }

    /// Starts the daemon and waits until its control socket answers (at most 20 s).
    @discardableResult
    func start(_ extraArguments: [String] = []) throws -> ChildProcess {
        starts += 1
        let daemonArguments = ["--port", "0", "--data-dir", dataDir] + (mdns ? [] : ["--no-mdns"]) + extraArguments
        let child = launcher.isEmpty
            ? try ChildProcess(BuiltProducts.path("p2p-syncd"), daemonArguments, directory: directory.path, name: "daemon\(starts)")
            : try ChildProcess(launcher[0], Array(launcher.dropFirst()) + [BuiltProducts.path("p2p-syncd")] + daemonArguments,
                               directory: directory.path, name: "daemon\(starts)")
        daemon = child
        let up = ChildProcess.waitUntil(timeout: 20) {
            guard child.isRunning else { return true }
            guard let client = try? ControlClient(path: controlPath),
                  let response = try? client.call(.status), case .success = response else { return false }
            return true
        }
        guard up, child.isRunning else {
            throw HarnessError.daemonDidNotStart(stderr: child.stderr)
        }
        return child
    }

    /// Runs `p2p-syncctl --data-dir <dataDir> arguments...` to completion.
    func ctl(_ arguments: [String], stdin: String? = nil, timeout: Double = 20) throws -> (status: Int32, stdout: String, stderr: String) {
        starts += 1
        let child = try ChildProcess(BuiltProducts.path("p2p-syncctl"), ["--data-dir", dataDir] + arguments,
                                     directory: directory.path, name: "ctl\(starts)", stdin: stdin != nil)
        if let stdin {
            child.writeStdin(stdin)
            child.closeStdin()
        }
        guard let status = child.waitForExit(timeout: timeout) else {
            child.signal(SIGKILL)
            throw HarnessError.timedOut(arguments)
        }
        return (status, child.stdout, child.stderr)
    }

    func ctl(_ arguments: String...) throws -> (status: Int32, stdout: String, stderr: String) {
        try ctl(arguments)
    }

    func client() throws -> ControlClient { try ControlClient(path: controlPath) }

    deinit {
        daemon?.signal(SIGKILL)
        _ = daemon?.waitForExit(timeout: 5)
    }
}

enum HarnessError: Error, CustomStringConvertible {
    case daemonDidNotStart(stderr: String)
    case timedOut([String])

    var description: String {
        switch self {
        case .daemonDidNotStart(let stderr): "p2p-syncd did not start: \(stderr)"
        case .timedOut(let args): "p2p-syncctl \(args) did not finish in time"
        }
    }
}
