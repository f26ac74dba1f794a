/// A multiaddr that could not be parsed (libp2p-wire.md §1.4), with the input and the problem:
/// `invalid multiaddr "/ip4/300.1.1.1/tcp/1": "300.1.1.1" is not an IPv4 address`.
public enum MultiaddrError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidText(String, MultiaddrProblem)
    /// Binary input, shown as hex (at most the first 64 bytes).
    case invalidBinary(hex: String, MultiaddrProblem)

    public var problem: MultiaddrProblem {
        switch self {
        case .invalidText(_, let p), .invalidBinary(_, let p): p
        }
    }

    public var description: String {
        switch self {
        case .invalidText(let text, let p): "invalid multiaddr \"\(text)\": \(p)"
        case .invalidBinary(let hex, let p): "invalid binary multiaddr \(hex): \(p)"
        }
    }
}
