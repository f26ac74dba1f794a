import SyncStore
import Wire

/// One message of `/p2p-sync/reconcile/1.0.0` (docs/PROTOCOL.md), a protobuf sent
/// uvarint-length-prefixed:
/// ```
/// message Message { repeated Range range = 1; repeated bytes want = 2; repeated Entry entry = 3;
///                   optional bool more = 4; optional bool done = 5;
///                   repeated bytes origin = 6;  /* the origins that items refer to by index */
///                   optional uint32 ack = 7;    /* streamed messages received since the last ack */
///                   optional bool streamed = 8; /* entries only, not a turn: answered by an ack */
///                   repeated bytes proof = 9;   /* in a group: signed messages proving the entries */ }
/// message Range   { optional bytes lower = 1 /* absent: where the previous range ended */;
///                   optional bytes upper = 2 /* absent: end of keys */;
///                   optional uint32 kind = 3 /* 0 (default) fingerprint, 1 ids */; optional fixed64 sum = 4;
///                   optional uint64 count = 5; repeated Item id = 6; optional bool reply = 7; }
/// message Item    { optional bytes key = 1; optional uint64 ms = 2; optional uint32 counter = 3;
///                   optional uint32 origin_index = 5; }
/// ```
/// Two economies keep messages proportional to the difference: consecutive ranges share
/// their boundary (written once), and an item names its origin (a 38-byte peer ID) by its
/// index in the message's origin table, since a sync group has few writers.
/// ```
/// message Entry   { optional bytes key = 1; optional bytes value = 2 /* absent: tombstone */;
///                   optional uint64 ms = 3; optional uint32 counter = 4; optional bytes origin = 5;
///                   optional uint32 origin_index = 6; /* instead of origin: the message's table */ }
/// ```
/// Entries name their origin by index too (a streamed catch-up carries a million of them: the
/// 38-byte peer ID in each was 40% of the bytes); `origin` is still read.
public struct ReconcileMessage: Equatable, Sendable {
    public enum Payload: Equatable, Sendable {
        /// "My items in this range have this fingerprint."
        case fingerprint(Fingerprint)
        /// "These are all my items in this range"; `reply`: send me yours back.
        case ids([ItemID], reply: Bool)
    }

    public struct RangeItem: Equatable, Sendable {
        public var lower: [UInt8]
        /// nil: up to the end of the key space.
        public var upper: [UInt8]?
        public var payload: Payload

        public init(lower: [UInt8], upper: [UInt8]?, payload: Payload) {
            self.lower = lower
            self.upper = upper
            self.payload = payload
        }
    }

    public var ranges: [RangeItem] = []
    /// Keys whose entries the sender wants.
    public var want: [[UInt8]] = []
    /// Entries the receiver asked for.
    public var entries: [Entry] = []
    /// Proofs of the entries' writes (issue 14, a node in a group): opaque to this module, each
    /// the signed message that first carried a batch of writes; field 9.
    public var proofs: [[UInt8]] = []
    /// The sender has more entries to send: the receiver must answer, even with nothing.
    public var more = false
    /// The sender has nothing left to say; the session is over.
    public var done = false
    /// A streamed message: entries only, outside the turns (a bulk push of a range the peer
    /// lacks). The receiver applies them and answers with an `ack`, nothing else.
    public var streamed = false
    /// How many streamed messages this acknowledges; an ack carries nothing else.
    public var ack: UInt32 = 0

    public init(ranges: [RangeItem] = [], want: [[UInt8]] = [], entries: [Entry] = [], more: Bool = false, done: Bool = false) {
        self.ranges = ranges
        self.want = want
        self.entries = entries
        self.more = more
        self.done = done
    }

    /// A streamed message carrying `entries`.
    public static func streamed(_ entries: [Entry]) -> ReconcileMessage {
        var message = ReconcileMessage(entries: entries)
        message.streamed = true
        return message
    }

    /// The acknowledgement of `count` streamed messages.
    public static func ack(_ count: UInt32) -> ReconcileMessage {
        var message = ReconcileMessage()
        message.ack = count
        return message
    }

    public var isEmpty: Bool { ranges.isEmpty && want.isEmpty && entries.isEmpty && !more && !streamed && ack == 0 }

    public func encoded() -> [UInt8] {
        var w = ProtobufWriter()
        var origins: [[UInt8]] = []
        var originIndex: [[UInt8]: Int] = [:]
        var previousUpper: [UInt8]? = []
        for r in ranges {
            var m = ProtobufWriter()
            if previousUpper != r.lower { m.bytesField(1, r.lower) }
            previousUpper = r.upper
            if let upper = r.upper { m.bytesField(2, upper) }
            switch r.payload {
            case .fingerprint(let f):
                // kind 0 is the default: not written.
                m.fixed64Field(4, f.folded)
                m.varintField(5, f.count)
            case .ids(let ids, let reply):
                m.varintField(3, 1)
                for id in ids {
                    var i = ProtobufWriter()
                    i.bytesField(1, id.key)
                    i.varintField(2, id.version.hlc.physicalMillis)
                    i.varintField(3, UInt64(id.version.hlc.logical))
                    i.varintField(5, UInt64(index(of: id.version.origin, &origins, &originIndex)))
                    m.bytesField(6, i.bytes)
                }
                if reply { m.varintField(7, 1) }
            }
            w.bytesField(1, m.bytes)
        }
        for key in want { w.bytesField(2, key) }
        for e in entries {
            var m = ProtobufWriter()
            m.bytesField(1, Array(e.key.utf8))
            if let value = e.value { m.bytesField(2, Array(value.utf8)) }
            m.varintField(3, e.version.hlc.physicalMillis)
            m.varintField(4, UInt64(e.version.hlc.logical))
            m.varintField(6, UInt64(index(of: e.version.origin, &origins, &originIndex)))
            w.bytesField(3, m.bytes)
        }
        if more { w.varintField(4, 1) }
        if done { w.varintField(5, 1) }
        for origin in origins { w.bytesField(6, origin) }
        if ack > 0 { w.varintField(7, UInt64(ack)) }
        if streamed { w.varintField(8, 1) }
        for proof in proofs { w.bytesField(9, proof) }
        return w.bytes
    }

    /// `origin`'s place in the message's origin table, added if new.
    private func index(of origin: [UInt8], _ origins: inout [[UInt8]], _ indices: inout [[UInt8]: Int]) -> Int {
        if origins.last == origin { return origins.count - 1 }
        if let known = indices[origin] { return known }
        origins.append(origin)
        indices[origin] = origins.count - 1
        return origins.count - 1
    }

    public init(decoding bytes: [UInt8]) throws(ReconcileError) {
        var rawRanges: [[UInt8]] = []
        var rawEntries: [[UInt8]] = []
        var origins: [[UInt8]] = []
        try Fields.each(bytes) { (field: UInt64, value: ProtobufValue) throws(ReconcileError) in
            switch (field, value) {
            case (1, .bytes(let b)): rawRanges.append(b)
            case (2, .bytes(let b)): want.append(b)
            case (3, .bytes(let b)): rawEntries.append(b)
            case (4, .varint(let v)): more = v != 0
            case (5, .varint(let v)): done = v != 0
            case (6, .bytes(let b)): origins.append(b)
            case (7, .varint(let v)):
                guard v <= UInt64(UInt32.max) else { throw .malformed("ack of \(v) messages") }
                ack = UInt32(v)
            case (8, .varint(let v)): streamed = v != 0
            case (9, .bytes(let b)): proofs.append(b)
            case (1...9, _): throw .malformed("field \(field) has the wrong wire type")
            default: break
            }
        }
        entries.reserveCapacity(rawEntries.count)
        for raw in rawEntries { entries.append(try Self.entry(raw, origins: origins)) }
        var previousUpper: [UInt8]? = []
        for raw in rawRanges {
            let range = try Self.range(raw, origins: origins, previousUpper: previousUpper)
            previousUpper = range.upper
            ranges.append(range)
        }
    }

    private static func range(_ bytes: [UInt8], origins: [[UInt8]], previousUpper: [UInt8]?) throws(ReconcileError) -> RangeItem {
        var lower: [UInt8]?, upper: [UInt8]?, kind: UInt64 = 0, sum: UInt64?, count: UInt64 = 0
        var ids: [ItemID] = [], reply = false
        try Fields.each(bytes) { (field: UInt64, value: ProtobufValue) throws(ReconcileError) in
            switch (field, value) {
            case (1, .bytes(let b)): lower = b
            case (2, .bytes(let b)): upper = b
            case (3, .varint(let v)): kind = v
            case (4, .fixed64(let v)): sum = v
            case (5, .varint(let v)): count = v
            case (6, .bytes(let b)): ids.append(try item(b, origins: origins))
            case (7, .varint(let v)): reply = v != 0
            case (1...7, _): throw .malformed("range field \(field) has the wrong wire type")
            default: break
            }
        }
        // No lower bound: the range starts where the previous one ended.
        guard let start = lower ?? previousUpper else { throw .outOfOrder("a range follows one that reached the end of the key space") }
        switch kind {
        case 0:
            guard let sum else { throw .malformed("fingerprint range without its sum") }
            return RangeItem(lower: start, upper: upper, payload: .fingerprint(Fingerprint(folded: sum, count: count)))
        case 1:
            return RangeItem(lower: start, upper: upper, payload: .ids(ids, reply: reply))
        default:
            throw .malformed("unknown range kind \(kind)")
        }
    }

    private static func item(_ bytes: [UInt8], origins: [[UInt8]]) throws(ReconcileError) -> ItemID {
        var key: [UInt8] = [], ms: UInt64 = 0, counter: UInt64 = 0, origin: [UInt8] = []
        try Fields.each(bytes) { (field: UInt64, value: ProtobufValue) throws(ReconcileError) in
            switch (field, value) {
            case (1, .bytes(let b)): key = b
            case (2, .varint(let v)): ms = v
            case (3, .varint(let v)): counter = v
            case (5, .varint(let v)):
                guard v < UInt64(origins.count) else { throw .malformed("item refers to origin \(v) of \(origins.count)") }
                origin = origins[Int(v)]
            case (1...5, _): throw .malformed("item field \(field) has the wrong wire type")
            default: break
            }
        }
        guard counter <= UInt64(UInt32.max) else { throw .malformed("HLC counter \(counter) out of range") }
        return ItemID(key: key, version: Version(hlc: HLC(physicalMillis: ms, logical: UInt32(counter)), origin: origin))
    }

    private static func entry(_ bytes: [UInt8], origins: [[UInt8]]) throws(ReconcileError) -> Entry {
        var key: [UInt8] = [], value: [UInt8]?, ms: UInt64 = 0, counter: UInt64 = 0, origin: [UInt8] = []
        try Fields.each(bytes) { (field: UInt64, v: ProtobufValue) throws(ReconcileError) in
            switch (field, v) {
            case (1, .bytes(let b)): key = b
            case (2, .bytes(let b)): value = b
            case (3, .varint(let x)): ms = x
            case (4, .varint(let x)): counter = x
            case (5, .bytes(let b)): origin = b
            case (6, .varint(let x)):
                guard x < UInt64(origins.count) else { throw .malformed("entry refers to origin \(x) of \(origins.count)") }
                origin = origins[Int(x)]
            case (1...6, _): throw .malformed("entry field \(field) has the wrong wire type")
            default: break
            }
        }
        guard counter <= UInt64(UInt32.max) else { throw .malformed("HLC counter \(counter) out of range") }
        guard let keyText = String(validating: key, as: UTF8.self) else { throw .malformed("entry key is not UTF-8") }
        var valueText: String?
        if let value {
            guard let v = String(validating: value, as: UTF8.self) else { throw .malformed("entry value is not UTF-8") }
            valueText = v
        }
        return Entry(key: keyText, value: valueText, version: Version(hlc: HLC(physicalMillis: ms, logical: UInt32(counter)), origin: origin))
    }
}

enum Fields {
    static func each(_ bytes: [UInt8], _ body: (UInt64, ProtobufValue) throws(ReconcileError) -> Void) throws(ReconcileError) {
        try ProtobufReader.forEachField(in: bytes, malformed: { ReconcileError.malformed("\($0)") }, body)
    }
}

/// Why a reconciliation was cut off. Each is the peer's fault or a limit; the session ends,
/// the stream is reset, the rest of the connection is unaffected.
public enum ReconcileError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformed(String)
    case outOfOrder(String)
    case limit(String)
    case protocolViolation(String)
    /// Our side failed (the store could not be read): not the peer's fault.
    case local(String)

    public var description: String {
        switch self {
        case .malformed(let why): "malformed reconcile message: \(why)"
        case .outOfOrder(let why): "reconcile ranges out of order: \(why)"
        case .limit(let why): "reconcile limit reached: \(why)"
        case .protocolViolation(let why): "reconcile protocol violation: \(why)"
        case .local(let why): "reconcile failed here: \(why)"
        }
    }
}
