import Testing
import TestSupport
@testable import P2PCrypto

/// SHA-256, HMAC-SHA256 and HKDF (libp2p-wire.md §3.6, §13).
struct HashTests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func sha256FIPSVectors(message: String, digest: String) {
        #expect(SHA256.hash(Array(message.utf8)).hex == digest)
    }

    @Test func sha256OfOneMillionAs() {
        let message = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(SHA256.hash(message).hex == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func sha256AroundThePaddingBoundaries() {
        // 64 bytes of "a" against its known digest; lengths across the 55/56/64-byte padding
        // edges all give distinct 32-byte digests.
        #expect(SHA256.hash([UInt8](repeating: 0x61, count: 64)).hex
                == "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb")
        var seen = Set<[UInt8]>()
        for n in 50...130 {
            let digest = SHA256.hash([UInt8](repeating: 0x61, count: n))
            #expect(digest.count == 32)
            seen.insert(digest)
        }
        #expect(seen.count == 81)
    }

    @Test func hmacRFC4231CaseOne() {
        let mac = HMACSHA256.authenticate(key: [UInt8](repeating: 0x0b, count: 20), message: Array("Hi There".utf8))
        #expect(mac.hex == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
    }

    @Test func hmacRFC4231CaseTwo() {
        let mac = HMACSHA256.authenticate(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        #expect(mac.hex == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func hmacWithEmptyKeyAndMessage() {
        // HMAC-SHA256("", "") computed with Python's hmac module.
        #expect(HMACSHA256.authenticate(key: [], message: []).hex
                == "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad")
    }

    @Test func hkdfRFC5869CaseOne() {
        let prk = HKDF.extract(salt: Hex.bytes("000102030405060708090a0b0c"),
                               inputKeyMaterial: [UInt8](repeating: 0x0b, count: 22))
        #expect(prk.hex == "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5")
        let okm = HKDF.expand(pseudoRandomKey: prk, info: Hex.bytes("f0f1f2f3f4f5f6f7f8f9"), length: 42)
        #expect(okm.hex == "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")
    }

    @Test(arguments: [2, 3])
    func noiseHKDFEqualsRFC5869WithEmptyInfo(outputs: Int) {
        let chainingKey = (0..<32).map { UInt8($0) }
        let ikm = (0..<32).map { UInt8(0xff - $0) }
        let noise = HKDF.noiseHKDF(chainingKey: chainingKey, inputKeyMaterial: ikm, outputs: outputs)
        let rfc = HKDF.expand(pseudoRandomKey: HKDF.extract(salt: chainingKey, inputKeyMaterial: ikm), info: [], length: 32 * outputs)
        #expect(noise.count == outputs)
        #expect(noise.flatMap { $0 } == rfc)
    }

    @Test func noiseHKDFWithEmptyInput() {
        // Split() calls HKDF with zero-length input key material.
        let out = HKDF.noiseHKDF(chainingKey: [UInt8](repeating: 1, count: 32), inputKeyMaterial: [], outputs: 2)
        #expect(out[0] != out[1] && out[0].count == 32)
    }

    @Test func secureRandomBytes() {
        #expect(SecureRandom.bytes(0) == [])
        let a = SecureRandom.bytes(32), b = SecureRandom.bytes(32)
        #expect(a.count == 32 && a != b)
    }
}
