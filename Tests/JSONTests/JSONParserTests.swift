import JSON
import Testing
import TestSupport

@Suite struct JSONParserTests {
    @Test func parsesEveryKindOfValue() throws {
        let value = try JSONParser.parse(#" {"a": [1, -2.5, 3e2, true, false, null], "b": {"c": "d"}, "e": ""} "#)
        #expect(value == ["a": [1, .double(-2.5), .double(300), true, false, nil], "b": ["c": "d"], "e": ""])
        #expect(value["a"]?.arrayValue?.first?.intValue == 1)
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let value = try JSONParser.parse(#""\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00""#)
        #expect(value == .string("\"\\/\u{8}\u{c}\n\r\té😀"))
    }

    @Test func integersAreExact() throws {
        #expect(try JSONParser.parse("9007199254740993").intValue == 9_007_199_254_740_993)
        #expect(try JSONParser.parse("-9223372036854775808").intValue == Int64.min)
        #expect(try JSONParser.parse("1.5").intValue == nil)
    }

    @Test(arguments: [
        "", " ", "{", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "-", "+1", "1e", "tru", "nul",
        "\"abc", "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"a\u{1}b\"",
        "{\"a\" 1}", "{1:2}", "[1 2]", "1 2", "{\"a\":1}x", "NaN", "Infinity", "1e999",
    ])
    func refusesMalformedInput(_ text: String) {
        #expect(throws: JSONError.self) { try JSONParser.parse(text) }
    }

    @Test func refusesInvalidUTF8() {
        #expect(throws: JSONError.self) { try JSONParser.parse([0x22, 0xff, 0xfe, 0x22]) }
        #expect(throws: JSONError.self) { try JSONParser.parse([0x22, 0xed, 0xa0, 0x80, 0x22]) }  // UTF-8 surrogate
    }

    @Test func boundsNestingDepth() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONError(code: .tooDeep(limit: 64), offset: 64)) { try JSONParser.parse(deep) }
        let ok = String(repeating: "[", count: 63) + String(repeating: "]", count: 63)
        #expect(try JSONParser.parse(ok) != .null)
    }

    @Test func errorsSayWhereAndWhat() {
        #expect(throws: JSONError(code: .unexpectedByte(UInt8(ascii: "x")), offset: 6)) {
            try JSONParser.parse(#"{"a":1x"#)
        }
        #expect("\(JSONError(code: .unexpectedEnd, offset: 3))" == "unexpected end of input at byte 3")
    }

    @Test func encodingRoundTripsAndStaysOnOneLine() throws {
        var rng = SeededRandom(seed: 7)
        for _ in 0..<300 {
            let value = Self.randomValue(&rng, depth: 0)
            let bytes = value.encoded()
            #expect(!bytes.contains(0x0a))
            #expect(try JSONParser.parse(bytes) == value)
        }
    }

    @Test func encodesObjectsWithSortedKeys() {
        let value: JSON = ["b": 1, "a": ["y": true, "x": nil]]
        #expect(value.encodedString == #"{"a":{"x":null,"y":true},"b":1}"#)
        #expect(JSON.string("a\u{0}\n\"").encodedString == #""a\u0000\n\"""#)
    }

    @Test func randomBytesNeverTrap() {
        var rng = SeededRandom(seed: 99)
        let alphabet = Array("{}[],:\"\\ tfn0123456789.-eE".utf8) + [0x80, 0xc3, 0xa9, 0x00]
        for _ in 0..<5_000 {
            let length = Int.random(in: 0..<40, using: &rng)
            let bytes = (0..<length).map { _ in alphabet.randomElement(using: &rng)! }
            _ = try? JSONParser.parse(bytes)
        }
    }

    static func randomValue(_ rng: inout SeededRandom, depth: Int) -> JSON {
        switch Int.random(in: 0..<(depth > 3 ? 5 : 7), using: &rng) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .int(Int.random(in: -1_000_000...1_000_000, using: &rng))
        case 3: return .double(Double(Int.random(in: -1000...1000, using: &rng)) / 8)
        case 4:
            let scalars: [Character] = ["a", "é", "😀", "\n", "\"", "\\", "\u{1}", " ", "z"]
            return .string(String((0..<Int.random(in: 0..<8, using: &rng)).map { _ in scalars.randomElement(using: &rng)! }))
        case 5: return .array((0..<Int.random(in: 0..<4, using: &rng)).map { _ in randomValue(&rng, depth: depth + 1) })
        default:
            var members: [String: JSON] = [:]
            for i in 0..<Int.random(in: 0..<4, using: &rng) { members["k\(i)"] = randomValue(&rng, depth: depth + 1) }
            return .object(members)
        }
    }
}
