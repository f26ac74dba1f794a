import Wire

/// Gossipsub control messages (libp2p-wire.md section 7.2):
/// IHAVE(topic, ids), IWANT(ids), GRAFT(topic), PRUNE(topic, peers, backoff seconds), IDONTWANT(ids).
public struct ControlMessage: Equatable, Sendable {
    public struct IHave: Equatable, Sendable {
        public var topic: String
        public var messageIDs: [[UInt8]]
        public init(topic: String, messageIDs: [[UInt8]]) { self.topic = topic; self.messageIDs = messageIDs }
    }
    public struct Prune: Equatable, Sendable {
        public var topic: String
        /// Peer exchange: binary peer IDs (signed records are not kept).
        public var peers: [[UInt8]]
        /// Seconds.
        public var backoff: UInt64?
        public init(topic: String, peers: [[UInt8]] = [], backoff: UInt64? = nil) { self.topic = topic; self.peers = peers; self.backoff = backoff }
    }

    public var ihave: [IHave] = []
    public var iwant: [[[UInt8]]] = []
    public var graft: [String] = []
    public var prune: [Prune] = []
    public var idontwant: [[[UInt8]]] = []

    public init(ihave: [IHave] = [], iwant: [[[UInt8]]] = [], graft: [String] = [], prune: [Prune] = [], idontwant: [[[UInt8]]] = []) {
        self.ihave = ihave
        self.iwant = iwant
        self.graft = graft
        self.prune = prune
        self.idontwant = idontwant
    }

    public var isEmpty: Bool { ihave.isEmpty && iwant.isEmpty && graft.isEmpty && prune.isEmpty && idontwant.isEmpty }

    public func encoded() -> [UInt8] {
        var w = ProtobufWriter()
        for h in ihave {
            var m = ProtobufWriter()
            m.stringField(1, h.topic)
            for id in h.messageIDs { m.bytesField(2, id) }
            w.bytesField(1, m.bytes)
        }
        for ids in iwant {
            var m = ProtobufWriter()
            for id in ids { m.bytesField(1, id) }
            w.bytesField(2, m.bytes)
        }
        for topic in graft {
            var m = ProtobufWriter()
            m.stringField(1, topic)
            w.bytesField(3, m.bytes)
        }
        for p in prune {
            var m = ProtobufWriter()
            m.stringField(1, p.topic)
            for peer in p.peers {
                var info = ProtobufWriter()
                info.bytesField(1, peer)
                m.bytesField(2, info.bytes)
            }
            if let backoff = p.backoff { m.varintField(3, backoff) }
            w.bytesField(4, m.bytes)
        }
        for ids in idontwant {
            var m = ProtobufWriter()
            for id in ids { m.bytesField(1, id) }
            w.bytesField(5, m.bytes)
        }
        return w.bytes
    }

    public init(decoding bytes: [UInt8]) throws(PubsubError) {
        try ProtobufFields.each(bytes) { (field: UInt64, value: ProtobufValue) throws(PubsubError) in
            guard case .bytes(let b) = value else { return }
            switch field {
            case 1:
                var topic = ""
                var ids: [[UInt8]] = []
                try ProtobufFields.each(b) { (f: UInt64, v: ProtobufValue) throws(PubsubError) in
                    if case .bytes(let x) = v { if f == 1 { topic = try ProtobufFields.string(x, "topicID") } else if f == 2 { ids.append(x) } }
                }
                ihave.append(IHave(topic: topic, messageIDs: ids))
            case 2, 5:
                var ids: [[UInt8]] = []
                try ProtobufFields.each(b) { (f: UInt64, v: ProtobufValue) throws(PubsubError) in
                    if f == 1, case .bytes(let x) = v { ids.append(x) }
                }
                if field == 2 { iwant.append(ids) } else { idontwant.append(ids) }
            case 3:
                var topic = ""
                try ProtobufFields.each(b) { (f: UInt64, v: ProtobufValue) throws(PubsubError) in
                    if f == 1, case .bytes(let x) = v { topic = try ProtobufFields.string(x, "topicID") }
                }
                graft.append(topic)
            case 4:
                var p = Prune(topic: "")
                try ProtobufFields.each(b) { (f: UInt64, v: ProtobufValue) throws(PubsubError) in
                    switch (f, v) {
                    case (1, .bytes(let x)): p.topic = try ProtobufFields.string(x, "topicID")
                    case (2, .bytes(let x)):
                        try ProtobufFields.each(x) { (pf: UInt64, pv: ProtobufValue) throws(PubsubError) in
                            if pf == 1, case .bytes(let id) = pv { p.peers.append(id) }
                        }
                    case (3, .varint(let s)): p.backoff = s
                    default: break
                    }
                }
                prune.append(p)
            default: break  // extensions (6), py's observe/unobserve (7, 8)
            }
        }
    }
}
