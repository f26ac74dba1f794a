#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CEditLine
import ControlProtocol

/// The interactive prompt: `p2p-syncctl` with no command (the seed's REPL: `> status`, `> peers`).
struct Shell: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Interactive prompt with the same commands, history and line editing (the default).")
    @OptionGroup var globals: GlobalOptions

    func run() throws {
        let session = Session(globals: globals)
        let interactive = isatty(STDIN_FILENO) == 1
        let history = HistoryFile()
        if interactive {
            history.load()
            print("p2p-syncctl: connected to \(globals.controlPath() ?? "?"); type help for commands, exit to leave")
        }
        var lastStatus = ExitStatus.success
        while let line = readCommandLine(interactive: interactive) {
            let trimmed = line.trimmingCharacters
            if trimmed.isEmpty { continue }
            if interactive { history.add(trimmed) }
            let words: [String]
            do {
                words = try WordSplitter.split(trimmed)
            } catch {
                Console.error("p2p-syncctl: \(error)\n")
                lastStatus = ExitStatus.usage
                continue
            }
            switch words.first {
            case "exit", "quit": return
            case "help", "?":
                print(Shell.helpText)
                continue
            case "shell":
                Console.error("p2p-syncctl: already in the interactive prompt\n")
                continue
            default: break
            }
            do {
                let command = try P2PSyncCtl.parseAsRoot(words)
                guard let request = command as? any ControlRequestCommand else {
                    Console.error("p2p-syncctl: \(words[0]) is not available here\n")
                    continue
                }
                lastStatus = session.execute(request.controlCommand)
            } catch {
                let code = P2PSyncCtl.exitCode(for: error)
                let message = P2PSyncCtl.fullMessage(for: error)
                if code == .success { print(message) } else { Console.error(message + "\n") }
                lastStatus = code == .success ? ExitStatus.success : ExitStatus.usage
            }
            Console.flush()
        }
        if interactive { print("") }
        // In a pipe (`echo status | p2p-syncctl`), the exit status is the last command's.
        if !interactive && lastStatus != ExitStatus.success { throw ExitCode(lastStatus) }
    }

    static let helpText = """
        commands:
          status                 node state, listen addresses, counters
          info                   identity, files, protocols
          peers                  connected and known peers
          add KEY VALUE          write (also: put, set); add KEY --file PATH reads the value from a file
          get KEY                read from the local replica
          del KEY                delete (also: rm)
          list [PREFIX]          keys and values (also: ls)
          watch [PREFIX]         follow changes until Ctrl-C
          connect MULTIADDR      dial a peer (or connect PEER_ID: found through the DHT)
          disconnect PEER_ID     close a peer's connection
          ping PEER_ID [--count N]  round-trip time to a connected peer
          dht                    DHT mode, routing table, records, last bootstrap
          dht find-peer PEER_ID  a peer's addresses through the DHT
          dht providers [TOPIC]  the nodes that provide a topic
          dht put KEY VALUE      store a value record in the DHT (dht get KEY reads it)
          help                   this list
          exit                   leave (also: quit, Ctrl-D)
        quote values with spaces: add greeting "hello world"
        """

    private func readCommandLine(interactive: Bool) -> String? {
        if interactive {
            guard let raw = readline("> ") else { return nil }
            defer { free(raw) }
            return String(cString: raw)
        }
        return Swift.readLine(strippingNewline: true)
    }
}

/// The prompt's history, kept in `~/.p2p-syncctl_history` across runs.
struct HistoryFile {
    let path: String? = ProcessEnvironment.current["HOME"].map { $0 + "/.p2p-syncctl_history" }

    func load() {
        using_history()
        if let path { read_history(path) }
    }

    func add(_ line: String) {
        add_history(line)
        if let path {
            write_history(path)
            history_truncate_file(path, 1000)
        }
    }
}

extension String {
    var trimmingCharacters: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
