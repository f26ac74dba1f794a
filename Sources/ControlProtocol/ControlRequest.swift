import JSON

/// One request on the control socket: a JSON object on one line, documented in docs/CONTROL.md.
///
/// `{"id": 7, "command": "add", "key": "k", "value": "v"}`. The `id` is optional and echoed
/// in the response so that scripts can pipeline requests.
public struct ControlRequest: Equatable, Sendable {
    public var id: JSON
    public var command: ControlCommand

    public init(id: JSON = .null, command: ControlCommand) {
        self.id = id
        self.command = command
    }
}

/// What a client can ask of the daemon.
public enum ControlCommand: Equatable, Sendable {
    case status
    case info
    case peers
    case put(key: String, value: String)
    case get(key: String)
    case delete(key: String)
    /// Live entries by key order; `after`: only keys after it (paging, as `export` does).
    case list(prefix: String?, limit: Int?, after: String? = nil)
    /// Several puts and deletes (a nil value) committed together, all or none (`import`).
    case writeBatch([BatchWrite])
    case watch(prefix: String?)
    case connect(multiaddr: String)
    case disconnect(peerID: String)
    /// Pings a connected peer `count` times, one `/ipfs/ping/1.0.0` stream each.
    case ping(peerID: String, count: Int)
    /// Measures bulk throughput to a connected peer with `/perf/1.0.0`.
    case perf(peerID: String, uploadBytes: Int, downloadBytes: Int)
    /// A fingerprint of the replica (or of the keys starting with `prefix`): equal on
    /// converged replicas, different otherwise.
    case digest(prefix: String?)
    /// Checks of the node's network state, one finding per line (`p2p-syncctl doctor`).
    case doctor
    /// The DHT's state: mode, routing table per bucket, records, last bootstrap.
    case dht
    /// Finds a peer's addresses through the DHT (an iterative FIND_NODE).
    case dhtFindPeer(peerID: String)
    /// Lists the providers of a topic's group key (our topic when nil).
    case dhtProviders(topic: String?)
    /// Stores a value record in the DHT (PUT_VALUE to the closest peers).
    case dhtPut(key: String, value: String)
    /// Reads a value record from the DHT (GET_VALUE, newest wins).
    case dhtGet(key: String)
    /// Private groups (issue 14): make this node the first admin of a new group.
    case groupCreate
    /// One line a new member passes to `group join`.
    case groupInvite
    case groupJoin(invite: String)
    /// The group's members and roles.
    case members
    /// Sets a member's role (adds it if new); admins only.
    case memberSet(peerID: String, role: String)
    case memberRemove(peerID: String)
    /// The audit log's lines (from `since`, RFC 3339), or its check.
    case audit(since: String?, verify: Bool)

    /// The name on the wire (the canonical one; the CLI accepts aliases such as `set`, `rm`, `ls`).
    public var name: String {
        switch self {
        case .status: "status"
        case .info: "info"
        case .peers: "peers"
        case .put: "add"
        case .get: "get"
        case .delete: "del"
        case .list: "list"
        case .writeBatch: "write-batch"
        case .watch: "watch"
        case .connect: "connect"
        case .disconnect: "disconnect"
        case .ping: "ping"
        case .perf: "perf"
        case .digest: "digest"
        case .doctor: "doctor"
        case .dht: "dht"
        case .dhtFindPeer: "dht-find-peer"
        case .dhtProviders: "dht-providers"
        case .dhtPut: "dht-put"
        case .dhtGet: "dht-get"
        case .groupCreate: "group-create"
        case .groupInvite: "group-invite"
        case .groupJoin: "group-join"
        case .members: "members"
        case .memberSet: "member-set"
        case .memberRemove: "member-remove"
        case .audit: "audit"
        }
    }

    /// Every command name the daemon understands, aliases included, mapped to its canonical name.
    public static let aliases: [String: String] = [
        "status": "status", "info": "info", "peers": "peers",
        "add": "add", "put": "add", "set": "add",
        "get": "get",
        "del": "del", "delete": "del", "rm": "del",
        "list": "list", "ls": "list", "write-batch": "write-batch",
        "watch": "watch", "connect": "connect", "disconnect": "disconnect", "ping": "ping", "perf": "perf",
        "digest": "digest", "doctor": "doctor",
        "dht": "dht", "dht-find-peer": "dht-find-peer", "dht-providers": "dht-providers", "dht-put": "dht-put", "dht-get": "dht-get",
        "group-create": "group-create", "group-invite": "group-invite", "group-join": "group-join",
        "members": "members", "member-set": "member-set", "member-remove": "member-remove", "audit": "audit",
    ]
}

extension ControlRequest {
    /// Parses one request line. Errors carry the code and message the daemon sends back.
    public static func parse(line: [UInt8]) throws(ControlError) -> ControlRequest {
        let json: JSON
        do {
            json = try JSONParser.parse(line)
        } catch {
            throw ControlError(.badRequest, "request is not valid JSON: \(error)")
        }
        guard case .object(let fields) = json else {
            throw ControlError(.badRequest, "request must be a JSON object like {\"command\":\"status\"}")
        }
        let id = fields["id"] ?? .null
        do throws(ControlError) {
            return ControlRequest(id: id, command: try parseCommand(fields))
        } catch {
            throw ControlError(error.code, error.message, id: id)
        }
    }

    private static func parseCommand(_ fields: [String: JSON]) throws(ControlError) -> ControlCommand {
        guard let nameValue = fields["command"] else {
            throw ControlError(.badRequest, "request has no \"command\" field")
        }
        guard let name = nameValue.stringValue else {
            throw ControlError(.badRequest, "\"command\" must be a string")
        }
        guard let canonical = ControlCommand.aliases[name] else {
            throw ControlError(.unknownCommand, "unknown command \"\(name)\" (try: \(ControlCommand.aliases.values.uniqueSorted.joined(separator: ", ")))")
        }
        func string(_ field: String) throws(ControlError) -> String {
            guard let value = fields[field] else {
                throw ControlError(.invalidArgument, "\(canonical) needs \"\(field)\"")
            }
            guard let s = value.stringValue else {
                throw ControlError(.invalidArgument, "\"\(field)\" must be a string")
            }
            return s
        }
        func optionalString(_ field: String) throws(ControlError) -> String? {
            guard let value = fields[field], !value.isNull else { return nil }
            guard let s = value.stringValue else { throw ControlError(.invalidArgument, "\"\(field)\" must be a string") }
            return s
        }
        switch canonical {
        case "status": return .status
        case "info": return .info
        case "peers": return .peers
        case "add": return .put(key: try string("key"), value: try string("value"))
        case "get": return .get(key: try string("key"))
        case "del": return .delete(key: try string("key"))
        case "list":
            var limit: Int? = nil
            if let l = fields["limit"], !l.isNull {
                guard let n = l.intValue, n > 0, n <= Int64(Int32.max) else {
                    throw ControlError(.invalidArgument, "\"limit\" must be a positive integer")
                }
                limit = Int(n)
            }
            return .list(prefix: try optionalString("prefix"), limit: limit, after: try optionalString("after"))
        case "write-batch":
            guard let items = fields["entries"]?.arrayValue else {
                throw ControlError(.invalidArgument, "write-batch needs \"entries\": an array of {\"key\":...,\"value\":...|null}")
            }
            guard items.count <= BatchWrite.maxPerRequest else {
                throw ControlError(.invalidArgument, "write-batch takes at most \(BatchWrite.maxPerRequest) entries per request, not \(items.count)")
            }
            var writes: [BatchWrite] = []
            writes.reserveCapacity(items.count)
            for (index, item) in items.enumerated() {
                guard let key = item["key"]?.stringValue else {
                    throw ControlError(.invalidArgument, "entry \(index): \"key\" must be a string")
                }
                let value = item["value"] ?? .null
                guard value.isNull || value.stringValue != nil else {
                    throw ControlError(.invalidArgument, "entry \(index): \"value\" must be a string, or null to delete")
                }
                writes.append(BatchWrite(key: key, value: value.stringValue))
            }
            return .writeBatch(writes)
        case "watch": return .watch(prefix: try optionalString("prefix"))
        case "connect": return .connect(multiaddr: try string("multiaddr"))
        case "disconnect": return .disconnect(peerID: try string("peer"))
        case "ping":
            var count = 1
            if let c = fields["count"], !c.isNull {
                guard let n = c.intValue, n > 0, n <= 10_000 else {
                    throw ControlError(.invalidArgument, "\"count\" must be an integer from 1 to 10000")
                }
                count = Int(n)
            }
            return .ping(peerID: try string("peer"), count: count)
        case "perf":
            func size(_ field: String) throws(ControlError) -> Int {
                guard let v = fields[field], !v.isNull else { return 0 }
                guard let n = v.intValue, n >= 0, n <= 1 << 30 else {
                    throw ControlError(.invalidArgument, "\"\(field)\" must be a byte count from 0 to 1073741824")
                }
                return Int(n)
            }
            return .perf(peerID: try string("peer"), uploadBytes: try size("upload"), downloadBytes: try size("download"))
        case "digest": return .digest(prefix: try optionalString("prefix"))
        case "doctor": return .doctor
        case "dht": return .dht
        case "dht-find-peer": return .dhtFindPeer(peerID: try string("peer"))
        case "dht-providers": return .dhtProviders(topic: try optionalString("topic"))
        case "dht-put": return .dhtPut(key: try string("key"), value: try string("value"))
        case "dht-get": return .dhtGet(key: try string("key"))
        case "group-create": return .groupCreate
        case "group-invite": return .groupInvite
        case "group-join": return .groupJoin(invite: try string("invite"))
        case "members": return .members
        case "member-set": return .memberSet(peerID: try string("peer"), role: try string("role"))
        case "member-remove": return .memberRemove(peerID: try string("peer"))
        case "audit":
            guard fields["verify"] == nil || fields["verify"]?.boolValue != nil else {
                throw ControlError(.invalidArgument, "\"verify\" must be true or false")
            }
            return .audit(since: try optionalString("since"), verify: fields["verify"]?.boolValue ?? false)
        default: preconditionFailure("alias table names \(canonical), which parseCommand does not handle")
        }
    }

    /// The request as one JSON line (without the newline).
    public func encoded() -> [UInt8] {
        var fields: [String: JSON] = ["command": .string(command.name)]
        if id != .null { fields["id"] = id }
        switch command {
        case .status, .info, .peers, .doctor, .dht, .groupCreate, .groupInvite, .members: break
        case .groupJoin(let invite): fields["invite"] = .string(invite)
        case .memberSet(let peer, let role): fields["peer"] = .string(peer); fields["role"] = .string(role)
        case .memberRemove(let peer): fields["peer"] = .string(peer)
        case .audit(let since, let verify):
            if let since { fields["since"] = .string(since) }
            if verify { fields["verify"] = .bool(true) }
        case .put(let key, let value): fields["key"] = .string(key); fields["value"] = .string(value)
        case .get(let key), .delete(let key), .dhtGet(let key): fields["key"] = .string(key)
        case .dhtPut(let key, let value): fields["key"] = .string(key); fields["value"] = .string(value)
        case .dhtFindPeer(let peer): fields["peer"] = .string(peer)
        case .dhtProviders(let topic): if let topic { fields["topic"] = .string(topic) }
        case .list(let prefix, let limit, let after):
            if let prefix { fields["prefix"] = .string(prefix) }
            if let limit { fields["limit"] = .int(limit) }
            if let after { fields["after"] = .string(after) }
        case .writeBatch(let writes):
            fields["entries"] = .array(writes.map { ["key": .string($0.key), "value": $0.value.map(JSON.string) ?? .null] })
        case .watch(let prefix), .digest(let prefix): if let prefix { fields["prefix"] = .string(prefix) }
        case .connect(let addr): fields["multiaddr"] = .string(addr)
        case .disconnect(let peer): fields["peer"] = .string(peer)
        case .ping(let peer, let count): fields["peer"] = .string(peer); fields["count"] = .int(count)
        case .perf(let peer, let up, let down):
            fields["peer"] = .string(peer); fields["upload"] = .int(up); fields["download"] = .int(down)
        }
        return JSON.object(fields).encoded()
    }
}

/// One write of a `write-batch` request: a put, or a delete when `value` is nil.
public struct BatchWrite: Equatable, Sendable {
    /// Entries per request at most: the client splits bigger imports (and a request line is
    /// at most 1 MiB anyway).
    public static let maxPerRequest = 10_000

    public var key: String
    public var value: String?

    public init(key: String, value: String?) {
        self.key = key
        self.value = value
    }
}

extension Collection where Element == String {
    fileprivate var uniqueSorted: [String] { Array(Set(self)).sorted() }
}
