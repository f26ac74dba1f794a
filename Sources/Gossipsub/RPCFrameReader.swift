import Wire

/// Splits a pubsub stream into RPCs: each is a uvarint length, then that many protobuf bytes.
/// A length over the limit is an error (the connection's peer is misbehaving); nothing is
/// buffered beyond one frame.
public struct RPCFrameReader: Sendable {
    public let maxFrameBytes: Int
    private var buffer: [UInt8] = []

    public init(maxFrameBytes: Int) { self.maxFrameBytes = maxFrameBytes }

    /// Complete frames' payloads in order; partial input stays buffered.
    public mutating func receivedBytes(_ bytes: [UInt8]) throws(PubsubError) -> [[UInt8]] {
        buffer += bytes
        var frames: [[UInt8]] = []
        var offset = 0
        while offset < buffer.count {
            let decoded: (value: UInt64, byteCount: Int)?
            do { decoded = try Varint.decode(buffer[offset...]) } catch { throw .malformed("RPC length prefix: \(error)") }
            guard let (length, prefix) = decoded else { break }
            guard length <= UInt64(maxFrameBytes) else {
                throw .malformed("RPC of \(length) bytes is over the \(maxFrameBytes)-byte limit")
            }
            let end = offset + prefix + Int(length)
            guard end <= buffer.count else { break }
            frames.append(Array(buffer[(offset + prefix)..<end]))
            offset = end
        }
        if offset > 0 { buffer.removeFirst(offset) }
        return frames
    }

    /// The frame for one RPC.
    public static func frame(_ rpc: [UInt8]) -> [UInt8] { Varint.encode(UInt64(rpc.count)) + rpc }
}
