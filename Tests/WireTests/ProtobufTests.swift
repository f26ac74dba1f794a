import Testing
import TestSupport
@testable import Wire

/// The minimal protobuf reader and writer.
struct ProtobufTests {
    @Test func writerProducesTheExpectedBytes() {
        var w = ProtobufWriter()
        w.varintField(1, 150)
        w.stringField(2, "testing")
        w.bytesField(3, [])
        w.fixed32Field(4, 0x0102_0304)
        w.fixed64Field(5, 1)
        w.varintField(16, UInt64.max)
        // 150 → 96 01 (protobuf docs example); field 16 needs a two-byte tag.
        #expect(w.bytes.hex == "089601" + "120774657374696e67" + "1a00" + "2504030201" + "290100000000000000"
                + "8001" + "ffffffffffffffffff01")
    }

    @Test func roundTrips() throws {
        var w = ProtobufWriter()
        w.varintField(1, 0)
        w.bytesField(2, [1, 2, 3])
        w.fixed32Field(3, .max)
        w.fixed64Field(4, 0xdead_beef_cafe)
        w.varintField(536_870_911, UInt64.max)
        var r = ProtobufReader(w.bytes)
        #expect(try r.next()! == (1, .varint(0)))
        #expect(try r.next()! == (2, .bytes([1, 2, 3])))
        #expect(try r.next()! == (3, .fixed32(.max)))
        #expect(try r.next()! == (4, .fixed64(0xdead_beef_cafe)))
        #expect(try r.next()! == (536_870_911, .varint(.max)))
        #expect(try r.next() == nil)
        #expect(r.isAtEnd)
    }

    @Test func toleratesPaddedVarintsAsProtobufDoes() throws {
        var r = ProtobufReader(Hex.bytes("0881808000"))
        #expect(try r.next()! == (1, .varint(1)))
    }

    @Test(arguments: [
        ("08", ProtobufError.truncated(offset: 1)),
        ("0880", ProtobufError.truncated(offset: 1)),
        ("80", ProtobufError.truncated(offset: 0)),
        ("1205aabb", ProtobufError.lengthExceedsMessage(offset: 1, length: 5, remaining: 2)),
        ("12ffffffffffffffff7f", ProtobufError.lengthExceedsMessage(offset: 1, length: UInt64.max >> 1, remaining: 0)),
        ("0daabbcc", ProtobufError.truncated(offset: 1)),
        ("09aabbccddeeff00", ProtobufError.truncated(offset: 1)),
        ("08ffffffffffffffffff02", ProtobufError.varintTooLong(offset: 1)),
        ("08ffffffffffffffffff8001", ProtobufError.varintTooLong(offset: 1)),
        ("0b", ProtobufError.unsupportedWireType(3, offset: 0)),
        ("0f", ProtobufError.unsupportedWireType(7, offset: 0)),
        ("0001", ProtobufError.invalidFieldNumber(0, offset: 0)),
        ("8080808080", ProtobufError.truncated(offset: 0)),
        ("f8ffffff7f00", ProtobufError.invalidFieldNumber(1 << 32 - 1, offset: 0)),
    ])
    func malformedInputThrows(hex: String, expected: ProtobufError) {
        var r = ProtobufReader(Hex.bytes(hex))
        #expect(throws: expected) { while try r.next() != nil {} }
    }

    @Test func everyTruncationThrowsOrEndsCleanly() throws {
        var w = ProtobufWriter()
        w.varintField(1, 300)
        w.bytesField(2, Array("hello".utf8))
        w.fixed64Field(3, 7)
        w.fixed32Field(4, 9)
        let bytes = w.bytes
        let fieldEnds: Set<Int> = [3, 10, 19, 24]
        for cut in 0...bytes.count {
            var r = ProtobufReader(Array(bytes[..<cut]))
            var count = 0
            do {
                while try r.next() != nil { count += 1 }
                #expect(cut == 0 || fieldEnds.contains(cut), "cut at \(cut) read \(count) fields without error")
            } catch {
                #expect(!fieldEnds.contains(cut), "cut at a field boundary \(cut) threw \(error)")
            }
        }
    }

    @Test func randomBytesNeverTrap() {
        var rng = SeededRandom(seed: 2)
        for _ in 0..<2000 {
            var r = ProtobufReader(rng.bytes(Int.random(in: 0...24, using: &rng)))
            while (try? r.next()) != nil {}
        }
    }
}
