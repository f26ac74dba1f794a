@testable import Noise
import P2PCrypto
import Testing
import TestSupport
import Wire

/// The handshake transcript of libp2p-wire.md section 3.7 (computed with python noiseprotocol
/// and cross-checked there), reproduced byte for byte.
@Suite struct NoiseHandshakeTests {
    static let initiatorIdentitySeed = Hex.bytes("7e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d")
    static let responderIdentitySeed = [UInt8](repeating: 0x11, count: 32)

    static func key(from start: UInt8) throws -> X25519KeyPair {
        try X25519KeyPair(privateKey: (0..<32).map { start + UInt8($0) })
    }

    static let message1 = Hex.bytes("358072d6365880d1aeea329adf9121383851ed21a28e3b75e965d0d2cd166254")
    static let message2 = Hex.bytes("""
        675dd574ed7789310b3d2e7681f3790b466c773b1521fecf36577958371ea52f7e1866de56d6c9b805d589b5e65bd14858f21fba6e576ce64993fbf55eb004577dcce74471e01d23b0d7e3adb038b98a7a17bd3a7a96660e20c91300be90deb9117e7bfd09f02547990d0d288949a3233aee9595f6f91d4917da8649a0cae59350ecaec46803a86a0912daf55ebaac281677f5997a0f71ae550960967ef3b988977c366cca74677a0b5b395257273a74f2eda5e16af4b8b9b8ddc82ee24f8edcde7cfb72357afb64
        """)
    static let message3 = Hex.bytes("""
        1dc00df062a51249321a8f8349c312567dc00ed837b5fc3fa4c72162d39a4973886cfeb356f911c35f59a08c46c9dcb3cce02dc26464cb87240b2b03de8a363b719f735dc2668d2f77741de98d64d67be161b2b11fa41f9df0bbd315c58a5f17ba30246323e0cbcc3d59a864eb3cd489917356eca052c69cc5d908e74eeca9f40fac1d13967daa9518d590e8120321b7115e4f93076b351c878849f6c172b39a805a2662407363a3
        """)
    static let handshakeHash = Hex.bytes("cc341d7d6741f14e8bc5f7d252e33b813eb2d2859943ba7ca04c6ecadbcb1979")

    func makePair(expected: PeerID? = nil) throws -> (NoiseHandshake, NoiseHandshake) {
        let initiator = NoiseHandshake(role: .initiator, identity: try Ed25519PrivateKey(seed: Self.initiatorIdentitySeed),
                                       staticKey: try Self.key(from: 0x00), ephemeral: try Self.key(from: 0x20),
                                       expectedPeer: expected)
        let responder = NoiseHandshake(role: .responder, identity: try Ed25519PrivateKey(seed: Self.responderIdentitySeed),
                                       staticKey: try Self.key(from: 0x40), ephemeral: try Self.key(from: 0x60))
        return (initiator, responder)
    }

    func framed(_ m: [UInt8]) -> [UInt8] { [UInt8(m.count >> 8), UInt8(m.count & 0xff)] + m }

    @Test func reproducesTheSpecTranscript() throws {
        var (initiator, responder) = try makePair(expected: try PeerID("12D3KooWPqT2nMDSiXUSx5D7fasaxhxKigVhcqfkKqrLghCq9jxz"))
        let m1 = initiator.start()
        #expect(m1 == framed(Self.message1))
        #expect(responder.start() == [])
        let r1 = try responder.receivedBytes(m1)
        #expect(r1.send == framed(Self.message2))
        #expect(r1.completion == nil)
        let i2 = try initiator.receivedBytes(r1.send)
        #expect(i2.send == framed(Self.message3))
        let initiatorDone = try #require(i2.completion)
        #expect(initiatorDone.remotePeer.description == "12D3KooWPqT2nMDSiXUSx5D7fasaxhxKigVhcqfkKqrLghCq9jxz")
        let r3 = try responder.receivedBytes(i2.send)
        let responderDone = try #require(r3.completion)
        #expect(responderDone.remotePeer.description == "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq")
        #expect(initiator.handshakeHash == Self.handshakeHash)
        #expect(responder.handshakeHash == Self.handshakeHash)

        var initiatorSession = initiatorDone.session
        var responderSession = responderDone.session
        let hello = try initiatorSession.encrypt(Array("hello".utf8))
        #expect(hello == Hex.bytes("0015 f6d5904e75bfcf08a979fbf5b43c258cfa459d4b7e"))
        #expect(try initiatorSession.encrypt(Array("hello".utf8)) == Hex.bytes("0015 8a6c9aea62e298599ee81420ae3dfab85e06902546"))
        #expect(try responderSession.encrypt(Array("world".utf8)) == Hex.bytes("0015 4cfea03ec1707635fa39f4864f86b99079e5a4b0bc"))
        #expect(try responderSession.decrypt(hello) == Array("hello".utf8))
    }

    @Test func splitAtEveryByteGivesTheSameResult() throws {
        var (initiator, responder) = try makePair()
        let m1 = initiator.start()
        let m2 = try responder.receivedBytes(m1).send
        for split in 0...m2.count {
            var (i, _) = try makePair()
            _ = i.start()
            let first = try i.receivedBytes(Array(m2[..<split]))
            let second = try i.receivedBytes(Array(m2[split...]))
            #expect(first.send + second.send == framed(Self.message3), "split at \(split)")
        }
    }

    @Test func transportDataPipelinedWithMessage3IsKept() throws {
        var (initiator, responder) = try makePair()
        let m2 = try responder.receivedBytes(initiator.start()).send
        let done = try initiator.receivedBytes(m2)
        var session = try #require(done.completion).session
        let data = try session.encrypt(Array("early".utf8))
        let r = try responder.receivedBytes(done.send + data)
        var responderSession = try #require(r.completion).session
        #expect(try responderSession.decrypt(r.completion!.remainder) == Array("early".utf8))
    }

    @Test func aPeerIDOtherThanTheDialedOneAborts() throws {
        var (initiator, responder) = try makePair(expected: try PeerID("12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq"))
        let m2 = try responder.receivedBytes(initiator.start()).send
        #expect(throws: NoiseError.self) { try initiator.receivedBytes(m2) }
    }

    @Test func aTamperedMessageFailsDecryption() throws {
        var (initiator, responder) = try makePair()
        var m2 = try responder.receivedBytes(initiator.start()).send
        m2[2 + 40] ^= 0x01
        #expect(throws: NoiseError.decryptionFailed(stage: "message 2 static key")) { try initiator.receivedBytes(m2) }
    }

    @Test func aResponderSignatureOverAnotherStaticKeyIsRefused() throws {
        var (initiator, responder) = try makePair()
        responder.signedStaticKeyOverride = try Self.key(from: 0x80).publicKey
        let m2 = try responder.receivedBytes(initiator.start()).send
        #expect(throws: NoiseError.badIdentitySignature) { try initiator.receivedBytes(m2) }
    }

    @Test func anInitiatorSignatureOverAnotherStaticKeyIsRefused() throws {
        var (initiator, responder) = try makePair()
        initiator.signedStaticKeyOverride = try Self.key(from: 0x80).publicKey
        let m2 = try responder.receivedBytes(initiator.start()).send
        let m3 = try initiator.receivedBytes(m2).send
        #expect(throws: NoiseError.badIdentitySignature) { try responder.receivedBytes(m3) }
    }

    @Test func aSignatureOverAnotherStaticKeyIsRefused() throws {
        // A responder whose payload signs a different static key than the one it uses.
        let identity = try Ed25519PrivateKey(seed: Self.responderIdentitySeed)
        let wrongStatic = try Self.key(from: 0x80)
        let payload = NoiseHandshakePayload(identityKey: identity.publicKey.libp2pProtobuf,
                                            identitySignature: identity.sign(NoiseHandshakePayload.signaturePrefix + wrongStatic.publicKey))
        #expect(try NoiseHandshakePayload(decoding: payload.encoded()) == payload)
        var (initiator, _) = try makePair()
        _ = initiator.start()
        // Drive a responder by hand would need internals; instead check the payload codec
        // refuses a payload without a signature, and the transcript test covers verification.
        #expect(throws: NoiseError.badPayload("no identity_sig")) {
            try NoiseHandshakePayload(decoding: [0x0a, 0x02, 0x08, 0x01])
        }
    }

    @Test func shortOrOddMessagesAreRefusedNotTrapped() throws {
        var rng = SeededRandom(seed: 5)
        for _ in 0..<500 {
            var (initiator, responder) = try makePair()
            _ = initiator.start()
            let junk = rng.bytes(Int.random(in: 0..<300, using: &rng))
            _ = try? initiator.receivedBytes(framed(junk))
            _ = try? responder.receivedBytes(framed(junk))
        }
        var (_, responder) = try makePair()
        #expect(throws: NoiseError.unexpectedFrameLength(message: 1, got: 31)) {
            try responder.receivedBytes(framed([UInt8](repeating: 9, count: 31)))
        }
    }

    @Test func largeWritesAreChunkedAt65519() throws {
        var (initiator, responder) = try makePair()
        let m2 = try responder.receivedBytes(initiator.start()).send
        let done = try initiator.receivedBytes(m2)
        var sender = try #require(done.completion).session
        var receiver = try #require(try responder.receivedBytes(done.send).completion).session
        let big = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let wire = try sender.encrypt(big)
        #expect(Int(wire[0]) << 8 | Int(wire[1]) == 65535)
        #expect(wire.count == big.count + 4 * 18)
        var received: [UInt8] = []
        var offset = 0
        while offset < wire.count {
            let n = min(1000, wire.count - offset)
            received += try receiver.decrypt(Array(wire[offset..<(offset + n)]))
            offset += n
        }
        #expect(received == big)
    }
}
