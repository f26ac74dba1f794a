import SyncStore

/// One reconciliation between two replicas (range-based set reconciliation over the ordered
/// `(key, version)` items), as a value-type state machine. The sides take turns: each
/// message answers the previous one. A range whose fingerprints match is settled; a range
/// that differs is split into `branching` parts by the receiver's own items, until a side
/// holds at most `leafSize` items there and lists them; the other side answers with its
/// list, and each side then asks (`want`) for the keys where the other's version is newer.
/// Work per message is bounded (`Limits`), and so is the number of rounds, so a peer that
/// lies (fingerprints that never match, endless ranges) is cut off after bounded work.
///
/// A range the peer lacks (it holds at most `leafSize` items there) where we hold many is
/// streamed instead (issue 15: a new node's catch-up): our answer to that turn is held back,
/// the range's entries go out in key order as `streamed` messages read straight from the
/// store, up to `streamWindow` of them unacknowledged, and the held answer follows the last.
/// The peer applies each as it arrives and acknowledges it, so both sides work at once
/// instead of taking turns.
public struct ReconcileSession {
    public struct Limits: Sendable {
        public var branching = 8
        public var leafSize = 16
        /// Messages received before the session is abandoned: a real difference settles in
        /// about log_branching(n / leafSize) + 4 rounds.
        public var maxRounds = 512
        public var maxRangesPerMessage = 262_144
        public var maxIDsPerMessage = 262_144
        /// Items we list in one reply; past that, differing leaves go back as fingerprints.
        public var maxIDsPerReply = 65_536
        public var maxWantsPerMessage = 262_144
        /// Entry bytes (keys and values) sent per message; the rest follow in later messages.
        public var entryBytesPerMessage = 512 * 1024
        /// A range the peer lacks is streamed when we hold at least this many items there.
        public var streamThreshold = 1024
        /// Entry bytes and entries per streamed message: reading and encoding one is a loop
        /// turn of the serving node. 128 KiB took 4 ms alone but up to 20 ms beside a new node
        /// and a writer on 2 cores (perf catch-up, 1,000,000 keys), so 64 KiB.
        public var streamedBytesPerMessage = 64 << 10
        public var streamedEntriesPerMessage = 2_048
        /// Streamed messages sent and not yet acknowledged (2 MiB in flight).
        public var streamWindow = 32
        /// Streamed messages accepted from the peer in one session.
        public var maxStreamedMessages = 1 << 20
        public init() {}
    }

    /// Reads the store for a streamed range: entries (tombstones included) with keys in
    /// `[lower, upper)` in key order, at most `limit` and about `maxBytes` of keys and
    /// values; nil when the store cannot be read.
    public typealias RangeReader = (_ lower: [UInt8], _ upper: [UInt8]?, _ limit: Int, _ maxBytes: Int) -> [Entry]?

    public enum Role: Sendable { case initiator, responder }

    /// What to do after a message.
    public struct Output {
        /// The answer to send (nil: nothing; the session may be over).
        public var send: ReconcileMessage?
        /// Entries the peer sent: validate and apply them with the merge rule.
        public var received: [Entry] = []
        public var finished = false
        /// Streamed messages can go out: call `nextStreamed` until it returns nil.
        public var streaming = false
    }

    public let role: Role
    public let limits: Limits
    private let index: ReplicaIndex
    private var pendingOut: [[UInt8]] = []
    private var pendingHead = 0
    public private(set) var rounds = 0
    public private(set) var entriesSent = 0
    public private(set) var entriesReceived = 0
    public private(set) var finished = false
    /// True when the very first comparison found the whole replicas equal.
    public private(set) var foundEqual = false
    private var sawDifference = false
    /// Items listed so far in the reply being built.
    private var listedInReply = 0
    /// Ranges still to stream, in key order; the first continues from `streamFrom`.
    private var streamRanges: [(lower: [UInt8], upper: [UInt8]?)] = []
    private var streamFrom: [UInt8]?
    /// Our answer to the turn that started the streaming, sent after its last entries.
    private var heldReply: ReconcileMessage?
    private var unacknowledged = 0
    public private(set) var streamedSent = 0
    public private(set) var streamedReceived = 0

    public init(role: Role, index: ReplicaIndex, limits: Limits = Limits()) {
        self.role = role
        self.index = index
        self.limits = limits
    }

    /// The initiator's first message: one range over every key.
    public mutating func start() -> ReconcileMessage {
        ReconcileMessage(ranges: [.init(lower: [], upper: nil, payload: .fingerprint(index.fingerprint))])
    }

    /// Handles the peer's message; `entries` looks up our entries for keys the peer wants.
    public mutating func receive(_ message: ReconcileMessage, entries lookup: ([[UInt8]]) -> [Entry]) throws(ReconcileError) -> Output {
        guard !finished else { throw .protocolViolation("message after the session ended") }
        if message.streamed || message.ack > 0 { return try receiveOutsideTurns(message) }
        guard heldReply == nil else { throw .protocolViolation("a turn while our streamed entries were still going out") }
        rounds += 1
        guard rounds <= limits.maxRounds else { throw .limit("more than \(limits.maxRounds) rounds") }
        guard message.ranges.count <= limits.maxRangesPerMessage else { throw .limit("\(message.ranges.count) ranges in one message") }
        guard message.want.count <= limits.maxWantsPerMessage else { throw .limit("\(message.want.count) wants in one message") }
        var output = Output()
        output.received = message.entries
        entriesReceived += message.entries.count
        if !message.entries.isEmpty { sawDifference = true }

        var reply = ReconcileMessage()
        listedInReply = 0
        var previousUpper: [UInt8]? = []
        var ids = 0
        for range in message.ranges {
            // Ranges must ascend without overlapping, and none may follow one that reached the end.
            guard let floor = previousUpper else { throw .outOfOrder("a range follows one that reached the end of the key space") }
            guard !ReplicaIndex.less(range.lower, floor) else { throw .outOfOrder("range starts before the previous one ended") }
            if let upper = range.upper, !ReplicaIndex.less(range.lower, upper) { throw .outOfOrder("empty or inverted range") }
            previousUpper = range.upper
            switch range.payload {
            case .fingerprint(let theirs):
                try compare(range, theirs, into: &reply)
            case .ids(let theirs, let wantsReply):
                ids += theirs.count
                guard ids <= limits.maxIDsPerMessage else { throw .limit("more than \(limits.maxIDsPerMessage) items listed in one message") }
                try compareItems(range, theirs, wantsReply: wantsReply, into: &reply)
            }
        }
        if rounds == 1 && role == .responder && reply.ranges.isEmpty && message.ranges.count == 1 { foundEqual = true }
        if rounds == 1 && role == .initiator && message.done && !sawDifference { foundEqual = true }

        pendingOut += message.want
        reply.entries = nextEntries(lookup)
        reply.more = pendingHead < pendingOut.count || !streamRanges.isEmpty
        if reply.isEmpty && !message.more {
            finished = true
            output.finished = true
            // Say so, unless the peer already did (then it expects nothing more).
            if !message.done { reply.done = true; output.send = reply }
            if role == .initiator && !sawDifference { foundEqual = true }
            return output
        }
        guard !message.done else { throw .protocolViolation("peer ended the session while we still had \(reply.isEmpty ? "nothing" : "something") to say") }
        if !streamRanges.isEmpty {
            heldReply = reply
            output.streaming = true
            return output
        }
        output.send = reply
        return output
    }

    /// A streamed message (apply and acknowledge it) or an ack of ours (send more).
    private mutating func receiveOutsideTurns(_ message: ReconcileMessage) throws(ReconcileError) -> Output {
        var output = Output()
        guard message.ranges.isEmpty, message.want.isEmpty, !message.more, !message.done else {
            throw .protocolViolation("a streamed message or ack that also carries ranges, wants or turn flags")
        }
        if message.ack > 0 {
            guard !message.streamed, message.entries.isEmpty else { throw .protocolViolation("an ack that carries entries") }
            guard Int(message.ack) <= unacknowledged else {
                throw .protocolViolation("ack of \(message.ack) streamed messages with \(unacknowledged) unacknowledged")
            }
            unacknowledged -= Int(message.ack)
            output.streaming = heldReply != nil
            return output
        }
        streamedReceived += 1
        guard streamedReceived <= limits.maxStreamedMessages else { throw .limit("more than \(limits.maxStreamedMessages) streamed messages") }
        entriesReceived += message.entries.count
        if !message.entries.isEmpty { sawDifference = true }
        output.received = message.entries
        output.send = .ack(1)
        return output
    }

    /// The next message of a range being streamed, or the held answer after the last one;
    /// nil while `streamWindow` messages await their ack, or when there is nothing to stream.
    public mutating func nextStreamed(_ read: RangeReader) throws(ReconcileError) -> ReconcileMessage? {
        guard heldReply != nil, unacknowledged < limits.streamWindow else { return nil }
        while let range = streamRanges.first {
            guard let entries = read(streamFrom ?? range.lower, range.upper, limits.streamedEntriesPerMessage, limits.streamedBytesPerMessage) else {
                throw .local("cannot read the store to stream a range")
            }
            guard let last = entries.last else {
                streamRanges.removeFirst()
                streamFrom = nil
                continue
            }
            // The smallest key after the last one sent: the same bytes and a 0 byte.
            streamFrom = Array(last.key.utf8) + [0]
            unacknowledged += 1
            streamedSent += 1
            entriesSent += entries.count
            return .streamed(entries)
        }
        defer { heldReply = nil }
        return heldReply
    }

    private mutating func compare(_ range: ReconcileMessage.RangeItem, _ theirs: Fingerprint, into reply: inout ReconcileMessage) throws(ReconcileError) {
        let own = index.indices(range.lower, range.upper)
        let mine = index.fingerprint(own)
        if mine.matches(folded: theirs) { return }
        sawDifference = true
        if own.count <= limits.leafSize {
            // Over this reply's budget, the range goes back as a fingerprint: the peer lists
            // its side in its turn, and the work spreads over more, smaller messages.
            guard listedInReply + own.count <= limits.maxIDsPerReply else {
                reply.ranges.append(.init(lower: range.lower, upper: range.upper, payload: .fingerprint(mine)))
                return
            }
            listedInReply += own.count
            reply.ranges.append(.init(lower: range.lower, upper: range.upper, payload: .ids(Array(index.items(own)), reply: true)))
            return
        }
        if theirs.count <= UInt64(limits.leafSize) {
            // The peer has next to nothing here and we have many: push all of ours (no lists,
            // no wants), and if it has a few items, have it list them so we can take its newer ones.
            if own.count >= limits.streamThreshold {
                streamRanges.append((range.lower, range.upper))
            } else {
                for item in index.items(own) { pendingOut.append(item.key) }
            }
            if theirs.count > 0 { reply.ranges.append(.init(lower: range.lower, upper: range.upper, payload: .ids([], reply: true))) }
            return
        }
        // Split by our own items into `branching` parts of about equal count.
        var lower = range.lower
        let step = own.count / limits.branching
        for part in 1..<limits.branching {
            let boundary = index.key(at: own.lowerBound + part * step)
            guard ReplicaIndex.less(lower, boundary) else { continue }
            reply.ranges.append(.init(lower: lower, upper: boundary, payload: .fingerprint(index.fingerprint(lower, boundary))))
            lower = boundary
        }
        reply.ranges.append(.init(lower: lower, upper: range.upper, payload: .fingerprint(index.fingerprint(lower, range.upper))))
    }

    private mutating func compareItems(_ range: ReconcileMessage.RangeItem, _ theirs: [ItemID], wantsReply: Bool,
                                       into reply: inout ReconcileMessage) throws(ReconcileError) {
        let own = index.indices(range.lower, range.upper)
        var previous: [UInt8]?
        for item in theirs {
            guard !ReplicaIndex.less(item.key, range.lower), range.upper.map({ ReplicaIndex.less(item.key, $0) }) ?? true else {
                throw .outOfOrder("listed item outside its range")
            }
            if let previous { guard ReplicaIndex.less(previous, item.key) else { throw .outOfOrder("listed items not in ascending key order") } }
            previous = item.key
        }
        // Walk both sorted lists: want every key where theirs is newer or ours is missing.
        var mine = index.items(own).makeIterator()
        var current = mine.next()
        for item in theirs {
            while let ours = current, ReplicaIndex.less(ours.key, item.key) { current = mine.next() }
            if let ours = current, ours.key == item.key {
                if ours.version < item.version { reply.want.append(item.key) }
            } else {
                reply.want.append(item.key)
            }
        }
        if !reply.want.isEmpty { sawDifference = true }
        if wantsReply {
            if own.count != theirs.count || !zip(index.items(own), theirs).allSatisfy({ $0 == $1 }) {
                sawDifference = true
                guard listedInReply + own.count <= limits.maxIDsPerReply else {
                    // Too many to list here: answer with the fingerprint and let the peer split.
                    reply.ranges.append(.init(lower: range.lower, upper: range.upper, payload: .fingerprint(index.fingerprint(own))))
                    return
                }
                listedInReply += own.count
                reply.ranges.append(.init(lower: range.lower, upper: range.upper, payload: .ids(Array(index.items(own)), reply: false)))
            }
        }
    }

    /// Entries for the peer's wants, up to the per-message budget.
    private mutating func nextEntries(_ lookup: ([[UInt8]]) -> [Entry]) -> [Entry] {
        var keys: [[UInt8]] = []
        var budget = limits.entryBytesPerMessage
        while pendingHead < pendingOut.count, budget > 0 {
            let key = pendingOut[pendingHead]
            pendingHead += 1
            // Keys we do not hold are not looked up here: the store lookup below returns
            // only what exists (a tree walk per key cost a third of a catch-up's turns).
            keys.append(key)
            budget -= key.count + 64
        }
        guard !keys.isEmpty else { return [] }
        var found = lookup(keys)
        // Values count against the budget too; what does not fit goes back in the queue.
        var used = 0, kept = 0
        for entry in found {
            used += entry.key.utf8.count + (entry.value?.utf8.count ?? 0) + 64
            if used > limits.entryBytesPerMessage && kept > 0 { break }
            kept += 1
        }
        if kept < found.count {
            let back = found[kept...].map { Array($0.key.utf8) }
            pendingHead -= back.count
            for (offset, key) in back.enumerated() { pendingOut[pendingHead + offset] = key }
            found.removeLast(found.count - kept)
        }
        if pendingHead > 4096 && pendingHead * 2 > pendingOut.count {
            pendingOut.removeFirst(pendingHead)
            pendingHead = 0
        }
        entriesSent += found.count
        return found
    }
}
