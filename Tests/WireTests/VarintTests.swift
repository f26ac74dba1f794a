import Testing
import TestSupport
@testable import Wire

/// Multiformats unsigned varint, libp2p-wire.md §1.1.
struct VarintTests {
    static let table: [(UInt64, String)] = [
        (0, "00"), (1, "01"), (127, "7f"), (128, "8001"), (255, "ff01"), (300, "ac02"),
        (16384, "808001"), ((1 << 63) - 1, "ffffffffffffffff7f"),
    ]

    @Test(arguments: table)
    func encodesTheSpecTable(value: UInt64, hex: String) {
        #expect(Varint.encode(value).hex == hex)
        #expect(Varint.encodedCount(value) == hex.count / 2)
    }

    @Test(arguments: table)
    func decodesTheSpecTable(value: UInt64, hex: String) throws {
        let decoded = try Varint.decode(Hex.bytes(hex))
        #expect(decoded?.value == value)
        #expect(decoded?.byteCount == hex.count / 2)
    }

    @Test func stopsAtTheEndOfTheVarint() throws {
        let decoded = try Varint.decode(Hex.bytes("ac02ff"))
        #expect(decoded?.value == 300)
        #expect(decoded?.byteCount == 2)
    }

    @Test func decodesFromASliceWithANonZeroStartIndex() throws {
        let bytes = Hex.bytes("ffff8001")
        let decoded = try Varint.decode(bytes[2...])
        #expect(decoded?.value == 128)
        #expect(decoded?.byteCount == 2)
    }

    @Test(arguments: ["8000", "8100", "ff00", "808000", "ffffffffffffffff00"])
    func rejectsNonMinimalEncodings(hex: String) {
        #expect(throws: VarintError.notMinimal) { try Varint.decode(Hex.bytes(hex)) }
    }

    @Test(arguments: ["ffffffffffffffff8001", "80808080808080808001", "ffffffffffffffffff"])
    func rejectsMoreThanNineBytes(hex: String) {
        #expect(throws: VarintError.overflow) { try Varint.decode(Hex.bytes(hex)) }
    }

    @Test(arguments: ["", "80", "ff", "8080", "ffffffffffffffff"])
    func incompleteInputAsksForMore(hex: String) throws {
        #expect(try Varint.decode(Hex.bytes(hex)) == nil)
    }

    @Test(arguments: table)
    func everyPrefixIsIncompleteUntilTheLastByte(value: UInt64, hex: String) throws {
        let bytes = Hex.bytes(hex)
        for cut in 0..<bytes.count {
            #expect(try Varint.decode(bytes[..<cut]) == nil, "prefix of \(cut) bytes")
        }
        #expect(try Varint.decode(bytes)?.value == value)
    }

    @Test func roundTripsRandomValues() throws {
        var rng = SeededRandom(seed: 0x5eed_0001)
        for _ in 0..<5000 {
            // Spread values over every length by masking to a random bit width.
            let bits = UInt64.random(in: 0...63, using: &rng)
            let value = rng.next() & ((1 << bits) - 1)
            let encoded = Varint.encode(value)
            #expect(encoded.count <= Varint.maxBytes)
            let decoded = try Varint.decode(encoded)
            #expect(decoded?.value == value && decoded?.byteCount == encoded.count, "value \(value)")
        }
    }
}
