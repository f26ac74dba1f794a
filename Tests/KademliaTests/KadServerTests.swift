import Kademlia
import Testing
import TestSupport
import Wire

@Suite struct KadServerTests {
    static let now: UInt64 = 1_795_608_000 * 1_000_000_000
    let sender = KadTestPeers.id(1)
    /// A routing table of 30 peers, the sender among them, "closest first" in ID order.
    let table = (1...30).map { KadTestPeers.peer(UInt8($0)) }

    func closest(_ key: [UInt8], _ count: Int) -> [KadPeer] { Array(table.prefix(count)) }

    @Test func findNodeAnswersTheKClosestWithoutTheSender() {
        var server = KadServer()
        let answer = server.respond(to: KadMessage(type: .findNode, key: [9]), from: sender, now: Self.now, closestPeers: closest)
        #expect(answer == .reply(KadMessage(type: .findNode, key: [9], closerPeers: Array(table[1...20]))))
    }

    @Test func putThenGetValue() {
        var server = KadServer()
        let record = KadRecord(key: Array("/app/k".utf8), value: Array("v".utf8))
        let put = KadMessage(type: .putValue, key: record.key, record: record)
        #expect(server.respond(to: put, from: sender, now: Self.now, closestPeers: closest) == .reply(put))
        let answer = server.respond(to: KadMessage(type: .getValue, key: record.key), from: KadTestPeers.id(2), now: Self.now + 1,
                                    closestPeers: closest)
        var stored = record
        stored.timeReceived = "2026-11-25T12:00:00Z"
        let others = [table[0]] + Array(table[2...20])
        #expect(answer == .reply(KadMessage(type: .getValue, key: record.key, record: stored, closerPeers: others)))
        // A key we do not hold: only closer peers.
        let miss = server.respond(to: KadMessage(type: .getValue, key: [5]), from: sender, now: Self.now, closestPeers: closest)
        #expect(miss == .reply(KadMessage(type: .getValue, key: [5], closerPeers: Array(table[1...20]))))
    }

    @Test func badPutsAreRefused() {
        var server = KadServer()
        func put(_ m: KadMessage) -> KadServer.Answer { server.respond(to: m, from: sender, now: Self.now, closestPeers: closest) }
        #expect(put(KadMessage(type: .putValue, key: [1])) == .refuse(.missingRecord))
        #expect(put(KadMessage(type: .putValue, key: [1], record: KadRecord(key: [2], value: [1]))) == .refuse(.recordKeyMismatch))
        let big = KadRecord(key: [1], value: [UInt8](repeating: 0, count: 65_537))
        #expect(put(KadMessage(type: .putValue, key: [1], record: big)) == .refuse(.store(.valueTooLarge(65_537, limit: 65_536))))
        #expect(put(KadMessage(type: .findNode, key: [UInt8](repeating: 1, count: 300)))
            == .refuse(.store(.keyTooLong(300, limit: 256))))
        #expect(put(KadMessage(type: .getValue)) == .refuse(.emptyKey(.getValue)))
    }

    @Test func addProviderStoresOnlyTheSendersEntryAndGetProvidersReturnsIt() {
        var server = KadServer()
        let key = [UInt8](repeating: 0x12, count: 34)
        let add = KadMessage(type: .addProvider, key: key,
                             providerPeers: [KadTestPeers.peer(7, addresses: 1), KadTestPeers.peer(1, addresses: 2)])
        #expect(server.respond(to: add, from: sender, now: Self.now, closestPeers: closest) == .noReply)
        let onlyOthers = KadMessage(type: .addProvider, key: key, providerPeers: [KadTestPeers.peer(8)])
        #expect(server.respond(to: onlyOthers, from: sender, now: Self.now, closestPeers: closest) == .refuse(.noProviderFromSender(1)))
        let answer = server.respond(to: KadMessage(type: .getProviders, key: key), from: KadTestPeers.id(3), now: Self.now,
                                    closestPeers: closest)
        guard case .reply(let reply) = answer else { Issue.record("expected a reply, got \(answer)"); return }
        #expect(reply.type == .getProviders)
        #expect(reply.providerPeers == [KadTestPeers.peer(1, addresses: 2)])
        #expect(reply.closerPeers.count == 20)
        #expect(!reply.closerPeers.contains { $0.id == KadTestPeers.id(3) })
    }

    @Test func pingIsAnsweredWithPing() {
        var server = KadServer()
        #expect(server.respond(to: KadMessage(type: .ping, key: [1]), from: sender, now: Self.now, closestPeers: closest)
            == .reply(KadMessage(type: .ping)))
    }

    @Test func storeRefusalsReachTheAnswer() {
        var server = KadServer(store: KadRecordStore(putLimiter: KadRateLimiter(ratePerSecond: 1, burst: 1)))
        let put = KadMessage(type: .putValue, key: [1], record: KadRecord(key: [1], value: [1]))
        #expect(server.respond(to: put, from: sender, now: Self.now, closestPeers: closest) == .reply(put))
        #expect(server.respond(to: put, from: sender, now: Self.now, closestPeers: closest)
            == .refuse(.store(.rateLimited(sender, what: "PUT_VALUE"))))
    }
}
