/// Message IDs seen recently, each remembered for a fixed time: duplicates are dropped.
struct SeenCache {
    typealias MessageID = [UInt8]
    private var expiry: [MessageIDKey: UInt64] = [:]
    /// Insertion order, for expiring the oldest first without scanning everything.
    private var order: [(id: MessageIDKey, expires: UInt64)] = []
    private var head = 0
    let ttlMillis: UInt64

    init(ttlMillis: UInt64) { self.ttlMillis = ttlMillis }

    func contains(_ id: MessageID) -> Bool { expiry[MessageIDKey(id)] != nil }

    var count: Int { expiry.count }

    /// Records `id`; false if it was already there.
    @discardableResult
    mutating func insert(_ id: MessageID, now: UInt64) -> Bool {
        let key = MessageIDKey(id)
        guard expiry[key] == nil else { return false }
        expiry[key] = now + ttlMillis
        order.append((key, now + ttlMillis))
        return true
    }

    mutating func expire(now: UInt64) {
        while head < order.count, order[head].expires <= now {
            expiry[order[head].id] = nil
            head += 1
        }
        if head > 1024, head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }
}
