import Gossipsub
import P2PCrypto
import Testing
import TestSupport
import Wire

/// StrictSign messages from py-libp2p peers whose identity is secp256k1 (its default) or RSA
/// (libp2p-wire.md §7.3; issue 13): whole signed messages as py's `Pubsub.publish` makes them
/// (`KeyVectors.pubsub*`, from make_key_vectors.py; py's own validator accepts them).
@Suite struct MessageSigningKeyTypeTests {
    @Test(arguments: [KeyVectors.pubsubSecp256k1, KeyVectors.pubsubRSA])
    func aMessageSignedByPyWithThisKeyVerifies(_ vector: KeyVectors.Signed) throws {
        let message = try PubsubMessage(decoding: Hex.bytes(vector.message))
        #expect(message.key == Hex.bytes(vector.publicKey))
        #expect(try MessageSigning.verify(message).description == vector.peerID)

        var tampered = message
        tampered.data += [0]
        #expect(throws: PubsubError.badSignature) { try MessageSigning.verify(tampered) }
    }

    @Test func aSecp256k1KeyIsRecoveredFromTheAuthorWhenNoKeyIsSent() throws {
        var message = try PubsubMessage(decoding: Hex.bytes(KeyVectors.pubsubSecp256k1.message))
        message.key = nil
        #expect(try MessageSigning.verify(message).description.hasPrefix("16Uiu2HA"))
    }

    @Test func anRSAAuthorMustSendItsKey() throws {
        var message = try PubsubMessage(decoding: Hex.bytes(KeyVectors.pubsubRSA.message))
        message.key = nil
        #expect(throws: PubsubError.self) { try MessageSigning.verify(message) }
    }
}
