#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import ControlProtocol

/// Exit codes (DESIGN.md section 1).
enum ExitStatus {
    static let success: Int32 = 0
    static let daemonError: Int32 = 1
    static let usage: Int32 = 2
    static let noDaemon: Int32 = 3
}

/// Options every command shares: where the daemon is and how to print.
struct GlobalOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Control socket of the daemon. Default: <data-dir>/control.sock.", valueName: "path"))
    var control: String?

    @Option(name: .customLong("data-dir"),
            help: ArgumentHelp("Data directory of the daemon. Default: $P2P_SYNC_HOME, else ~/.local/share/p2p-sync.", valueName: "path"))
    var dataDir: String?

    @Flag(help: "Print one JSON object per result, for scripts.")
    var json = false

    /// The socket path the options point to.
    func controlPath() -> String? {
        if let control { return control }
        return DefaultPaths.dataDirectory(explicit: dataDir, environment: ProcessEnvironment.current)
            .map(DefaultPaths.controlSocket(inDataDirectory:))
    }
}

/// A subcommand that is one control request.
protocol ControlRequestCommand: ParsableCommand {
    var globals: GlobalOptions { get }
    var controlCommand: ControlCommand { get }
}

extension ControlRequestCommand {
    func run() throws {
        let status = Session.oneShot(globals: globals).execute(controlCommand)
        if status != ExitStatus.success { throw ExitCode(status) }
    }
}

@main
struct P2PSyncCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "p2p-syncctl",
        abstract: "Drive a running p2p-syncd: read and write keys, watch changes, inspect peers.",
        discussion: """
            With no command, opens an interactive prompt ("> ") with the same commands, plus help and exit, with history and line editing.

            Exit status: 0 success; 1 the daemon reported an error (a missing key for get); 2 usage error; 3 no daemon at the control socket.
            """,
        version: "0.1.0",
        subcommands: [Status.self, Info.self, Peers.self, Add.self, Get.self, Del.self, List.self,
                      Watch.self, Connect.self, Disconnect.self, PingPeer.self, PerfPeer.self, Digest.self, Doctor.self, Dht.self, Import.self, Export.self, Keygen.self, GroupCommand.self, Members.self, Audit.self, Shell.self],
        defaultSubcommand: Shell.self
    )

    static func main() {
        signal(SIGPIPE, SIG_IGN)
        do {
            var command = try parseAsRoot(hoistingGlobalOptions(Array(CommandLine.arguments.dropFirst())))
            try command.run()
        } catch {
            exit(withCode: error)
        }
    }

    /// Global options may come before the command (`p2p-syncctl --data-dir D add k v`, as
    /// DESIGN.md writes it); ArgumentParser reads a subcommand's options only after its name,
    /// so leading global options are moved behind the command name.
    static func hoistingGlobalOptions(_ arguments: [String]) -> [String] {
        var leading: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--json" {
                leading.append(argument)
                index += 1
            } else if argument == "--control" || argument == "--data-dir", index + 1 < arguments.count {
                leading += [argument, arguments[index + 1]]
                index += 2
            } else if argument.hasPrefix("--control=") || argument.hasPrefix("--data-dir=") {
                leading.append(argument)
                index += 1
            } else {
                break
            }
        }
        guard !leading.isEmpty else { return arguments }
        let rest = Array(arguments[index...])
        guard let command = rest.first, !command.hasPrefix("-") else {
            // Only global options (or help/version flags): the default command, the prompt.
            return rest.isEmpty ? ["shell"] + leading : rest + leading
        }
        // A command with subcommands (`dht find-peer ID`): the options go after the subcommand.
        if let group = groupCommands[command], rest.count > 1, group.contains(rest[1]) {
            return [command, rest[1]] + leading + rest.dropFirst(2)
        }
        return [command] + leading + rest.dropFirst()
    }

    /// Commands that have subcommands, and the subcommands' names.
    static let groupCommands: [String: Set<String>] = [
        "dht": Set(Dht.configuration.subcommands.map { $0._commandName }),
        "keygen": Set(Keygen.configuration.subcommands.map { $0._commandName }),
        "group": Set(GroupCommand.configuration.subcommands.map { $0._commandName }),
        "members": Set(Members.configuration.subcommands.map { $0._commandName }),
    ]

    /// ArgumentParser's own exit code for usage errors is 64; ours is 2 (DESIGN.md section 1).
    static func exit(withCode error: Error) -> Never {
        let code = exitCode(for: error)
        if code == .success {
            print(fullMessage(for: error))
            Glibc.exit(0)
        }
        if let exit = error as? ExitCode { Glibc.exit(exit.rawValue) }
        Console.error(fullMessage(for: error) + "\n")
        Glibc.exit(code == .validationFailure ? ExitStatus.usage : code.rawValue)
    }
}
