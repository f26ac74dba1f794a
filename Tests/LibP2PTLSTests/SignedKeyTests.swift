import Testing
import TestSupport
@testable import LibP2PTLS

/// The DER `SignedKey` codec of the libp2p extension: round trips at every length form, and
/// every truncation or non-DER variant is refused.
struct SignedKeyTests {
    @Test(arguments: [0, 1, 36, 127, 128, 255, 256, 300, 5000])
    func roundTripsAtEveryLengthForm(_ count: Int) throws {
        var random = SeededRandom(seed: UInt64(count))
        let key = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
        let signature = (0..<(count / 2 + 1)).map { _ in UInt8.random(in: 0...255, using: &random) }
        let encoded = SignedKey(publicKey: key, signature: signature).der
        #expect(try SignedKey(der: encoded) == SignedKey(publicKey: key, signature: signature))
    }

    @Test func encodesAsTheSpecSays() {
        // SEQUENCE { OCTET STRING 08 01, OCTET STRING aa }
        #expect(SignedKey(publicKey: [0x08, 0x01], signature: [0xaa]).der.hex == "300704020801" + "0401aa")
        // A 200-byte key takes the long length form 81 c8.
        #expect(SignedKey(publicKey: [UInt8](repeating: 1, count: 200), signature: []).der.prefix(6).hex == "3081cd0481c8")
    }

    @Test func everyTruncationIsRefused() {
        let encoded = SignedKey(publicKey: [UInt8](repeating: 7, count: 200), signature: [UInt8](repeating: 9, count: 64)).der
        for length in 0..<encoded.count {
            #expect(throws: LibP2PTLSError.self, "\(length) bytes") { try SignedKey(der: Array(encoded.prefix(length))) }
        }
    }

    @Test func refusesWhatIsNotStrictDER() {
        let cases: [(String, String)] = [
            ("3007040208010401aa00", "1 bytes after the SEQUENCE"),
            ("300a040208010401aa040100", "more than two fields in the SEQUENCE"),
            ("3008040208010481" + "01aa", "length at byte 6 is not in its shortest (DER) form"),
            ("3080040208010401aa0000", "unsupported length form 0x80 at byte 0"),
            ("3007030208010401aa", "publicKey at byte 2 has tag 0x3, expected 0x4"),
            ("3104040208010401aa", "SignedKey at byte 0 has tag 0x31, expected 0x30"),
            ("30050402080104", "element at byte 6 has no length"),
            ("3007040208010402aa", "element at byte 6 claims 2 bytes, only 1 remain"),
        ]
        for (hex, message) in cases {
            #expect(throws: LibP2PTLSError.malformedSignedKey(message), "\(hex)") { try SignedKey(der: Hex.bytes(hex)) }
        }
    }
}
