/// A JSON value (RFC 8259).
///
/// Objects are dictionaries; the encoder writes their keys sorted so that the same value
/// always encodes to the same bytes (tests compare lines, and logs diff cleanly).
/// Numbers keep the literal's value as a `Double` plus an exact `Int64` when the literal
/// was an integer that fits, so counters and ids round-trip without loss.
public enum JSON: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSON])
    case object([String: JSON])

    public static func int(_ value: Int) -> JSON { .number(JSONNumber(Int64(value))) }
    public static func double(_ value: Double) -> JSON { .number(JSONNumber(value)) }

    /// The member named `key` of an object; nil for other values or a missing key.
    public subscript(key: String) -> JSON? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var intValue: Int64? { if case .number(let n) = self { return n.exactInteger }; return nil }
    public var doubleValue: Double? { if case .number(let n) = self { return n.value }; return nil }
    public var arrayValue: [JSON]? { if case .array(let a) = self { return a }; return nil }
    public var objectValue: [String: JSON]? { if case .object(let o) = self { return o }; return nil }
    public var isNull: Bool { self == .null }
}

/// A JSON number: its value as a double and, when the literal was an integer within
/// `Int64`, that integer exactly.
public struct JSONNumber: Equatable, Sendable {
    public let value: Double
    public let exactInteger: Int64?

    public init(_ integer: Int64) { value = Double(integer); exactInteger = integer }
    public init(_ double: Double) {
        value = double
        if double.isFinite, double == double.rounded(), abs(double) < 9.0e15 {
            exactInteger = Int64(double)
        } else {
            exactInteger = nil
        }
    }
}

extension JSON: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) {
        var members: [String: JSON] = [:]
        for (k, v) in elements { members[k] = v }
        self = .object(members)
    }
    public init(nilLiteral: ()) { self = .null }
}
