import Wire

/// The pubsub RPC (libp2p-wire.md section 7.2; specs pubsub/README.md, gossipsub-v1.0/v1.1):
/// ```
/// RPC     { repeated SubOpts subscriptions = 1; repeated Message publish = 2; optional ControlMessage control = 3; }
/// SubOpts { optional bool subscribe = 1; optional string topicid = 2; }
/// Message { from = 1 (binary peer ID); data = 2; seqno = 3 (8 bytes BE); topic = 4; signature = 5; key = 6 }
/// ```
/// Each RPC travels as one uvarint-length-prefixed protobuf on the peer's outbound stream.
/// Message IDs are `bytes` here although go declares them `string`: go stores raw bytes there.
public struct PubsubRPC: Equatable, Sendable {
    public var subscriptions: [Subscription]
    public var publish: [PubsubMessage]
    public var control: ControlMessage?

    public init(subscriptions: [Subscription] = [], publish: [PubsubMessage] = [], control: ControlMessage? = nil) {
        self.subscriptions = subscriptions
        self.publish = publish
        self.control = control
    }

    public struct Subscription: Equatable, Sendable {
        public var subscribe: Bool
        public var topic: String
        public init(subscribe: Bool, topic: String) {
            self.subscribe = subscribe
            self.topic = topic
        }
    }

    public func encoded() -> [UInt8] {
        var w = ProtobufWriter()
        for s in subscriptions {
            var sub = ProtobufWriter()
            sub.varintField(1, s.subscribe ? 1 : 0)
            sub.stringField(2, s.topic)
            w.bytesField(1, sub.bytes)
        }
        for m in publish { w.bytesField(2, m.encoded()) }
        if let control { w.bytesField(3, control.encoded()) }
        return w.bytes
    }

    public init(decoding bytes: [UInt8]) throws(PubsubError) {
        self.init()
        try ProtobufFields.each(bytes) { (field: UInt64, value: ProtobufValue) throws(PubsubError) in
            switch (field, value) {
            case (1, .bytes(let b)):
                var subscribe = false
                var topic: String?
                try ProtobufFields.each(b) { (f: UInt64, v: ProtobufValue) throws(PubsubError) in
                    switch (f, v) {
                    case (1, .varint(let x)): subscribe = x != 0
                    case (2, .bytes(let t)): topic = try ProtobufFields.string(t, "topicid")
                    default: break
                    }
                }
                guard let topic else { throw .malformed("subscription without a topic") }
                subscriptions.append(Subscription(subscribe: subscribe, topic: topic))
            case (2, .bytes(let b)): publish.append(try PubsubMessage(decoding: b))
            case (3, .bytes(let b)): control = try ControlMessage(decoding: b)
            case (1, _), (2, _), (3, _): throw .malformed("RPC field \(field) has the wrong wire type")
            default: break  // py's senderRecord (4), partial-message extensions: ignored
            }
        }
    }
}

/// One published message.
public struct PubsubMessage: Equatable, Sendable {
    public var from: [UInt8]?
    public var data: [UInt8]
    public var seqno: [UInt8]?
    public var topic: String
    public var signature: [UInt8]?
    public var key: [UInt8]?

    public init(from: [UInt8]?, data: [UInt8], seqno: [UInt8]?, topic: String, signature: [UInt8]? = nil, key: [UInt8]? = nil) {
        self.from = from
        self.data = data
        self.seqno = seqno
        self.topic = topic
        self.signature = signature
        self.key = key
    }

    /// Canonical encoding, fields in ascending order: verifiers re-encode to check signatures.
    public func encoded(includingSignature: Bool = true) -> [UInt8] {
        var w = ProtobufWriter()
        if let from { w.bytesField(1, from) }
        w.bytesField(2, data)
        if let seqno { w.bytesField(3, seqno) }
        w.stringField(4, topic)
        if includingSignature {
            if let signature { w.bytesField(5, signature) }
            if let key { w.bytesField(6, key) }
        }
        return w.bytes
    }

    public init(decoding bytes: [UInt8]) throws(PubsubError) {
        var from: [UInt8]?, data: [UInt8] = [], seqno: [UInt8]?, topic: String?, signature: [UInt8]?, key: [UInt8]?
        try ProtobufFields.each(bytes) { (field: UInt64, value: ProtobufValue) throws(PubsubError) in
            guard case .bytes(let b) = value else {
                if field <= 6 { throw .malformed("message field \(field) has the wrong wire type") }
                return
            }
            switch field {
            case 1: from = b
            case 2: data = b
            case 3: seqno = b
            // Old go/py send `repeated string topicIDs = 4`: with one topic the bytes are the same.
            case 4: if topic == nil { topic = try ProtobufFields.string(b, "topic") } else { throw .malformed("message with several topics") }
            case 5: signature = b
            case 6: key = b
            default: break
            }
        }
        guard let topic else { throw .malformed("message without a topic") }
        self.init(from: from, data: data, seqno: seqno, topic: topic, signature: signature, key: key)
    }

    /// The default message ID of go and py: `from ‖ seqno` (libp2p-wire.md section 7.4).
    public var defaultID: [UInt8] { (from ?? []) + (seqno ?? []) }
}

/// Why an RPC or message was refused.
public enum PubsubError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformed(String)
    case missingSignatureFields
    case badSignature
    case keyDoesNotMatchAuthor
    case unsupportedKey(String)
    case tooLarge(bytes: Int, limit: Int)

    public var description: String {
        switch self {
        case .malformed(let why): "malformed pubsub RPC: \(why)"
        case .missingSignatureFields: "unsigned message (StrictSign needs from, seqno and signature)"
        case .badSignature: "message signature does not verify"
        case .keyDoesNotMatchAuthor: "message key does not belong to its author"
        case .unsupportedKey(let why): "message signed with an unsupported key: \(why)"
        case .tooLarge(let bytes, let limit): "message of \(bytes) bytes does not fit in one \(limit)-byte RPC"
        }
    }
}

/// Protobuf helpers shared by the pubsub codecs.
enum ProtobufFields {
    static func each(_ bytes: [UInt8], _ body: (UInt64, ProtobufValue) throws(PubsubError) -> Void) throws(PubsubError) {
        try ProtobufReader.forEachField(in: bytes, malformed: { PubsubError.malformed("\($0)") }, body)
    }

    static func string(_ bytes: [UInt8], _ name: String) throws(PubsubError) -> String {
        guard let s = String(validating: bytes, as: UTF8.self) else { throw .malformed("\(name) is not UTF-8") }
        return s
    }
}
