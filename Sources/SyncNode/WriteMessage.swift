import JSON
import P2PCrypto
import SyncStore
import Wire

/// The application messages on the gossipsub topic (DESIGN.md section 4, docs/PROTOCOL.md):
/// ```
/// {"Put":{"key":"k","value":"v","timestamp":"2026-11-25T12:00:00.123Z","hlc":"1764072000123:0","origin":"12D3KooW..."}}
/// {"Delete":{"key":"k","timestamp":"...","hlc":"...","origin":"..."}}
/// {"Batch":[{"Put":{...}},{"Delete":{...}}]}
/// {"Announce":{"key":"k","hlc":"...","origin":"...","size":1048576,"sha256":"64 hex digits"}}
/// ```
/// `Announce` stands for a put too large for a gossip message (values up to 1 MiB, issue 15):
/// it names the write, and a peer that holds an older version fetches it by catch-up.
/// `timestamp` is what the seed's nodes send and read; `hlc` and `origin` carry our version.
/// A write without them (a seed node's) gets its version from `timestamp` and the message's
/// author. SPI `Fuzzing`: fuzz/Targets/WriteMessageFuzz feeds `decode` what a peer might publish.
@_spi(Fuzzing) public enum WriteMessage {
    /// The largest message we publish: the topic's RPCs must stay under 64 KiB with the
    /// signature, peer ID, sequence number and topic around it.
    static let maxPublishedBytes = 65536 - 512
    /// The largest message we accept (DESIGN.md section 6).
    static let maxReceivedBytes = 512 * 1024

    /// An announcement of `entry`, whose value travels by catch-up.
    static func announcement(_ entry: Entry) -> [UInt8] {
        let value = Array((entry.value ?? "").utf8)
        return encode(.announced(WriteAnnouncement(key: entry.key, version: entry.version, valueBytes: value.count, valueSHA256: SHA256.hash(value))))
    }

    @_spi(Fuzzing) public static func encode(_ payload: WritePayload) -> [UInt8] {
        switch payload {
        case .writes(let entries): return encode(entries)
        case .announced(let announced):
            var fields: [String: JSON] = [
                "key": .string(announced.key),
                "hlc": .string(announced.version.hlc.description),
                "origin": .string(Entry.originText(announced.version.origin)),
                "size": .int(announced.valueBytes),
            ]
            if let hash = announced.valueSHA256 { fields["sha256"] = .string(Base16.encode(hash)) }
            return JSON.object(["Announce": .object(fields)]).encoded()
        }
    }

    @_spi(Fuzzing) public static func encode(_ entries: [Entry]) -> [UInt8] {
        if entries.count == 1 { return encodedWrite(entries[0]) }
        return batch(entries.map(encodedWrite))
    }

    /// `{"Batch":[...]}` around writes already encoded.
    private static func batch(_ writes: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(writes.reduce(12) { $0 + $1.count + 1 })
        out.append(contentsOf: #"{"Batch":["#.utf8)
        for (i, write) in writes.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: write)
        }
        out.append(contentsOf: "]}".utf8)
        return out
    }

    /// One write's JSON, byte for byte what `json(entry).encoded()` gives (keys sorted),
    /// written directly: building the JSON tree for each write and encoding it twice (to
    /// size it, then in its batch) was 44% of an importing node's time (issue 15).
    static func encodedWrite(_ entry: Entry) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(entry.key.utf8.count + (entry.value?.utf8.count ?? 0) + 150)
        out.append(contentsOf: (entry.isTombstone ? #"{"Delete":{"hlc":"# : #"{"Put":{"hlc":"#).utf8)
        JSON.encodeString(entry.version.hlc.description, into: &out)
        out.append(contentsOf: #","key":"#.utf8)
        JSON.encodeString(entry.key, into: &out)
        out.append(contentsOf: #","origin":"#.utf8)
        JSON.encodeString(Entry.originText(entry.version.origin), into: &out)
        out.append(contentsOf: #","timestamp":""#.utf8)
        Timestamp.appendISO8601(millis: entry.version.hlc.physicalMillis, to: &out)
        out.append(UInt8(ascii: "\""))
        if let value = entry.value {
            out.append(contentsOf: #","value":"#.utf8)
            JSON.encodeString(value, into: &out)
        }
        out.append(contentsOf: "}}".utf8)
        return out
    }

    static func json(_ entry: Entry) -> JSON {
        var fields: [String: JSON] = [
            "key": .string(entry.key),
            "timestamp": .string(Timestamp.iso8601(millis: entry.version.hlc.physicalMillis)),
            "hlc": .string(entry.version.hlc.description),
            "origin": .string(Entry.originText(entry.version.origin)),
        ]
        if let value = entry.value { fields["value"] = .string(value) }
        return .object([entry.isTombstone ? "Delete" : "Put": .object(fields)])
    }

    /// Cuts a list of writes into messages that each fit `maxPublishedBytes`, in order. A write
    /// too large even alone comes back in `tooLarge`.
    static func batches(_ entries: [Entry], limit: Int = maxPublishedBytes) -> (messages: [(entries: [Entry], data: [UInt8])], tooLarge: [Entry]) {
        var messages: [(entries: [Entry], data: [UInt8])] = []
        var tooLarge: [Entry] = []
        var current: [Entry] = []
        var currentBytes: [[UInt8]] = []
        var size = 12  // {"Batch":[]}
        func cut() {
            guard !current.isEmpty else { return }
            messages.append((current, current.count == 1 ? currentBytes[0] : batch(currentBytes)))
            current.removeAll()
            currentBytes.removeAll()
            size = 12
        }
        for entry in entries {
            // Each write is encoded once; the message is its bytes joined.
            let encoded = encodedWrite(entry)
            let n = encoded.count
            guard n <= limit - 12 else { tooLarge.append(entry); continue }
            if size + n + 1 > limit { cut() }
            current.append(entry)
            currentBytes.append(encoded)
            size += n + 1
        }
        cut()
        return (messages, tooLarge)
    }

    /// The writes in a received message, with `author` standing in for a missing origin, or
    /// the write it announces.
    @_spi(Fuzzing) public static func decode(_ data: [UInt8], author: PeerID) throws(WriteMessageError) -> WritePayload {
        guard data.count <= maxReceivedBytes else { throw .tooLarge(data.count) }
        let root: JSON
        do { root = try JSONParser.parse(data) } catch { throw .notJSON("\(error)") }
        guard let object = root.objectValue, object.count == 1, let (kind, body) = object.first else {
            throw .shape("expected one of {\"Put\":...}, {\"Delete\":...}, {\"Batch\":[...]}")
        }
        if kind == "Batch" {
            guard let items = body.arrayValue, !items.isEmpty else { throw .shape("Batch must be a non-empty array") }
            var entries: [Entry] = []
            entries.reserveCapacity(items.count)
            // A batch names one origin in every write, mostly the same: decoded once (base58
            // decoding of each write's origin was a tenth of a receiving node's CPU).
            var origins = OriginCache()
            for item in items {
                guard let o = item.objectValue, o.count == 1, let (k, b) = o.first, k != "Batch" else {
                    throw .shape("a Batch item must be {\"Put\":...} or {\"Delete\":...}")
                }
                entries.append(try write(k, b, author: author, origins: &origins))
            }
            return .writes(entries)
        }
        if kind == "Announce" { return .announced(try announced(body)) }
        var origins = OriginCache()
        return .writes([try write(kind, body, author: author, origins: &origins)])
    }

    /// The last origin text decoded and its bytes.
    private struct OriginCache {
        var text: String?
        var bytes: [UInt8] = []

        mutating func bytes(for text: String) throws(WriteMessageError) -> [UInt8] {
            if text == self.text { return bytes }
            do { bytes = try PeerID(text).bytes } catch { throw .shape("origin \"\(text.prefix(80))\" is not a peer ID") }
            self.text = text
            return bytes
        }
    }

    private static func announced(_ body: JSON) throws(WriteMessageError) -> WriteAnnouncement {
        guard let fields = body.objectValue else { throw .shape("Announce must be an object") }
        guard let key = fields["key"]?.stringValue else { throw .shape("Announce without a string \"key\"") }
        do throws(StoreError) { try EntryLimits.validate(key: key) } catch { throw .invalidEntry("\(error)") }
        guard let hlcText = fields["hlc"]?.stringValue, let hlc = HLC(hlcText) else { throw .shape("Announce without an hlc of the form MILLIS:COUNTER") }
        guard let originText = fields["origin"]?.stringValue, let origin = try? PeerID(originText) else {
            throw .shape("Announce without a peer ID as origin")
        }
        guard let size = fields["size"]?.intValue, size >= 0, size <= Int64(EntryLimits.maxValueBytes) else {
            throw .shape("Announce without a size of 0 to \(EntryLimits.maxValueBytes) bytes")
        }
        var hash: [UInt8]?
        if let text = fields["sha256"] {
            guard let hex = text.stringValue, let bytes = Base16.decode(hex), bytes.count == SHA256.digestCount else {
                throw .shape("Announce with a sha256 that is not 64 hex digits")
            }
            hash = bytes
        }
        return WriteAnnouncement(key: key, version: Version(hlc: hlc, origin: origin.bytes), valueBytes: Int(size), valueSHA256: hash)
    }

    private static func write(_ kind: String, _ body: JSON, author: PeerID, origins: inout OriginCache) throws(WriteMessageError) -> Entry {
        guard kind == "Put" || kind == "Delete" else { throw .shape("unknown write kind \"\(kind)\"") }
        guard let fields = body.objectValue else { throw .shape("\(kind) must be an object") }
        guard let key = fields["key"]?.stringValue else { throw .shape("\(kind) without a string \"key\"") }
        var value: String?
        if kind == "Put" {
            guard let v = fields["value"]?.stringValue else { throw .shape("Put without a string \"value\"") }
            value = v
        }
        do throws(StoreError) {
            try EntryLimits.validate(key: key)
            if let value { try EntryLimits.validate(value: value) }
        } catch {
            throw .invalidEntry("\(error)")
        }
        let hlc: HLC
        if let text = fields["hlc"]?.stringValue {
            guard let parsed = HLC(text) else { throw .shape("hlc \"\(text)\" is not MILLIS:COUNTER") }
            hlc = parsed
        } else if let text = fields["timestamp"]?.stringValue {
            guard let millis = Timestamp.parseISO8601(text) else { throw .shape("timestamp \"\(text)\" is not an RFC 3339 UTC time") }
            hlc = HLC(physicalMillis: millis, logical: 0)
        } else {
            throw .shape("\(kind) has neither \"hlc\" nor \"timestamp\"")
        }
        var origin = author.bytes
        if let text = fields["origin"]?.stringValue { origin = try origins.bytes(for: text) }
        return Entry(key: key, value: value, version: Version(hlc: hlc, origin: origin))
    }
}

/// What a message on the topic carries.
@_spi(Fuzzing) public enum WritePayload: Equatable {
    /// Writes to apply.
    case writes([Entry])
    /// A put too large for gossip: fetch it by catch-up if ours is older.
    case announced(WriteAnnouncement)
}

/// A put whose value is too large for a gossip message, named by key and version.
@_spi(Fuzzing) public struct WriteAnnouncement: Equatable, Sendable {
    public let key: String
    public let version: Version
    public let valueBytes: Int
    /// SHA-256 of the value's UTF-8 bytes: lets a member check a value fetched by catch-up
    /// against its author's signed announcement (issue 14). Optional on the wire.
    public let valueSHA256: [UInt8]?

    public init(key: String, version: Version, valueBytes: Int, valueSHA256: [UInt8]? = nil) {
        self.key = key
        self.version = version
        self.valueBytes = valueBytes
        self.valueSHA256 = valueSHA256
    }
}

/// Why a received write message was refused.
@_spi(Fuzzing) public enum WriteMessageError: Error, Equatable, CustomStringConvertible {
    case tooLarge(Int)
    case notJSON(String)
    case shape(String)
    case invalidEntry(String)

    public var description: String {
        switch self {
        case .tooLarge(let n): "message of \(n) bytes is over the \(WriteMessage.maxReceivedBytes)-byte limit"
        case .notJSON(let why): "not JSON: \(why)"
        case .shape(let why): "not a write message: \(why)"
        case .invalidEntry(let why): why
        }
    }
}
