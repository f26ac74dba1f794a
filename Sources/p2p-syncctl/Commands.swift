import ArgumentParser
import ControlProtocol

struct Status: ControlRequestCommand {
    static let configuration = CommandConfiguration(abstract: "Show the node's state, listen addresses and counters.")
    @OptionGroup var globals: GlobalOptions
    var controlCommand: ControlCommand { .status }
}

struct Info: ControlRequestCommand {
    static let configuration = CommandConfiguration(abstract: "Show the node's identity, files and protocols.")
    @OptionGroup var globals: GlobalOptions
    var controlCommand: ControlCommand { .info }
}

struct Peers: ControlRequestCommand {
    static let configuration = CommandConfiguration(abstract: "List known peers with their state, RTT and agent.")
    @OptionGroup var globals: GlobalOptions
    var controlCommand: ControlCommand { .peers }
}

struct Add: ControlRequestCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write KEY = VALUE; it is replicated to every peer.",
        discussion: """
            The value is up to 1 MiB (1,048,576 bytes) of UTF-8 text. Give it on the command line, as - to read it from standard input, or with --file PATH; from stdin or a file it is taken byte for byte, a final newline included. Binary data must be encoded first (e.g. base64 -w0 FILE). A value too large for one gossip message (about 63 KiB) is announced to the peers, which fetch it by catch-up.
            """,
        aliases: ["put", "set"])
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "The key: 1 to 1024 bytes of UTF-8.") var key: String
    @Argument(help: "The value: up to 1 MiB of UTF-8; - reads it from standard input.") var value: String?
    @Option(name: .long, help: ArgumentHelp("Read the value from this file.", valueName: "path")) var file: String?

    var controlCommand: ControlCommand { .put(key: key, value: value ?? "") }

    /// Replaces `-` or `--file` by the text read, so that the request carries the value.
    mutating func validate() throws {
        switch (value, file) {
        case (nil, nil): throw ValidationError("give a VALUE, - to read it from standard input, or --file PATH")
        case (_?, _?): throw ValidationError("give either a VALUE or --file, not both")
        case (nil, let path?): value = try ValueInput.read(path: path, shownAs: path)
        case ("-", nil): value = try ValueInput.read(path: "-", shownAs: "standard input")
        default: break
        }
    }
}

struct Get: ControlRequestCommand {
    static let configuration = CommandConfiguration(abstract: "Print the value of KEY from the local replica (exit 1 if missing).")
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "The key to read.") var key: String
    var controlCommand: ControlCommand { .get(key: key) }
}

struct Del: ControlRequestCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete KEY everywhere (a tombstone, so older writes cannot bring it back).", aliases: ["rm", "delete"])
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "The key to delete.") var key: String
    var controlCommand: ControlCommand { .delete(key: key) }
}

struct List: ControlRequestCommand {
    static let configuration = CommandConfiguration(
        abstract: "List keys and values, optionally only those starting with PREFIX.", aliases: ["ls"])
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "Only keys starting with this (exact bytes, case-sensitive).") var prefix: String?
    @Option(help: "At most this many entries.") var limit: Int?
    var controlCommand: ControlCommand { .list(prefix: prefix, limit: limit) }

    func validate() throws {
        if let limit, limit <= 0 { throw ValidationError("--limit must be a positive number") }
    }
}

struct Watch: ControlRequestCommand {
    static let configuration = CommandConfiguration(abstract: "Print changes (local and remote) as they happen, until Ctrl-C.")
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "Only keys starting with this.") var prefix: String?
    var controlCommand: ControlCommand { .watch(prefix: prefix) }
}

struct Connect: ControlRequestCommand {
    static let configuration = CommandConfiguration(
        abstract: "Dial a peer by address, e.g. /ip4/192.0.2.1/tcp/4001/p2p/12D3KooW..., or by peer ID alone (found through the DHT).")
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "The peer's multiaddr, or its peer ID.") var multiaddr: String
    var controlCommand: ControlCommand { .connect(multiaddr: multiaddr) }
}

struct Disconnect: ControlRequestCommand {
    static let configuration = CommandConfiguration(abstract: "Close the connection to a peer.")
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "The peer ID (12D3KooW...).") var peerID: String
    var controlCommand: ControlCommand { .disconnect(peerID: peerID) }
}

struct PingPeer: ControlRequestCommand {
    static let configuration = CommandConfiguration(commandName: "ping", abstract: "Measure the round trip to a connected peer (/ipfs/ping/1.0.0).")
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "The peer ID (12D3KooW...).") var peerID: String
    @Option(help: "How many pings, one stream each (1 to 10000).") var count: Int = 1
    var controlCommand: ControlCommand { .ping(peerID: peerID, count: count) }

    func validate() throws {
        guard (1...10_000).contains(count) else { throw ValidationError("--count must be from 1 to 10000") }
    }
}

struct PerfPeer: ControlRequestCommand {
    static let configuration = CommandConfiguration(commandName: "perf", abstract: "Measure bulk throughput to a connected peer (/perf/1.0.0).")
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "The peer ID (12D3KooW...).") var peerID: String
    @Option(help: "Bytes to send (up to 1 GiB).") var upload: Int = 100 << 20
    @Option(help: "Bytes to ask back (up to 1 GiB).") var download: Int = 0
    var controlCommand: ControlCommand { .perf(peerID: peerID, uploadBytes: upload, downloadBytes: download) }

    func validate() throws {
        guard (0...(1 << 30)).contains(upload), (0...(1 << 30)).contains(download) else {
            throw ValidationError("--upload and --download take 0 to 1073741824 bytes")
        }
    }
}

struct Digest: ControlRequestCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a fingerprint of the replica (or of the keys starting with PREFIX).",
        discussion: "Equal on replicas that hold the same keys with the same versions (deletes included), different otherwise: compare it across nodes to check that they converged.")
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "Only keys starting with this.") var prefix: String?
    var controlCommand: ControlCommand { .digest(prefix: prefix) }
}

struct Doctor: ControlRequestCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check why peers are not found or not syncing: interfaces, multicast, mDNS, dials, topics.",
        discussion: "Each finding is one line: OK, WARN or FAIL, what was seen, and what to do about it.")
    @OptionGroup var globals: GlobalOptions
    var controlCommand: ControlCommand { .doctor }
}

/// `p2p-syncctl dht ...`: the Kademlia DHT that finds group members beyond the LAN.
struct Dht: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the DHT (mode, routing table, records, last bootstrap) or query it.",
        discussion: "The DHT (libp2p Kademlia) finds the members of this node's topic beyond the LAN: each node provides the key SHA-256(\"p2p-sync/\" + topic) and looks up the other providers.",
        subcommands: [DhtShow.self, DhtFindPeer.self, DhtProviders.self, DhtPut.self, DhtGet.self],
        defaultSubcommand: DhtShow.self)
}

struct DhtShow: ControlRequestCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Mode, routing table per bucket, stored records, last bootstrap.")
    @OptionGroup var globals: GlobalOptions
    var controlCommand: ControlCommand { .dht }
}

struct DhtFindPeer: ControlRequestCommand {
    static let configuration = CommandConfiguration(commandName: "find-peer", abstract: "Find a peer's addresses through the DHT (FIND_NODE).")
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "The peer ID (12D3KooW..., 16Uiu2..., Qm...).") var peerID: String
    var controlCommand: ControlCommand { .dhtFindPeer(peerID: peerID) }
}

struct DhtProviders: ControlRequestCommand {
    static let configuration = CommandConfiguration(commandName: "providers", abstract: "List the nodes that provide a topic (this node's topic by default).")
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "The topic name.") var topic: String?
    var controlCommand: ControlCommand { .dhtProviders(topic: topic) }
}

struct DhtPut: ControlRequestCommand {
    static let configuration = CommandConfiguration(commandName: "put", abstract: "Store a value record (up to 64 KiB) at the peers closest to KEY.")
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "The record key (UTF-8).") var key: String
    @Argument(help: "The value (UTF-8).") var value: String
    var controlCommand: ControlCommand { .dhtPut(key: key, value: value) }
}

struct DhtGet: ControlRequestCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Read a value record from the DHT (the newest of those found).")
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "The record key (UTF-8).") var key: String
    var controlCommand: ControlCommand { .dhtGet(key: key) }
}
