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
    public mutating func run(_ a: inout [String: Entry], _ b: inout [String: Entry], hash: ([UInt8]) -> [UInt8],
                             limits: ReconcileSession.Limits = .init()) throws(ReconcileError) -> (initiator: ReconcileSession, responder: ReconcileSession) {
        var initiator = ReconcileSession(role: .initiator, index: Self.index(a, hash: hash), limits: limits)
        var responder = ReconcileSession(role: .responder, index: Self.index(b, hash: hash), limits: limits)
        let snapshotA = a, snapshotB = b
        var message: ReconcileMessage? = initiator.start()
        var toResponder = true
        while let m = message {
            let wire = m.encoded()
            messages += 1
            bytes += wire.count
            largestMessage = max(largestMessage, wire.count)
            let decoded = try ReconcileMessage(decoding: wire)
            if toResponder {
                let out = try responder.receive(decoded) { keys in keys.compactMap { snapshotB[String(decoding: $0, as: UTF8.self)] } }
                Self.merge(out.received, into: &b)
                message = out.send
            } else {
                let out = try initiator.receive(decoded) { keys in keys.compactMap { snapshotA[String(decoding: $0, as: UTF8.self)] } }
                Self.merge(out.received, into: &a)
                message = out.send
            }
            toResponder.toggle()
        }
        return (initiator, responder)
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
