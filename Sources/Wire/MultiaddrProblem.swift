/// What exactly was wrong with a multiaddr; `MultiaddrError` says which input it was in.
public enum MultiaddrProblem: Error, Equatable, Sendable, CustomStringConvertible {
    case empty
    case missingLeadingSlash
    /// A doubled or trailing `/`.
    case emptySegment
    case unknownProtocolName(String)
    case unknownProtocolCode(UInt64)
    /// A protocol that takes a value came last.
    case missingValue(protocol: String)
    /// `"value" is not <expected>`, e.g. `"300.1.1.1" is not an IPv4 address`.
    case invalidValue(protocol: String, value: String, expected: String)
    /// Binary input ends inside a protocol code or length varint.
    case truncatedVarint
    case invalidVarint(VarintError)
    /// Binary input ends inside a value.
    case truncatedValue(protocol: String, needed: UInt64, available: Int)

    public var description: String {
        switch self {
        case .empty: "it is empty"
        case .missingLeadingSlash: "it must start with \"/\""
        case .emptySegment: "it has an empty protocol name (a doubled or trailing \"/\")"
        case .unknownProtocolName(let name): "\"\(name)\" is not a multiaddr protocol this node knows"
        case .unknownProtocolCode(let code):
            "protocol code \(code) (0x\(String(code, radix: 16))) is not a multiaddr protocol this node knows"
        case .missingValue(let p): "/\(p) must be followed by a value"
        case .invalidValue(_, let value, let expected): "\"\(value)\" is not \(expected)"
        case .truncatedVarint: "it ends in the middle of a protocol code or length"
        case .invalidVarint(let e): "bad protocol code or length: \(e)"
        case .truncatedValue(let p, let needed, let available):
            "the /\(p) value needs \(needed) bytes but only \(available) remain"
        }
    }
}
