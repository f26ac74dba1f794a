import Gossipsub
import P2PCrypto
import SyncStore
@_spi(Fuzzing) @testable import SyncNode
import Testing
import Wire

/// Proofs of writes (issue 14): the signed gossip message that carried a batch proves each of
/// its writes to a member that receives them by catch-up; any edit, any invented write and any
/// write under another name than the signer's is refused.
@Suite struct WriteProofTests {
    static let alice = try! Ed25519PrivateKey(seed: [UInt8](repeating: 1, count: 32))
    static let mallory = try! Ed25519PrivateKey(seed: [UInt8](repeating: 2, count: 32))
    static let topic = "p2p-sync"

    static func write(_ key: String, _ value: String?, _ ms: UInt64, by author: Ed25519PrivateKey) -> Entry {
        Entry(key: key, value: value, version: Version(hlc: HLC(physicalMillis: ms, logical: 0), origin: author.publicKey.peerID.bytes))
    }

    static func signed(_ payload: WritePayload, by author: Ed25519PrivateKey, topic: String = topic) -> PubsubMessage {
        MessageSigning.sign(PubsubMessage(from: nil, data: WriteMessage.encode(payload), seqno: [0, 0, 0, 0, 0, 0, 0, 1], topic: topic), with: author)
    }

    @Test func aBatchProvesExactlyItsWrites() throws {
        let batch = [Self.write("a", "1", 100, by: Self.alice), Self.write("b", nil, 101, by: Self.alice), Self.write("c", "3", 102, by: Self.alice)]
        let message = Self.signed(.writes(batch), by: Self.alice)
        let record = try #require(WriteProof.record(message, author: Self.alice.publicKey.peerID, payload: .writes(batch)))
        #expect(record.first == batch[0].version.hlc && record.last == batch[2].version.hlc)

        let check = WriteProof.check(batch, proofs: [record.bytes], topic: Self.topic)
        #expect(check.proven == batch && check.unproven.isEmpty && check.records == [record])

        // A relay changes a value, resurrects a delete, moves a version, invents a write.
        let edited = [Self.write("a", "evil", 100, by: Self.alice), Self.write("b", "back", 101, by: Self.alice),
                      Self.write("c", "3", 103, by: Self.alice), Self.write("d", "new", 101, by: Self.alice)]
        let forged = WriteProof.check(edited, proofs: [record.bytes], topic: Self.topic)
        #expect(forged.proven.isEmpty && forged.unproven.count == 4)
        // No proof at all; a proof on another topic; a proof with a broken signature.
        #expect(WriteProof.check(batch, proofs: [], topic: Self.topic).unproven.count == 3)
        #expect(WriteProof.check(batch, proofs: [Self.signed(.writes(batch), by: Self.alice, topic: "other").encoded()], topic: Self.topic).unproven.count == 3)
        var broken = message
        broken.data[broken.data.count - 3] ^= 1
        #expect(WriteProof.check(batch, proofs: [broken.encoded()], topic: Self.topic).unproven.count == 3)
        #expect(WriteProof.check(batch, proofs: [[1, 2, 3]], topic: Self.topic).unproven.count == 3)
    }

    /// Mallory signs a message carrying writes that name Alice as their origin: it proves nothing.
    @Test func writesInAnotherNameThanTheSignersAreNotProven() {
        let claimed = [Self.write("a", "mine now", 500, by: Self.alice)]
        let message = Self.signed(.writes(claimed), by: Self.mallory)
        #expect(WriteProof.record(message, author: Self.mallory.publicKey.peerID, payload: .writes(claimed)) == nil)
        #expect(WriteProof.check(claimed, proofs: [message.encoded()], topic: Self.topic).unproven.count == 1)
    }

    @Test func anAnnouncementProvesTheValueByItsHash() {
        let big = Self.write("big", String(repeating: "x", count: 100_000), 700, by: Self.alice)
        let data = WriteMessage.announcement(big)
        let message = MessageSigning.sign(PubsubMessage(from: nil, data: data, seqno: [1], topic: Self.topic), with: Self.alice)
        #expect(WriteProof.check([big], proofs: [message.encoded()], topic: Self.topic).proven == [big])
        var changed = big
        changed.value = String(repeating: "y", count: 100_000)
        #expect(WriteProof.check([changed], proofs: [message.encoded()], topic: Self.topic).unproven.count == 1)
    }

    @Test func membershipChangesProveThemselves() {
        let change = Entry(key: ".p2p-sync/group/00", value: "{}", version: Version(hlc: HLC(physicalMillis: 1, logical: 0), origin: [1]))
        #expect(WriteProof.check([change], proofs: [], topic: Self.topic).proven == [change])
    }
}
