import SyncStore

/// Runs a whole reconciliation between two in-memory replicas, each message encoded and
/// decoded on the way as it would be on a stream: for simulations, tests and benchmarks.
public struct ReconcileLoopback {
    public private(set) var messages = 0
    public private(set) var bytes = 0
    public private(set) var largestMessage = 0

    public init() {}

    /// Reconciles `a` (initiator) with `b` (responder) in place: both end with the greatest
    /// version of every key. `hash` is SHA-256. Returns both sessions' final states.
    ///
    /// Each direction is a queue, as a stream is: a side's streamed messages and acks can be
    /// in flight while the other side sends; delivery alternates between the directions.
    public mutating func run(_ a: inout [String: Entry], _ b: inout [String: Entry], hash: ([UInt8]) -> [UInt8],
                             limits: ReconcileSession.Limits = .init()) throws(ReconcileError) -> (initiator: ReconcileSession, responder: ReconcileSession) {
        var sessions = [ReconcileSession(role: .initiator, index: Self.index(a, hash: hash), limits: limits),
                        ReconcileSession(role: .responder, index: Self.index(b, hash: hash), limits: limits)]
        let snapshots = [a, b]
        let sorted = snapshots.map { $0.values.sorted { ReplicaIndex.less(Array($0.key.utf8), Array($1.key.utf8)) } }
        // queues[i]: messages on their way to side i.
        var queues: [[ReconcileMessage]] = [[], [sessions[0].start()]]
        var heads = [0, 0]
        var side = 1
        while heads[0] < queues[0].count || heads[1] < queues[1].count {
            defer { side = 1 - side }
            guard heads[side] < queues[side].count else { continue }
            let m = queues[side][heads[side]]
            heads[side] += 1
            let wire = m.encoded()
            messages += 1
            bytes += wire.count
            largestMessage = max(largestMessage, wire.count)
            let decoded = try ReconcileMessage(decoding: wire)
            let snapshot = snapshots[side]
            let out = try sessions[side].receive(decoded) { keys in keys.compactMap { snapshot[String(decoding: $0, as: UTF8.self)] } }
            if side == 0 { Self.merge(out.received, into: &a) } else { Self.merge(out.received, into: &b) }
            if let reply = out.send { queues[1 - side].append(reply) }
            if out.streaming {
                let entries = sorted[side]
                while let next = try sessions[side].nextStreamed({ lower, upper, limit, maxBytes in
                    Self.range(entries, lower, upper, limit, maxBytes)
                }) {
                    queues[1 - side].append(next)
                }
            }
        }
        return (sessions[0], sessions[1])
    }

    /// The entries of `sorted` (by key bytes) in `[lower, upper)`, as the store's range read.
    static func range(_ sorted: [Entry], _ lower: [UInt8], _ upper: [UInt8]?, _ limit: Int, _ maxBytes: Int) -> [Entry] {
        var low = 0, high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if ReplicaIndex.less(Array(sorted[middle].key.utf8), lower) { low = middle + 1 } else { high = middle }
        }
        var out: [Entry] = []
        var used = 0
        for entry in sorted[low...] {
            if let upper, !ReplicaIndex.less(Array(entry.key.utf8), upper) { break }
            if out.count >= limit || used >= maxBytes { break }
            out.append(entry)
            used += entry.key.utf8.count + (entry.value?.utf8.count ?? 0)
        }
        return out
    }

    public static func index(_ replica: [String: Entry], hash: ([UInt8]) -> [UInt8]) -> ReplicaIndex {
        let items = replica.values.map { ItemID(key: Array($0.key.utf8), version: $0.version) }
            .sorted { ReplicaIndex.less($0.key, $1.key) }
        return ReplicaIndex(sortedItems: items, hash: hash)
    }

    /// The merge rule on a dictionary: the greater version wins.
    public static func merge(_ entries: [Entry], into replica: inout [String: Entry]) {
        for e in entries where replica[e.key].map({ $0.version < e.version }) ?? true { replica[e.key] = e }
    }
}
