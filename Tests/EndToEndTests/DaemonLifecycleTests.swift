import ControlProtocol
import Foundation
import Testing
import TestSupport

/// The daemon as a user runs it: real processes, temp data dirs, port 0.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct DaemonLifecycleTests {
    @Test func writesSurviveKillNine() throws {
        let node = DaemonHarness()
        let daemon = try node.start()
        #expect(daemon.stdout.contains("peer id: 12D3KooW"))
        #expect(daemon.stdout.contains("/tcp/"))
        #expect(daemon.stdout.contains("control socket: \(node.controlPath)"))

        let add = try node.ctl("add", "k", "v")
        #expect(add.status == 0, "\(add.stderr)")
        #expect(add.stdout.contains("stored k"))
        #expect(try node.ctl("get", "k").stdout == "v\n")
        let peerLine = daemon.stdout.split(separator: "\n").first { $0.hasPrefix("peer id:") }

        daemon.signal(SIGKILL)
        #expect(daemon.waitForExit() == 128 + SIGKILL)
        let restarted = try node.start()
        #expect(try node.ctl("get", "k").stdout == "v\n")
        // Same identity after a restart.
        #expect(restarted.stdout.split(separator: "\n").first { $0.hasPrefix("peer id:") } == peerLine)

        var info = stat()
        #expect(stat(node.dataDir + "/identity.key", &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        #expect(info.st_size == 68)  // 08 01 12 40 ‖ seed ‖ public key
        #expect(stat(node.controlPath, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
    }

    @Test func listDeleteAndErrorsWithExitCodes() throws {
        let node = DaemonHarness()
        try node.start()
        for (k, v) in [("a/1", "one"), ("a/2", "two with spaces"), ("b", "bee")] {
            #expect(try node.ctl("add", k, v).status == 0)
        }
        #expect(try node.ctl("list").stdout == "a/1\tone\na/2\ttwo with spaces\nb\tbee\n")
        #expect(try node.ctl("ls", "a/").stdout == "a/1\tone\na/2\ttwo with spaces\n")
        let del = try node.ctl("rm", "a/1")
        #expect(del.status == 0 && del.stdout == "deleted a/1\n")
        #expect(try node.ctl("list", "a/").stdout == "a/2\ttwo with spaces\n")

        let missing = try node.ctl("get", "a/1")
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("key not found: a/1"))

        let usage = try node.ctl("add", "only-a-key")
        #expect(usage.status == 2)
        #expect(usage.stderr.contains("give a VALUE, - to read it from standard input, or --file PATH"), "\(usage.stderr)")

        let tooLong = try node.ctl("add", String(repeating: "k", count: 1025), "v")
        #expect(tooLong.status == 1)
        #expect(tooLong.stderr.contains("1025"))

        let json = try node.ctl("--json", "get", "b")
        #expect(json.status == 0)
        #expect(json.stdout.contains(#""value":"bee""#))

        let status = try node.ctl("status")
        #expect(status.stdout.contains("state: Listening"))
        #expect(status.stdout.contains("keys: 2"))
        // Readable lines, not the daemon's JSON (`--json` has that).
        #expect(status.stdout.contains("\ngossip: topic "), "\(status.stdout)")
        #expect(status.stdout.contains("\nreconcile: "), "\(status.stdout)")
        #expect(!status.stdout.contains("{"), "\(status.stdout)")
        #expect(try node.ctl("--json", "status").stdout.hasPrefix("{"))
    }

    @Test func watchShowsChangesFromAnotherClient() throws {
        let node = DaemonHarness()
        try node.start()
        let watcher = try ChildProcess(BuiltProducts.path("p2p-syncctl"), ["--data-dir", node.dataDir, "--json", "watch", "w/"],
                                       directory: node.directory.path, name: "watch")
        #expect(ChildProcess.waitUntil { watcher.stdout.contains("watching") })
        #expect(try node.ctl("add", "w/x", "1").status == 0)
        #expect(try node.ctl("add", "other", "2").status == 0)
        #expect(try node.ctl("del", "w/x").status == 0)
        #expect(ChildProcess.waitUntil { watcher.stdout.contains(#""deleted":true"#) })
        let lines = watcher.stdout.split(separator: "\n").dropFirst()
        #expect(lines.count == 2)
        #expect(lines.first?.contains(#""key":"w/x""#) == true && lines.first?.contains(#""value":"1""#) == true)
        #expect(lines.allSatisfy { $0.contains(#""source":"local""#) })
        #expect(!watcher.stdout.contains("other"))
        watcher.signal(SIGINT)
        #expect(watcher.waitForExit() == 0)
    }

    @Test func interactivePromptReadsCommandsFromAPipe() throws {
        let node = DaemonHarness()
        try node.start()
        let result = try node.ctl([], stdin: "add greeting \"hello world\"\nget greeting\nhelp\nbogus\nexit\n")
        #expect(result.stdout.contains("hello world\n"))
        #expect(result.stdout.contains("commands:"))
        #expect(result.stderr.contains("bogus"))
    }

    @Test func noDaemonExitsThree() throws {
        let node = DaemonHarness()
        let result = try node.ctl("get", "k")
        #expect(result.status == 3)
        #expect(result.stderr.contains("is p2p-syncd running?"))
    }

    @Test func secondDaemonOnTheSameDataDirIsRefused() throws {
        let node = DaemonHarness()
        try node.start()
        let second = try ChildProcess(BuiltProducts.path("p2p-syncd"), ["--port", "0", "--data-dir", node.dataDir],
                                      directory: node.directory.path, name: "second")
        #expect(second.waitForExit() == 1)
        #expect(second.stderr.contains("already running"))
        #expect(try node.ctl("status").status == 0)
    }

    @Test func takenPortIsAClearError() throws {
        let first = DaemonHarness()
        let daemon = try first.start()
        let port = try #require(daemon.stdout.split(separator: "\n").first { $0.hasPrefix("listening on /ip4/127.0.0.1/tcp/") }
            .flatMap { $0.split(separator: "/").dropFirst(4).first })
        let other = DaemonHarness()
        let second = try ChildProcess(BuiltProducts.path("p2p-syncd"), ["--port", String(port), "--data-dir", other.dataDir],
                                      directory: other.directory.path, name: "second")
        #expect(second.waitForExit() == 1)
        #expect(second.stderr.contains("address in use"))
        #expect(second.stderr.contains("--port 0"))
    }

    @Test func unwritableDataDirIsAClearError() throws {
        let dir = TemporaryDirectory()
        FileManager.default.createFile(atPath: dir.file("plain-file"), contents: Data("x".utf8))
        let child = try ChildProcess(BuiltProducts.path("p2p-syncd"), ["--port", "0", "--data-dir", dir.file("plain-file/node")],
                                     directory: dir.path, name: "bad")
        #expect(child.waitForExit() == 1)
        #expect(child.stderr.contains("cannot create data directory"))
    }

    @Test func sigtermStopsCleanly() throws {
        let node = DaemonHarness()
        let daemon = try node.start()
        #expect(try node.ctl("add", "k", "v").status == 0)
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
        #expect(!FileManager.default.fileExists(atPath: node.controlPath))
        #expect(daemon.stderr.contains("stopped"))
    }

    @Test func detachRunsInTheBackground() throws {
        let node = DaemonHarness()
        let launcher = try ChildProcess(BuiltProducts.path("p2p-syncd"), ["--port", "0", "--data-dir", node.dataDir, "--detach"],
                                        directory: node.directory.path, name: "detach")
        #expect(launcher.waitForExit(timeout: 20) == 0, "\(launcher.stderr)")
        #expect(launcher.stdout.contains("started in the background"))
        let pidText = try String(contentsOfFile: node.dataDir + "/p2p-syncd.pid", encoding: .utf8)
        let pid = try #require(Int32(pidText.trimmingCharacters(in: .whitespacesAndNewlines)))
        defer { kill(pid, SIGKILL) }
        #expect(try node.ctl("add", "bg", "yes").status == 0)
        #expect(try node.ctl("get", "bg").stdout == "yes\n")
        kill(pid, SIGTERM)
        #expect(ChildProcess.waitUntil { kill(pid, 0) != 0 })
        let log = try String(contentsOfFile: node.dataDir + "/p2p-syncd.log", encoding: .utf8)
        #expect(log.contains("peer id: 12D3KooW"))
    }
}

/// The prompt on a real terminal: `script` gives p2p-syncctl a pseudo-terminal, so libedit's
/// history (Up arrow) and line editing (Left arrow, insert) are exercised as a person uses them.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct InteractivePromptTests {
    @Test func historyAndLineEditingWorkOnATerminal() throws {
        let node = DaemonHarness()
        try node.start()
        let prompt = try ChildProcess("/usr/bin/script", ["-qfec", "\(BuiltProducts.path("p2p-syncctl")) --data-dir \(node.dataDir)", "/dev/null"],
                                      directory: node.directory.path, name: "tty", environment: ["HOME": node.directory.path, "TERM": "xterm"],
                                      stdin: true)
        for input in ["add hk one\n", "get hk\n", "\u{1b}[A\u{1b}[A\n", "get k\u{1b}[Dh\n", "exit\n"] {
            prompt.writeStdin(input)
            usleep(400_000)
        }
        prompt.closeStdin()
        #expect(prompt.waitForExit(timeout: 10) == 0)
        let screen = prompt.stdout
        // Up, Up recalled `add hk one` and ran it again.
        #expect(screen.components(separatedBy: "stored hk").count - 1 == 2, "\(screen)")
        // `get k`, Left, `h` is `get hk`.
        #expect(screen.components(separatedBy: "one\r\n").count - 1 >= 2, "\(screen)")
        let history = try String(contentsOfFile: node.directory.file(".p2p-syncctl_history"), encoding: .utf8)
        // libedit writes its own format (`_HiStOrY_V2_`, spaces as \040).
        #expect(history.contains("add\\040hk\\040one"), "\(history)")
    }
}
