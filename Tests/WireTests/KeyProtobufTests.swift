import Testing
import TestSupport
@testable import Wire

/// `PublicKey` / `PrivateKey` protobufs, libp2p-wire.md §1.5. Decoding is strict: only the
/// deterministic encoding is accepted (both fields, tag order, minimal varints, nothing else).
struct KeyProtobufTests {
    static let specPrivate = """
        080112407e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d\
        1ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e
        """
    static let specPublic = "080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e"

    @Test func specPublicKeyVector() throws {
        let key = try PublicKeyProtobuf(decoding: Hex.bytes(Self.specPublic))
        #expect(key.type == .ed25519)
        #expect(key.data.hex == "1ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e")
        #expect(key.encoded().hex == Self.specPublic)
    }

    @Test func specPrivateKeyVector() throws {
        let key = try PrivateKeyProtobuf(decoding: Hex.bytes(Self.specPrivate))
        #expect(key.type == .ed25519)
        #expect(key.data.count == 64)
        #expect(key.data.prefix(32).hex == "7e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d")
        #expect(key.encoded().hex == Self.specPrivate)
    }

    @Test func rsaTypeZeroIsStillWritten() {
        // A proto3 encoder would drop Type = 0; peer IDs of RSA keys depend on it (§1.5).
        #expect(PublicKeyProtobuf(type: .rsa, data: [0xaa]).encoded().hex == "08001201aa")
    }

    @Test func largeDataUsesAMultiByteLength() throws {
        let key = PublicKeyProtobuf(type: .ecdsa, data: [UInt8](repeating: 7, count: 300))
        let encoded = key.encoded()
        #expect(encoded.prefix(5).hex == "080312ac02")
        #expect(try PublicKeyProtobuf(decoding: encoded) == key)
    }

    @Test(arguments: [
        ("1201aa", KeyProtobufError.fieldsOutOfOrder),                 // Data without Type
        ("0801", KeyProtobufError.missingField("Data")),
        ("", KeyProtobufError.missingField("Type")),
        ("1201aa0801", KeyProtobufError.fieldsOutOfOrder),             // wrong order
        ("08010801", KeyProtobufError.fieldsOutOfOrder),               // Type twice
        ("08011201aa1201bb", KeyProtobufError.fieldsOutOfOrder),       // Data twice
        ("08011201aa1801", KeyProtobufError.unknownField(3)),
        ("0a0101", KeyProtobufError.wrongWireType(field: 1)),
        ("08011001", KeyProtobufError.wrongWireType(field: 2)),
        ("08051201aa", KeyProtobufError.unknownKeyType(5)),
        ("0881", KeyProtobufError.malformed(.truncated(offset: 1))),
        ("08811201aa", KeyProtobufError.unknownKeyType(0x901)),       // 81 12 is one varint
        ("0801120500", KeyProtobufError.malformed(.lengthExceedsMessage(offset: 3, length: 5, remaining: 1))),
        ("0881001201aa", KeyProtobufError.notCanonical),               // padded Type varint
        ("080112810000", KeyProtobufError.notCanonical),               // padded length (81 00 = 1)
    ])
    func rejectsNonCanonicalOrMalformedInput(hex: String, expected: KeyProtobufError) {
        #expect(throws: expected) { try PublicKeyProtobuf(decoding: Hex.bytes(hex)) }
        #expect(throws: expected) { try PrivateKeyProtobuf(decoding: Hex.bytes(hex)) }
    }

    @Test func errorMessagesNameTheProblem() {
        #expect(KeyProtobufError.unknownField(3).description.contains("field number 3"))
        #expect(KeyProtobufError.missingField("Data").description.contains("Data"))
    }

    @Test func roundTripsRandomKeys() throws {
        var rng = SeededRandom(seed: 15)
        for _ in 0..<300 {
            let key = PublicKeyProtobuf(type: KeyType.allCases.randomElement(using: &rng)!,
                                        data: rng.bytes(Int.random(in: 0...200, using: &rng)))
            #expect(try PublicKeyProtobuf(decoding: key.encoded()) == key)
        }
    }
}
