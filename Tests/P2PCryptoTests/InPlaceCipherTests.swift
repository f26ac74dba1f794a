import Testing
import TestSupport
import Wire
@testable import P2PCrypto

/// The in-place ChaCha20-Poly1305 variants give exactly what the array ones give.
@Suite struct InPlaceCipherTests {
    static let keyBytes = [UInt8](repeating: 0x42, count: 32)

    @Test(arguments: [0, 1, 15, 16, 17, 1000, 65519])
    func sealInPlaceMatchesSeal(count: Int) throws {
        var random = SeededRandom(seed: UInt64(count))
        let plaintext = random.bytes(count)
        let ad: [UInt8] = [1, 2, 3]
        let expected = ChaChaPolyIETF.seal(key: Self.keyBytes, nonce: 7, associatedData: ad, plaintext: plaintext)
        let key = SecretBytes(copying: Self.keyBytes)
        var buffer = plaintext + [UInt8](repeating: 0, count: 16)
        buffer.withUnsafeMutableBytes { all in
            ad.withUnsafeBytes { ad in
                ChaChaPolyIETF.sealInPlace(key: key, nonce: 7, associatedData: ad,
                                           message: UnsafeMutableRawBufferPointer(rebasing: all[..<count]), tag: all.baseAddress! + count)
            }
        }
        #expect(buffer == expected)
        let opened = try buffer.withUnsafeMutableBytes { all in
            try ad.withUnsafeBytes { ad in try ChaChaPolyIETF.openInPlace(key: key, nonce: 7, associatedData: ad, buffer: all) }
        }
        #expect(opened == count)
        #expect(Array(buffer[..<count]) == plaintext)
    }

    @Test func emptyRegionsWithoutBaseAddress() throws {
        let key = SecretBytes(copying: Self.keyBytes)
        var tag = [UInt8](repeating: 0, count: 16)
        tag.withUnsafeMutableBytes { t in
            ChaChaPolyIETF.sealInPlace(key: key, nonce: 0, message: UnsafeMutableRawBufferPointer(start: nil, count: 0), tag: t.baseAddress!)
        }
        #expect(tag == ChaChaPolyIETF.seal(key: Self.keyBytes, nonce: 0, associatedData: [], plaintext: []))
        #expect(throws: CryptoError.decryptionFailed) {
            try ChaChaPolyIETF.openInPlace(key: key, nonce: 0, buffer: UnsafeMutableRawBufferPointer(start: nil, count: 0))
        }
        var short = [UInt8](repeating: 0, count: 15)
        #expect(throws: CryptoError.decryptionFailed) {
            try short.withUnsafeMutableBytes { try ChaChaPolyIETF.openInPlace(key: key, nonce: 0, buffer: $0) }
        }
    }

    @Test func sealIntoAnotherBufferOrInPlace() {
        let key = SecretBytes(copying: Self.keyBytes)
        let plaintext = Array("into a caller's buffer".utf8)
        let expected = ChaChaPolyIETF.seal(key: Self.keyBytes, nonce: 3, associatedData: [], plaintext: plaintext)
        var output = [UInt8](repeating: 0xee, count: plaintext.count + 16)
        let written = plaintext.withUnsafeBytes { p in output.withUnsafeMutableBytes { ChaChaPolyIETF.seal(key: key, nonce: 3, plaintext: p, into: $0) } }
        #expect(written == expected.count)
        #expect(output == expected)
        var inPlace = plaintext + [UInt8](repeating: 0, count: 16)
        inPlace.withUnsafeMutableBytes { all in
            _ = ChaChaPolyIETF.seal(key: key, nonce: 3, plaintext: UnsafeRawBufferPointer(rebasing: all[..<plaintext.count]), into: all)
        }
        #expect(inPlace == expected)
    }

    @Test func tamperingIsDetectedInPlace() {
        let key = SecretBytes(copying: Self.keyBytes)
        let sealed = ChaChaPolyIETF.seal(key: Self.keyBytes, nonce: 9, associatedData: [], plaintext: Array("secret".utf8))
        for index in sealed.indices {
            var tampered = sealed
            tampered[index] ^= 0x80
            #expect(throws: CryptoError.decryptionFailed) {
                try tampered.withUnsafeMutableBytes { try ChaChaPolyIETF.openInPlace(key: key, nonce: 9, buffer: $0) }
            }
        }
        var wrongNonce = sealed
        #expect(throws: CryptoError.decryptionFailed) {
            try wrongNonce.withUnsafeMutableBytes { try ChaChaPolyIETF.openInPlace(key: key, nonce: 10, buffer: $0) }
        }
    }

    @Test func secretBytesConsumingWipesTheArray() {
        var bytes: [UInt8] = [1, 2, 3, 4]
        let secret = SecretBytes(consuming: &bytes)
        #expect(bytes == [0, 0, 0, 0])
        #expect(secret.array == [1, 2, 3, 4])
    }
}
