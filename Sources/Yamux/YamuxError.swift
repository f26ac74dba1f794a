/// A yamux protocol violation by the peer. The session sends GoAway (protocol error) and ends.
public enum YamuxError: Error, Equatable, Sendable, CustomStringConvertible {
    case unsupportedVersion(UInt8)
    case unknownFrameType(UInt8)
    case frameTooLarge(Int)
    case windowExceeded(stream: UInt32, sent: Int, window: Int)
    case windowOverflow(stream: UInt32)
    case duplicateStream(UInt32)
    case wrongStreamParity(UInt32)
    case sessionEnded
    /// Our own refusals (not protocol errors): too many streams, a stream that is gone.
    case tooManyStreams(Int)
    case unknownStream(UInt32)
    case streamClosedForWriting(UInt32)
    case pendingOutputFull(stream: UInt32, limit: Int)

    public var description: String {
        switch self {
        case .unsupportedVersion(let v): "yamux frame with version \(v) (only 0 exists)"
        case .unknownFrameType(let t): "yamux frame of unknown type \(t)"
        case .frameTooLarge(let n): "yamux data frame of \(n) bytes (limit \(YamuxFrame.maxReceivedBody))"
        case .windowExceeded(let s, let sent, let window): "peer sent \(sent) bytes on stream \(s) with a window of \(window)"
        case .windowOverflow(let s): "window update on stream \(s) overflows 2^32"
        case .duplicateStream(let s): "peer opened stream \(s) twice"
        case .wrongStreamParity(let s): "peer opened stream \(s), an ID reserved for our side"
        case .sessionEnded: "the yamux session has ended"
        case .tooManyStreams(let n): "too many streams (limit \(n))"
        case .unknownStream(let s): "no stream \(s)"
        case .streamClosedForWriting(let s): "stream \(s) is closed for writing"
        case .pendingOutputFull(let s, let limit): "stream \(s) has \(limit) bytes waiting for the peer's window; write refused"
        }
    }
}
