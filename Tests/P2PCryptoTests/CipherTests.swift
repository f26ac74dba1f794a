import Testing
import TestSupport
@testable import P2PCrypto

/// ChaCha20-Poly1305 IETF and X25519 (libp2p-wire.md §3.6).
struct CipherTests {
    static let rfcKey = Hex.bytes("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")
    static let rfcNonce = Hex.bytes("070000004041424344454647")
    static let rfcAD = Hex.bytes("50515253c0c1c2c3c4c5c6c7")
    static let rfcPlaintext = Array("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.".utf8)
    static let rfcSealed = """
        d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b\
        1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc\
        3ff4def08e4b7a9de576d26586cec64b6116\
        1ae10b594f09e26a7e902ecbd0600691
        """

    @Test func rfc8439Section282() throws {
        let sealed = ChaChaPolyIETF.seal(key: Self.rfcKey, rawNonce: Self.rfcNonce, associatedData: Self.rfcAD, plaintext: Self.rfcPlaintext)
        #expect(sealed.hex == Self.rfcSealed)
        let opened = try ChaChaPolyIETF.open(key: Self.rfcKey, rawNonce: Self.rfcNonce, associatedData: Self.rfcAD, ciphertext: sealed)
        #expect(opened == Self.rfcPlaintext)
    }

    @Test func noiseNonceIsFourZerosThenLittleEndianCounter() {
        #expect(ChaChaPolyIETF.noiseNonce(0).hex == "000000000000000000000000")
        #expect(ChaChaPolyIETF.noiseNonce(0x0102_0304_0506_0708).hex == "000000000807060504030201")
        let key = [UInt8](repeating: 9, count: 32)
        #expect(ChaChaPolyIETF.seal(key: key, nonce: 5, associatedData: [1], plaintext: [2, 3])
                == ChaChaPolyIETF.seal(key: key, rawNonce: ChaChaPolyIETF.noiseNonce(5), associatedData: [1], plaintext: [2, 3]))
    }

    @Test func tamperingIsDetected() throws {
        let key = [UInt8](repeating: 7, count: 32)
        let sealed = ChaChaPolyIETF.seal(key: key, nonce: 1, associatedData: [9], plaintext: Array("secret".utf8))
        for index in [0, sealed.count - 1] {
            var tampered = sealed
            tampered[index] ^= 0x01
            #expect(throws: CryptoError.decryptionFailed) {
                try ChaChaPolyIETF.open(key: key, nonce: 1, associatedData: [9], ciphertext: tampered)
            }
        }
        #expect(throws: CryptoError.decryptionFailed) { try ChaChaPolyIETF.open(key: key, nonce: 2, associatedData: [9], ciphertext: sealed) }
        #expect(throws: CryptoError.decryptionFailed) { try ChaChaPolyIETF.open(key: key, nonce: 1, associatedData: [], ciphertext: sealed) }
        #expect(throws: CryptoError.decryptionFailed) { try ChaChaPolyIETF.open(key: key, nonce: 1, associatedData: [9], ciphertext: Array(sealed.prefix(15))) }
        #expect(try ChaChaPolyIETF.open(key: key, nonce: 1, associatedData: [9], ciphertext: sealed) == Array("secret".utf8))
    }

    @Test func emptyPlaintextAndAssociatedData() throws {
        let key = [UInt8](repeating: 3, count: 32)
        let sealed = ChaChaPolyIETF.seal(key: key, nonce: 0, associatedData: [], plaintext: [])
        #expect(sealed.count == 16)
        #expect(try ChaChaPolyIETF.open(key: key, nonce: 0, associatedData: [], ciphertext: sealed) == [])
    }

    @Test func x25519RFC7748Section61() throws {
        let alice = try X25519KeyPair(privateKey: Hex.bytes("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"))
        let bob = try X25519KeyPair(privateKey: Hex.bytes("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"))
        #expect(alice.publicKey.hex == "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
        #expect(bob.publicKey.hex == "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
        let shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"
        #expect(try alice.sharedSecret(with: bob.publicKey).hex == shared)
        #expect(try bob.sharedSecret(with: alice.publicKey).hex == shared)
    }

    @Test func x25519RejectsLowOrderPointsAndBadLengths() throws {
        let pair = X25519KeyPair.generate()
        #expect(throws: CryptoError.lowOrderPoint) { try pair.sharedSecret(with: [UInt8](repeating: 0, count: 32)) }
        #expect(throws: CryptoError.lowOrderPoint) { try pair.sharedSecret(with: [1] + [UInt8](repeating: 0, count: 31)) }
        #expect(throws: CryptoError.invalidKeyLength(expected: 32, got: 31)) { try pair.sharedSecret(with: [UInt8](repeating: 9, count: 31)) }
        #expect(throws: CryptoError.invalidKeyLength(expected: 32, got: 0)) { try X25519KeyPair(privateKey: []) }
    }

    @Test func generatedX25519PairsAgree() throws {
        let a = X25519KeyPair.generate(), b = X25519KeyPair.generate()
        #expect(a.publicKey != b.publicKey)
        #expect(try a.sharedSecret(with: b.publicKey) == b.sharedSecret(with: a.publicKey))
    }
}
