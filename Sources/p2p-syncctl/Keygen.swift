import ArgumentParser
import ControlProtocol
import Glibc
import PrivateNetwork

/// `p2p-syncctl keygen ...`: keys made on this machine, without a daemon.
struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make keys (no daemon needed).",
        subcommands: [KeygenSwarmKey.self])
}

/// A private network's key, in go-libp2p's swarm.key format.
struct KeygenSwarmKey: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swarm-key",
        abstract: "Write a new private network key (swarm.key, mode 0600).",
        discussion: """
            Nodes with a swarm key connect only to nodes with the same key (libp2p pnet: every TCP connection is encrypted with it before anything else; QUIC is off). Copy the file to every node of the group, into its data directory (read at start) or anywhere with p2p-syncd --swarm-key FILE. The file is secret: anyone who has it can join.
            """)

    @Option(name: .customLong("data-dir"),
            help: ArgumentHelp("Data directory whose swarm.key to write. Default: $P2P_SYNC_HOME, else ~/.local/share/p2p-sync.", valueName: "path"))
    var dataDir: String?

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Write here instead of <data-dir>/swarm.key (- for standard output).", valueName: "file"))
    var output: String?

    @Flag(help: "Replace an existing file (nodes with the old key can no longer connect).")
    var force = false

    func run() throws {
        let key = SwarmKey.generate()
        let contents = key.fileContents
        if output == "-" {
            print(String(decoding: contents, as: UTF8.self), terminator: "")
            return
        }
        guard let path = output ?? DefaultPaths.dataDirectory(explicit: dataDir, environment: ProcessEnvironment.current).map({ $0 + "/swarm.key" }) else {
            throw ValidationError("no data directory: give --data-dir or --output")
        }
        if !force, access(path, F_OK) == 0 {
            throw ValidationError("\(path) exists: keep it (every node needs the same key), or pass --force to replace it")
        }
        if output == nil, let directory = DefaultPaths.dataDirectory(explicit: dataDir, environment: ProcessEnvironment.current) {
            // The daemon makes its data directory on start; a key may come first.
            mkdir(directory, 0o700)
        }
        // A fresh file is created 0600; a replaced one is truncated and set to 0600 too.
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | (force ? 0 : O_EXCL), 0o600)
        guard fd >= 0 else { throw ValidationError("cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        fchmod(fd, 0o600)
        let written = contents.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == contents.count, fsync(fd) == 0 else {
            throw ValidationError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        print("wrote a new swarm key to \(path) (key id \(key.identifier))")
        print("copy it to every node of the group (its data directory, or p2p-syncd --swarm-key FILE); keep it secret")
    }
}
