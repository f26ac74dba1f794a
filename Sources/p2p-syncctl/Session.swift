#if canImport(Glibc)
import Glibc
#endif
import ControlProtocol
import CSyncShim
import JSON

/// Runs control commands against the daemon and prints their results; shared by one-shot
/// invocations and the interactive prompt (which keeps its connection between commands).
final class Session {
    let globals: GlobalOptions
    private var client: ControlClient?

    init(globals: GlobalOptions) { self.globals = globals }

    static func oneShot(globals: GlobalOptions) -> Session { Session(globals: globals) }

    private func connected() throws(ControlConnectionError) -> ControlClient {
        if let client { return client }
        guard let path = globals.controlPath() else {
            throw .noDaemon(path: "(none)", reason: "no control socket: set --control, --data-dir, P2P_SYNC_HOME or HOME")
        }
        let made = try ControlClient(path: path)
        client = made
        return made
    }

    /// Runs one command; returns the exit status (0, 1 or 3).
    func execute(_ command: ControlCommand) -> Int32 {
        do {
            let client = try connected()
            if case .watch = command { return try watch(command, client: client) }
            let response = try client.call(command)
            return report(response, for: command)
        } catch {
            self.client = nil
            printError("\(error)")
            return ExitStatus.noDaemon
        }
    }

    private func report(_ response: ControlResponse, for command: ControlCommand) -> Int32 {
        switch response {
        case .success(_, let result):
            if globals.json {
                print(result.encodedString)
            } else {
                print(HumanFormat.render(result, for: command), terminator: "")
            }
            return ExitStatus.success
        case .failure(let error):
            if globals.json {
                print(JSON.object(["error": ["code": .string(error.code.rawValue), "message": .string(error.message)]]).encodedString)
            }
            printError(error.message)
            return ExitStatus.daemonError
        case .event:
            return ExitStatus.success
        }
    }

    /// Streams events until Ctrl-C (SIGINT is read from a signalfd, so the wait ends cleanly
    /// and the interactive prompt survives it) or until the daemon goes away.
    private func watch(_ command: ControlCommand, client: ControlClient) throws(ControlConnectionError) -> Int32 {
        var mask = sigset_t()
        sigemptyset(&mask)
        sigaddset(&mask, SIGINT)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &mask, &previous)
        let signalFD = signalfd(-1, &mask, csync_sfd_cloexec())
        defer {
            if signalFD >= 0 { close(signalFD) }
            pthread_sigmask(SIG_SETMASK, &previous, nil)
        }
        let response = try client.call(command)
        guard case .success(_, let result) = response else { return report(response, for: command) }
        if globals.json {
            print(result.encodedString)
        } else {
            let prefix = result["watching"]?.stringValue ?? ""
            print(prefix.isEmpty ? "watching all keys (Ctrl-C to stop)" : "watching keys starting with \"\(prefix)\" (Ctrl-C to stop)")
        }
        Console.flush()
        while true {
            guard let line = try client.readLine(interruptedBy: signalFD >= 0 ? signalFD : nil) else {
                // Ctrl-C: this watch ends; the connection is still in watch mode, so drop it.
                self.client = nil
                return ExitStatus.success
            }
            guard case .event(let event) = try? ControlResponse.parse(line: line) else { continue }
            print(globals.json ? event.encodedString : HumanFormat.event(event))
            Console.flush()
        }
    }

    private func printError(_ message: String) {
        Console.error("p2p-syncctl: \(message)\n")
    }
}
