import Kademlia
import Testing
import TestSupport
import Wire

@Suite struct KadKeyTests {
    @Test func digestRoundTripsThroughWords() {
        let digest = (0..<32).map { UInt8($0 * 7 + 1) }
        #expect(KadKey(digest: digest).bytes == digest)
    }

    /// SHA-256("") is the FIPS 180-4 vector: a key hashes its bytes, nothing more.
    @Test func hashesKeyBytesWithSHA256() {
        #expect(KadKey(hashing: []).bytes == Hex.bytes("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"))
    }

    @Test func distanceIsXorAndOrdersNumerically() {
        let zero = KadKey(digest: [UInt8](repeating: 0, count: 32))
        var oneBytes = [UInt8](repeating: 0, count: 32); oneBytes[31] = 1
        var highBytes = [UInt8](repeating: 0, count: 32); highBytes[0] = 0x80
        let one = KadKey(digest: oneBytes), high = KadKey(digest: highBytes)
        #expect(zero.distance(to: one) == one)
        #expect(one.distance(to: one) == zero)
        #expect(one < high)
        #expect(zero.commonPrefixLength(with: high) == 0)
        #expect(zero.commonPrefixLength(with: one) == 255)
        #expect(one.commonPrefixLength(with: one) == 256)
    }
}
