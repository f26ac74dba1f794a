/// Why a multistream-select negotiation failed. Each ends the connection or stream.
public enum MultistreamError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The peer's first message was not `/multistream/1.0.0`.
    case badHeader(String)
    case messageTooLong(Int)
    case malformedMessage(String)
    /// The listener answered `na` to every protocol we proposed.
    case noCommonProtocol(proposed: [String])
    /// The listener answered something that was neither our proposal nor `na`.
    case unexpectedResponse(proposed: String, got: String)

    public var description: String {
        switch self {
        case .badHeader(let got): "peer does not speak multistream-select 1.0 (first message \"\(got.prefix(64))\")"
        case .messageTooLong(let n): "multistream message of \(n == Int.max ? "over 16383" : String(n)) bytes (limit \(MultistreamMessage.maxMessageBytes))"
        case .malformedMessage(let why): "malformed multistream message: \(why)"
        case .noCommonProtocol(let proposed): "peer supports none of \(proposed.joined(separator: ", "))"
        case .unexpectedResponse(let proposed, let got): "peer answered \"\(got.prefix(64))\" to our proposal \(proposed)"
        }
    }
}
