import Gossipsub
import P2PCrypto
import Testing
import TestSupport
import Wire

/// The signed-message vector of libp2p-wire.md section 7.3 (py-libp2p's validator accepts it).
@Suite struct PubsubRPCTests {
    static let seed = Hex.bytes("7e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d")
    static let from = Hex.bytes("0024080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e")
    static let unsigned = Hex.bytes("0a26 0024080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e 1205 68656c6c6f 1a08 0000000000000001 2204 74657374")
    static let signature = Hex.bytes("f05e62a21b5f1f89b4ab356feb34c493746a2af8ef2fa03b9fd4956fb40d3c279b1eae5153c6b28dce3b2f9bed546dc1cfd5a71513af0aa38ee38d31675ac30f")

    @Test func signsTheSpecVectorByteForByte() throws {
        let identity = try Ed25519PrivateKey(seed: Self.seed)
        let message = PubsubMessage(from: nil, data: Array("hello".utf8), seqno: Hex.bytes("0000000000000001"), topic: "test")
        let signed = MessageSigning.sign(message, with: identity)
        #expect(signed.encoded(includingSignature: false) == Self.unsigned)
        #expect(signed.signature == Self.signature)
        #expect(signed.encoded() == Self.unsigned + [0x2a, 0x40] + Self.signature)
        #expect(try MessageSigning.verify(signed) == identity.publicKey.peerID)
        #expect(signed.defaultID == Self.from + Hex.bytes("0000000000000001"))
    }

    @Test func theRPCFrameMatchesTheSpec() throws {
        let signed = try PubsubMessage(decoding: Self.unsigned + [0x2a, 0x40] + Self.signature)
        let rpc = PubsubRPC(subscriptions: [.init(subscribe: true, topic: "test")], publish: [signed])
        let body = rpc.encoded()
        let signedBytes = Self.unsigned + [0x2a, 0x40] + Self.signature
        #expect(Varint.encode(UInt64(body.count)) + body == Hex.bytes("8e01 0a08 0801 1204 74657374 1281 01") + signedBytes)
        #expect(try PubsubRPC(decoding: body) == rpc)
    }

    @Test func tamperedMessagesAndForeignKeysAreRefused() throws {
        let identity = try Ed25519PrivateKey(seed: Self.seed)
        var signed = MessageSigning.sign(PubsubMessage(from: nil, data: [1], seqno: [0, 0, 0, 0, 0, 0, 0, 9], topic: "t"), with: identity)
        #expect(throws: Never.self) { try MessageSigning.verify(signed) }
        signed.data = [2]
        #expect(throws: PubsubError.badSignature) { try MessageSigning.verify(signed) }
        signed.data = [1]
        signed.key = Ed25519PrivateKey.generate().publicKey.libp2pProtobuf
        #expect(throws: PubsubError.keyDoesNotMatchAuthor) { try MessageSigning.verify(signed) }
        signed.key = identity.publicKey.libp2pProtobuf  // py always sends the key: accepted when it matches
        #expect(try MessageSigning.verify(signed) == identity.publicKey.peerID)
        signed.seqno = nil
        #expect(throws: PubsubError.missingSignatureFields) { try MessageSigning.verify(signed) }
    }

    @Test func controlMessagesRoundTrip() throws {
        let control = ControlMessage(ihave: [.init(topic: "t", messageIDs: [[1, 2], [0xff]])], iwant: [[[3]]], graft: ["t"],
                                     prune: [.init(topic: "t", peers: [Self.from], backoff: 60)], idontwant: [[[4, 5]]])
        let rpc = PubsubRPC(control: control)
        #expect(try PubsubRPC(decoding: rpc.encoded()) == rpc)
    }

    @Test func malformedInputIsRefusedNotTrapped() {
        #expect(throws: PubsubError.self) { try PubsubRPC(decoding: [0x12, 0x05, 0x0a]) }
        #expect(throws: PubsubError.self) { try PubsubMessage(decoding: Hex.bytes("1205 68656c6c6f")) }  // no topic
        #expect(throws: PubsubError.self) { try PubsubMessage(decoding: Hex.bytes("2202 ff fe")) }  // topic not UTF-8
        var rng = SeededRandom(seed: 21)
        for _ in 0..<3000 { _ = try? PubsubRPC(decoding: rng.bytes(Int.random(in: 0..<64, using: &rng))) }
    }
}
