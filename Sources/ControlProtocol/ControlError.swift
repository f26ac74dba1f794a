import JSON

/// An error the daemon reports on the control socket: a stable code for scripts and a
/// message for people.
public struct ControlError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, CaseIterable {
        case badRequest = "bad_request"
        case unknownCommand = "unknown_command"
        case invalidArgument = "invalid_argument"
        case notFound = "not_found"
        case lineTooLong = "line_too_long"
        case unavailable = "unavailable"
        case `internal` = "internal"
    }

    public var code: Code
    public var message: String
    /// The request's id, when the request got far enough to have one.
    public var id: JSON

    public init(_ code: Code, _ message: String, id: JSON = .null) {
        self.code = code
        self.message = message
        self.id = id
    }

    public var description: String { message }
}
