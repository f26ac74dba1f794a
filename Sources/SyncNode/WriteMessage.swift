import JSON
import SyncStore
import Wire

/// The application messages on the gossipsub topic (DESIGN.md section 4, docs/PROTOCOL.md):
/// ```
/// {"Put":{"key":"k","value":"v","timestamp":"2026-11-25T12:00:00.123Z","hlc":"1764072000123:0","origin":"12D3KooW..."}}
/// {"Delete":{"key":"k","timestamp":"...","hlc":"...","origin":"..."}}
/// {"Batch":[{"Put":{...}},{"Delete":{...}}]}
/// ```
/// `timestamp` is what the seed's nodes send and read; `hlc` and `origin` carry our version.
/// A write without them (a seed node's) gets its version from `timestamp` and the message's
/// author. SPI `Fuzzing`: fuzz/Targets/WriteMessageFuzz feeds `decode` what a peer might publish.
@_spi(Fuzzing) public enum WriteMessage {
    /// The largest message we publish: the topic's RPCs must stay under 64 KiB with the
    /// signature, peer ID, sequence number and topic around it.
    static let maxPublishedBytes = 65536 - 512
    /// The largest message we accept (DESIGN.md section 6).
    static let maxReceivedBytes = 512 * 1024

    @_spi(Fuzzing) public static func encode(_ entries: [Entry]) -> [UInt8] {
        if entries.count == 1 { return json(entries[0]).encoded() }
        return JSON.object(["Batch": .array(entries.map(json))]).encoded()
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
        var size = 12  // {"Batch":[]}
        func cut() {
            guard !current.isEmpty else { return }
            messages.append((current, encode(current)))
            current.removeAll()
            size = 12
        }
        for entry in entries {
            let n = json(entry).encoded().count
            guard n <= limit - 12 else { tooLarge.append(entry); continue }
            if size + n + 1 > limit { cut() }
            current.append(entry)
            size += n + 1
        }
        cut()
        return (messages, tooLarge)
    }

    /// The writes in a received message, with `author` standing in for a missing origin.
    @_spi(Fuzzing) public static func decode(_ data: [UInt8], author: PeerID) throws(WriteMessageError) -> [Entry] {
        guard data.count <= maxReceivedBytes else { throw .tooLarge(data.count) }
        let root: JSON
        do { root = try JSONParser.parse(data) } catch { throw .notJSON("\(error)") }
        guard let object = root.objectValue, object.count == 1, let (kind, body) = object.first else {
            throw .shape("expected one of {\"Put\":...}, {\"Delete\":...}, {\"Batch\":[...]}")
        }
        if kind == "Batch" {
            guard let items = body.arrayValue, !items.isEmpty else { throw .shape("Batch must be a non-empty array") }
            var entries: [Entry] = []
            for item in items {
                guard let o = item.objectValue, o.count == 1, let (k, b) = o.first, k != "Batch" else {
                    throw .shape("a Batch item must be {\"Put\":...} or {\"Delete\":...}")
                }
                entries.append(try write(k, b, author: author))
            }
            return entries
        }
        return [try write(kind, body, author: author)]
    }

    private static func write(_ kind: String, _ body: JSON, author: PeerID) throws(WriteMessageError) -> Entry {
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
        if let text = fields["origin"]?.stringValue {
            do { origin = try PeerID(text).bytes } catch { throw .shape("origin \"\(text)\" is not a peer ID") }
        }
        return Entry(key: key, value: value, version: Version(hlc: hlc, origin: origin))
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

/// RFC 3339 UTC timestamps with milliseconds, as the seed writes them ("2026-11-25T12:00:00.123Z").
enum Timestamp {
    static func iso8601(millis: UInt64) -> String {
        let seconds = Int64(millis / 1000)
        let days = seconds / 86400
        let rest = seconds % 86400
        let (y, m, d) = civil(fromDays: days)
        func pad(_ n: Int64, _ width: Int) -> String {
            let s = String(n)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(rest / 3600, 2)):\(pad(rest % 3600 / 60, 2)):\(pad(rest % 60, 2)).\(pad(Int64(millis % 1000), 3))Z"
    }

    /// Accepts `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`; nil for anything else or before 1970.
    static func parseISO8601(_ text: String) -> UInt64? {
        let b = Array(text.utf8)
        func num(_ from: Int, _ count: Int) -> Int64? {
            guard from + count <= b.count else { return nil }
            var n: Int64 = 0
            for c in b[from..<(from + count)] {
                guard c >= 48, c <= 57 else { return nil }
                n = n * 10 + Int64(c - 48)
            }
            return n
        }
        guard b.count >= 20, b[4] == 45, b[7] == 45, b[10] == 84 || b[10] == 116 || b[10] == 32, b[13] == 58, b[16] == 58,
              let y = num(0, 4), let mo = num(5, 2), let d = num(8, 2), let h = num(11, 2), let mi = num(14, 2), let s = num(17, 2),
              (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s < 61 else { return nil }
        var i = 19
        var millis: Int64 = 0
        if b[i] == 46 {
            i += 1
            var digits = 0
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                if digits < 3 { millis = millis * 10 + Int64(b[i] - 48) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            if digits < 3 { for _ in digits..<3 { millis *= 10 } }
        }
        guard i < b.count else { return nil }
        var offset: Int64 = 0
        if b[i] == 90 || b[i] == 122 {
            i += 1
        } else if b[i] == 43 || b[i] == 45, let oh = num(i + 1, 2), i + 3 < b.count, b[i + 3] == 58, let om = num(i + 4, 2) {
            offset = (oh * 60 + om) * 60 * (b[i] == 43 ? 1 : -1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let total = (days(fromCivil: y, mo, d) * 86400 + h * 3600 + mi * 60 + min(s, 59) - offset) * 1000 + millis
        return total >= 0 ? UInt64(total) : nil
    }

    // Howard Hinnant's days-from-civil algorithms (proleptic Gregorian calendar).
    static func days(fromCivil y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, m, d)
    }
}
