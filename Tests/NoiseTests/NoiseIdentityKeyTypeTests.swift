@testable import Noise
import P2PCrypto
import Testing
import TestSupport
import Wire

/// Noise accepts every libp2p identity key type (libp2p-wire.md §3.3; issue 13): a responder
/// whose identity is secp256k1 (py-libp2p's default, `16Uiu2…`), ECDSA P-256 or RSA. The
/// identity payloads were signed by other implementations over the fixed responder static key
/// of NoiseHandshakeTests (`KeyVectors.noise*`, from make_key_vectors.py).
@Suite struct NoiseIdentityKeyTypeTests {
    /// NoiseHandshakeTests' responder static key (scalar 0x40 ... 0x5f), whose public half the
    /// vectors sign.
    static let responderStatic = try! NoiseHandshakeTests.key(from: 0x40)

    func handshake(responderIdentity vector: KeyVectors.Signed, expected: PeerID?) throws
        -> (initiator: NoiseHandshake.Completion, responder: NoiseHandshake.Completion) {
        var initiator = NoiseHandshake(role: .initiator, identity: try Ed25519PrivateKey(seed: NoiseHandshakeTests.initiatorIdentitySeed),
                                       staticKey: try NoiseHandshakeTests.key(from: 0x00), ephemeral: try NoiseHandshakeTests.key(from: 0x20),
                                       expectedPeer: expected)
        // Our identity is Ed25519; the override plays a peer holding the vector's key.
        var responder = NoiseHandshake(role: .responder, identity: try Ed25519PrivateKey(seed: NoiseHandshakeTests.responderIdentitySeed),
                                       staticKey: Self.responderStatic, ephemeral: try NoiseHandshakeTests.key(from: 0x60))
        responder.identityPayloadOverride = (Hex.bytes(vector.publicKey), Hex.bytes(vector.signature))
        let m2 = try responder.receivedBytes(initiator.start()).send
        let i2 = try initiator.receivedBytes(m2)
        let r3 = try responder.receivedBytes(i2.send)
        return (try #require(i2.completion), try #require(r3.completion))
    }

    @Test func theVectorsSignTheResponderStaticKey() {
        let expected = NoiseHandshakePayload.signaturePrefix + Self.responderStatic.publicKey
        for vector in [KeyVectors.noiseSecp256k1, KeyVectors.noiseECDSA, KeyVectors.noiseRSA] {
            #expect(Hex.bytes(vector.message) == expected, "\(vector.name)")
        }
    }

    @Test(arguments: [KeyVectors.noiseSecp256k1, KeyVectors.noiseECDSA, KeyVectors.noiseRSA])
    func aResponderWithThisIdentityKeyTypeIsAccepted(_ vector: KeyVectors.Signed) throws {
        let dialed = try PeerID(vector.peerID)
        let (initiatorDone, responderDone) = try handshake(responderIdentity: vector, expected: dialed)
        #expect(initiatorDone.remotePeer == dialed)
        #expect(initiatorDone.remoteIdentity.libp2pProtobuf == Hex.bytes(vector.publicKey))
        #expect(responderDone.remotePeer.description == "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq")
        // The sessions work both ways.
        var toResponder = initiatorDone.session
        var fromInitiator = responderDone.session
        #expect(try fromInitiator.decrypt(try toResponder.encrypt(Array("hi".utf8))) == Array("hi".utf8))
    }

    @Test func aSecp256k1ResponderHasA16UiuPeerID() throws {
        let (initiatorDone, _) = try handshake(responderIdentity: KeyVectors.noiseSecp256k1, expected: nil)
        #expect(initiatorDone.remotePeer.description.hasPrefix("16Uiu2HA"))
        #expect(initiatorDone.remoteIdentity.type == .secp256k1)
    }

    @Test(arguments: [KeyVectors.noiseSecp256k1, KeyVectors.noiseECDSA, KeyVectors.noiseRSA])
    func aSignatureOverAnotherMessageIsRefused(_ vector: KeyVectors.Signed) throws {
        // The same key with its signature of the generic vector message, not of our static key.
        let other = [KeyVectors.secp256k1, KeyVectors.ecdsa, KeyVectors.rsa2048].first { $0.publicKey == vector.publicKey }!
        let forged = KeyVectors.Signed(name: "forged", publicKey: vector.publicKey, message: vector.message,
                                       signature: other.signature, peerID: vector.peerID)
        #expect(throws: NoiseError.badIdentitySignature) { try handshake(responderIdentity: forged, expected: nil) }
    }

    @Test func aDialedPeerIDOfAnotherKeyAborts() throws {
        #expect(throws: NoiseError.self) {
            try handshake(responderIdentity: KeyVectors.noiseSecp256k1, expected: try PeerID(KeyVectors.noiseRSA.peerID))
        }
    }

    @Test func weakAndUnknownIdentityKeysAreRefused() throws {
        let weak = KeyVectors.Signed(name: "rsa1024", publicKey: KeyVectors.rsa1024.publicKey, message: "",
                                     signature: KeyVectors.rsa1024.signature, peerID: KeyVectors.rsa1024.peerID)
        #expect(throws: NoiseError.unsupportedIdentityKey(CryptoError.weakRSAKey(bits: 1024).description)) {
            try handshake(responderIdentity: weak, expected: nil)
        }
        let eccP256 = KeyVectors.Signed(name: "py ECC_P256", publicKey: "0804120100", message: "", signature: "00", peerID: "")
        #expect(throws: NoiseError.unsupportedIdentityKey(CryptoError.unknownKeyType(4).description)) {
            try handshake(responderIdentity: eccP256, expected: nil)
        }
    }
}
