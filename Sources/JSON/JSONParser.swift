/// A strict RFC 8259 parser over bytes.
///
/// Strict because it reads input from the network and from any local client: invalid
/// UTF-8, lone surrogates, control characters in strings, leading zeros and trailing data are
/// all refused with an offset, and nesting is bounded so hostile input cannot exhaust the stack.
public struct JSONParser {
    /// Deep enough for every message we define (they nest 3 levels), shallow enough that
    /// recursion can never come near the stack limit.
    public static let defaultMaxDepth = 64

    public static func parse(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws(JSONError) -> JSON {
        let result: Result<JSON, JSONError> = bytes.withUnsafeBufferPointer { buffer in
            var parser = JSONParser(buffer: buffer, maxDepth: maxDepth)
            do throws(JSONError) {
                parser.skipWhitespace()
                let value = try parser.parseValue(depth: 0)
                parser.skipWhitespace()
                guard parser.position == buffer.count else { throw parser.error(.trailingData) }
                return .success(value)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    public static func parse(_ text: String, maxDepth: Int = defaultMaxDepth) throws(JSONError) -> JSON {
        try parse(Array(text.utf8), maxDepth: maxDepth)
    }

    private let buffer: UnsafeBufferPointer<UInt8>
    private let maxDepth: Int
    private var position = 0

    private init(buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.buffer = buffer
        self.maxDepth = maxDepth
    }

    private func error(_ code: JSONError.Code) -> JSONError { JSONError(code: code, offset: position) }

    private mutating func skipWhitespace() {
        while position < buffer.count {
            switch buffer[position] {
            case 0x20, 0x09, 0x0a, 0x0d: position += 1
            default: return
            }
        }
    }

    private func peek() throws(JSONError) -> UInt8 {
        guard position < buffer.count else { throw error(.unexpectedEnd) }
        return buffer[position]
    }

    private mutating func expect(_ literal: StaticString, value: JSON) throws(JSONError) -> JSON {
        let count = literal.utf8CodeUnitCount
        let start = literal.utf8Start
        for i in 0..<count {
            guard position < buffer.count else { throw error(.unexpectedEnd) }
            guard buffer[position] == start[i] else { throw error(.unexpectedByte(buffer[position])) }
            position += 1
        }
        return value
    }

    private mutating func parseValue(depth: Int) throws(JSONError) -> JSON {
        guard depth < maxDepth else { throw error(.tooDeep(limit: maxDepth)) }
        switch try peek() {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): return try expect("true", value: .bool(true))
        case UInt8(ascii: "f"): return try expect("false", value: .bool(false))
        case UInt8(ascii: "n"): return try expect("null", value: .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        case let other: throw error(.unexpectedByte(other))
        }
    }

    private mutating func parseObject(depth: Int) throws(JSONError) -> JSON {
        position += 1  // {
        var members: [String: JSON] = [:]
        skipWhitespace()
        if try peek() == UInt8(ascii: "}") { position += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard try peek() == UInt8(ascii: "\"") else { throw error(.unexpectedByte(buffer[position])) }
            let key = try parseString()
            skipWhitespace()
            guard try peek() == UInt8(ascii: ":") else { throw error(.unexpectedByte(buffer[position])) }
            position += 1
            skipWhitespace()
            // A repeated key keeps its last value, as most parsers do.
            members[key] = try parseValue(depth: depth + 1)
            skipWhitespace()
            switch try peek() {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"): position += 1; return .object(members)
            case let other: throw error(.unexpectedByte(other))
            }
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONError) -> JSON {
        position += 1  // [
        var elements: [JSON] = []
        skipWhitespace()
        if try peek() == UInt8(ascii: "]") { position += 1; return .array(elements) }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            switch try peek() {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"): position += 1; return .array(elements)
            case let other: throw error(.unexpectedByte(other))
            }
        }
    }

    private mutating func parseNumber() throws(JSONError) -> JSON {
        let start = position
        var isInteger = true
        if buffer[position] == UInt8(ascii: "-") { position += 1 }
        guard position < buffer.count else { throw error(.invalidNumber) }
        if buffer[position] == UInt8(ascii: "0") {
            position += 1
        } else if isDigit(buffer[position]) {
            while position < buffer.count, isDigit(buffer[position]) { position += 1 }
        } else {
            throw error(.invalidNumber)
        }
        if position < buffer.count, buffer[position] == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            guard position < buffer.count, isDigit(buffer[position]) else { throw error(.invalidNumber) }
            while position < buffer.count, isDigit(buffer[position]) { position += 1 }
        }
        if position < buffer.count, buffer[position] | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            position += 1
            if position < buffer.count, buffer[position] == UInt8(ascii: "+") || buffer[position] == UInt8(ascii: "-") {
                position += 1
            }
            guard position < buffer.count, isDigit(buffer[position]) else { throw error(.invalidNumber) }
            while position < buffer.count, isDigit(buffer[position]) { position += 1 }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<position]), as: UTF8.self)
        if isInteger, let exact = Int64(text) { return .number(JSONNumber(exact)) }
        guard let value = Double(text), value.isFinite else { throw JSONError(code: .invalidNumber, offset: start) }
        return .number(JSONNumber(value))
    }

    private func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    private mutating func parseString() throws(JSONError) -> String {
        position += 1  // opening quote
        var out: [UInt8] = []
        var runStart = position
        while true {
            guard position < buffer.count else { throw error(.unexpectedEnd) }
            let b = buffer[position]
            if b == UInt8(ascii: "\"") {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[runStart..<position]))
                position += 1
                break
            }
            if b < 0x20 { throw error(.controlCharacterInString) }
            if b == UInt8(ascii: "\\") {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[runStart..<position]))
                try parseEscape(into: &out)
                runStart = position
                continue
            }
            position += 1
        }
        guard let string = String(validating: out, as: UTF8.self) else {
            throw error(.invalidUTF8)
        }
        return string
    }

    private mutating func parseEscape(into out: inout [UInt8]) throws(JSONError) {
        position += 1  // backslash
        guard position < buffer.count else { throw error(.unexpectedEnd) }
        let c = buffer[position]
        position += 1
        switch c {
        case UInt8(ascii: "\""): out.append(0x22)
        case UInt8(ascii: "\\"): out.append(0x5c)
        case UInt8(ascii: "/"): out.append(0x2f)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0c)
        case UInt8(ascii: "n"): out.append(0x0a)
        case UInt8(ascii: "r"): out.append(0x0d)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try parseHex4()
            if (0xD800...0xDBFF).contains(scalar) {
                // A high surrogate must be followed by an escaped low surrogate.
                guard position + 1 < buffer.count, buffer[position] == UInt8(ascii: "\\"),
                    buffer[position + 1] == UInt8(ascii: "u")
                else { throw error(.invalidUnicode) }
                position += 2
                let low = try parseHex4()
                guard (0xDC00...0xDFFF).contains(low) else { throw error(.invalidUnicode) }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw error(.invalidUnicode)
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw error(.invalidUnicode) }
            out.append(contentsOf: Array(String(Character(unicode)).utf8))
        default:
            position -= 1
            throw error(.invalidEscape)
        }
    }

    private mutating func parseHex4() throws(JSONError) -> UInt32 {
        guard position + 4 <= buffer.count else { throw error(.unexpectedEnd) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let b = buffer[position]
            let nibble: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = b - UInt8(ascii: "A") + 10
            default: throw error(.invalidEscape)
            }
            value = value << 4 | UInt32(nibble)
            position += 1
        }
        return value
    }
}
