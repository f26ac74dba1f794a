/// Why a JSON text was refused: what was wrong and at which byte offset.
public struct JSONError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Code: Equatable, Sendable {
        case unexpectedEnd
        case unexpectedByte(UInt8)
        case invalidNumber
        case invalidEscape
        case invalidUnicode
        case invalidUTF8
        case controlCharacterInString
        case tooDeep(limit: Int)
        case trailingData
    }

    public let code: Code
    public let offset: Int

    public init(code: Code, offset: Int) {
        self.code = code
        self.offset = offset
    }

    public var description: String {
        let what: String
        switch code {
        case .unexpectedEnd: what = "unexpected end of input"
        case .unexpectedByte(let b):
            what = (0x21...0x7e).contains(b)
                ? "unexpected character '\(Character(Unicode.Scalar(b)))'" : "unexpected byte 0x\(String(b, radix: 16))"
        case .invalidNumber: what = "invalid number"
        case .invalidEscape: what = "invalid escape sequence"
        case .invalidUnicode: what = "invalid \\u escape (lone surrogate?)"
        case .invalidUTF8: what = "invalid UTF-8"
        case .controlCharacterInString: what = "unescaped control character in a string"
        case .tooDeep(let limit): what = "nesting deeper than \(limit) levels"
        case .trailingData: what = "extra data after the JSON value"
        }
        return "\(what) at byte \(offset)"
    }
}
