import P2PCrypto
@testable import Reconcile
import SyncStore
import Testing
import TestSupport

/// A range the peer lacks is streamed (issue 15): entries in key order in `streamed`
/// messages outside the turns, a window of them unacknowledged, the held answer after.
@Suite struct ReconcileStreamingTests {
    typealias Fixture = ReconcileSessionTests

    @Test func aNewReplicaIsStreamedTheWholeRangeInFewTurns() throws {
        let full = Fixture.replica(60_000)
        var pair = ReconcilePair(a: [:], b: full)
        let (initiator, responder) = try pair.run()
        #expect(pair.a == full)
        #expect(initiator.finished && responder.finished)
        // Turns: the fingerprint, the held answer after the stream, the empty reply, done.
        #expect(initiator.rounds + responder.rounds <= 4, "\(initiator.rounds) + \(responder.rounds) turns")
        #expect(responder.streamedSent > 10 && initiator.streamedReceived == responder.streamedSent)
        #expect(initiator.entriesReceived == 60_000 && responder.entriesSent == 60_000)
        #expect(pair.maxMessageBytes < 256 << 10, "\(pair.maxMessageBytes) bytes in one message")
    }

    @Test func aRangeWithFewOfTheirItemsIsStreamedAndTheirsStillCome() throws {
        var full = Fixture.replica(20_000)
        var a: [String: Entry] = [:]
        // a holds 5 keys b lacks and one newer version of b's: all must reach b.
        for i in 0..<5 { a["zz-only-a-\(i)"] = Entry(key: "zz-only-a-\(i)", value: "a", version: Version(hlc: HLC(physicalMillis: 9, logical: 0), origin: Fixture.origins[2])) }
        a["key/7"] = Fixture.newer(full["key/7"]!, value: "newer on a", origin: 2)
        var pair = ReconcilePair(a: a, b: full)
        let (_, responder) = try pair.run()
        #expect(responder.streamedSent > 0)
        #expect(pair.a == pair.b)
        full.merge(a) { old, new in old.version < new.version ? new : old }
        #expect(pair.b == full)
    }

    /// Drives the responder by hand: the window holds, each ack lets one more go.
    @Test func theWindowHoldsUntilAcksCome() throws {
        let full = Fixture.replica(30_000)
        var limits = ReconcileSession.Limits()
        limits.streamWindow = 3
        var responder = ReconcileSession(role: .responder, index: ReconcilePair.index(full), limits: limits)
        var initiator = ReconcileSession(role: .initiator, index: ReconcilePair.index([:]), limits: limits)
        let sorted = full.values.sorted { ReplicaIndex.less(Array($0.key.utf8), Array($1.key.utf8)) }
        let read: ReconcileSession.RangeReader = { ReconcileLoopback.range(sorted, $0, $1, $2, $3) }
        let out = try responder.receive(initiator.start()) { _ in [] }
        #expect(out.send == nil && out.streaming)
        var sent: [ReconcileMessage] = []
        while let m = try responder.nextStreamed(read) { sent.append(m) }
        #expect(sent.count == 3 && sent.allSatisfy(\.streamed))
        // The initiator applies each and acknowledges it; the first ack lets exactly one more out.
        let answer = try initiator.receive(sent[0]) { _ in [] }
        #expect(answer.send == .ack(1) && answer.received.count == sent[0].entries.count)
        #expect(try responder.receive(.ack(1)) { _ in [] }.streaming)
        #expect(try responder.nextStreamed(read) != nil)
        #expect(try responder.nextStreamed(read) == nil)
        // Keys come in order, without overlap between messages.
        let keys = sent.flatMap { $0.entries.map { Array($0.key.utf8) } }
        #expect(zip(keys, keys.dropFirst()).allSatisfy { ReplicaIndex.less($0, $1) })
    }

    @Test func misusedStreamingIsAProtocolViolation() throws {
        let full = Fixture.replica(5_000)
        func streamingResponder() throws -> ReconcileSession {
            var responder = ReconcileSession(role: .responder, index: ReconcilePair.index(full))
            var initiator = ReconcileSession(role: .initiator, index: ReconcilePair.index([:]))
            _ = try responder.receive(initiator.start()) { _ in [] }
            return responder
        }
        // An ack for nothing sent.
        var r = try streamingResponder()
        #expect(throws: ReconcileError.self) { try r.receive(.ack(1)) { _ in [] } }
        // A turn while our stream is still going out.
        r = try streamingResponder()
        #expect(throws: ReconcileError.self) { try r.receive(ReconcileMessage(more: true)) { _ in [] } }
        // A streamed message that also carries wants, and an ack with entries.
        var initiator = ReconcileSession(role: .initiator, index: ReconcilePair.index([:]))
        _ = initiator.start()
        var bad = ReconcileMessage.streamed([full["key/1"]!])
        bad.want = [Array("key/2".utf8)]
        #expect(throws: ReconcileError.self) { try initiator.receive(bad) { _ in [] } }
        var badAck = ReconcileMessage.ack(1)
        badAck.entries = [full["key/1"]!]
        r = try streamingResponder()
        #expect(throws: ReconcileError.self) { try r.receive(badAck) { _ in [] } }
    }

    @Test func streamedAndAckFieldsRoundTrip() throws {
        let entries = Array(Fixture.replica(3).values)
        for message in [ReconcileMessage.streamed(entries), .ack(7)] {
            #expect(try ReconcileMessage(decoding: message.encoded()) == message)
        }
        // Field 7 beyond 32 bits is malformed.
        var w = [UInt8]([0x38])  // field 7, varint
        w += [0x80, 0x80, 0x80, 0x80, 0x10]
        #expect(throws: ReconcileError.self) { try ReconcileMessage(decoding: w) }
    }
}
