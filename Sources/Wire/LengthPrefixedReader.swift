/// Splits a byte stream into frames, each a uvarint length then that many bytes (the framing
/// of pubsub RPCs and reconcile messages). A length over the limit is an error; at most one
/// frame is buffered.
public struct LengthPrefixedReader: Sendable {
    public let maxFrameBytes: Int
    private var buffer: [UInt8] = []

    public init(maxFrameBytes: Int) { self.maxFrameBytes = maxFrameBytes }

    /// Complete frames in order; a partial frame stays buffered.
    public mutating func receivedBytes<Bytes: Collection<UInt8>>(_ bytes: Bytes) throws(FrameError) -> [[UInt8]] {
        buffer.append(contentsOf: bytes)
        var frames: [[UInt8]] = []
        var offset = 0
        while offset < buffer.count {
            let decoded: (value: UInt64, byteCount: Int)?
            do { decoded = try Varint.decode(buffer[offset...]) } catch { throw .badLength("\(error)") }
            guard let (length, prefix) = decoded else { break }
            guard length <= UInt64(maxFrameBytes) else { throw .tooLarge(length, limit: maxFrameBytes) }
            let end = offset + prefix + Int(length)
            guard end <= buffer.count else { break }
            frames.append(Array(buffer[(offset + prefix)..<end]))
            offset = end
        }
        if offset > 0 { buffer.removeFirst(offset) }
        return frames
    }

    /// Bytes received that do not yet form a whole frame.
    public var bufferedBytes: Int { buffer.count }

    public static func frame(_ payload: [UInt8]) -> [UInt8] { Varint.encode(UInt64(payload.count)) + payload }
}

public enum FrameError: Error, Equatable, Sendable, CustomStringConvertible {
    case badLength(String)
    case tooLarge(UInt64, limit: Int)

    public var description: String {
        switch self {
        case .badLength(let why): "bad frame length prefix: \(why)"
        case .tooLarge(let n, let limit): "frame of \(n) bytes is over the \(limit)-byte limit"
        }
    }
}
