/// Cuts an RPC into RPCs of at most `limit` encoded bytes (rust-libp2p drops bigger ones).
/// Subscriptions go first, then messages, then control entries; a list of message IDs too
/// long for one RPC is cut into several entries. A single message that cannot fit alone is
/// dropped and counted.
enum RPCSplitter {
    static func split(_ rpc: PubsubRPC, limit: Int) -> (rpcs: [PubsubRPC], dropped: Int) {
        var out: [PubsubRPC] = []
        var current = PubsubRPC()
        var size = 0
        var dropped = 0

        func fits(_ n: Int) -> Bool { size + n <= limit }
        func cut() {
            if !(current.subscriptions.isEmpty && current.publish.isEmpty && (current.control?.isEmpty ?? true)) {
                out.append(current)
            }
            current = PubsubRPC()
            size = 0
        }
        func add(_ n: Int, _ body: (inout PubsubRPC) -> Void) {
            if !fits(n) { cut() }
            body(&current)
            size += n
        }

        for s in rpc.subscriptions {
            add(Self.field(2 + Self.field(s.topic.utf8.count))) { $0.subscriptions.append(s) }
        }
        for m in rpc.publish {
            let n = Self.field(m.encodedCount)
            guard n <= limit else { dropped += 1; continue }
            add(n) { $0.publish.append(m) }
        }
        if let control = rpc.control {
            // A control entry costs its own field plus a share of the control field's header (≤ 4 bytes).
            func addControl(_ entry: ControlMessage) {
                let n = Self.field(entry.encoded().count) + 4
                add(n) { rpc in
                    var c = rpc.control ?? ControlMessage()
                    c.ihave += entry.ihave; c.iwant += entry.iwant; c.graft += entry.graft
                    c.prune += entry.prune; c.idontwant += entry.idontwant
                    rpc.control = c
                }
            }
            let idsPerEntry = max(1, (limit - 256) / 80)
            for h in control.ihave {
                for chunk in h.messageIDs.chunked(idsPerEntry) { addControl(ControlMessage(ihave: [.init(topic: h.topic, messageIDs: chunk)])) }
            }
            for ids in control.iwant { for chunk in ids.chunked(idsPerEntry) { addControl(ControlMessage(iwant: [chunk])) } }
            for g in control.graft { addControl(ControlMessage(graft: [g])) }
            for p in control.prune { addControl(ControlMessage(prune: [p])) }
            for ids in control.idontwant { for chunk in ids.chunked(idsPerEntry) { addControl(ControlMessage(idontwant: [chunk])) } }
        }
        cut()
        return (out, dropped)
    }

    /// Bytes of a length-delimited field with a one-byte tag.
    static func field(_ length: Int) -> Int { 1 + varintCount(length) + length }

    static func varintCount(_ n: Int) -> Int {
        var v = UInt64(n), c = 1
        while v >= 0x80 { v >>= 7; c += 1 }
        return c
    }
}

extension PubsubMessage {
    /// `encoded().count` without encoding.
    var encodedCount: Int {
        var n = RPCSplitter.field(data.count) + RPCSplitter.field(topic.utf8.count)
        if let from { n += RPCSplitter.field(from.count) }
        if let seqno { n += RPCSplitter.field(seqno.count) }
        if let signature { n += RPCSplitter.field(signature.count) }
        if let key { n += RPCSplitter.field(key.count) }
        return n
    }
}

extension Array {
    func chunked(_ size: Int) -> [[Element]] {
        guard count > size else { return isEmpty ? [] : [self] }
        return stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}
