import Wire

/// Splits a pubsub stream into RPCs: each is a uvarint length, then that many protobuf bytes.
/// A length over the limit is an error (the connection's peer is misbehaving).
public struct RPCFrameReader: Sendable {
    private var reader: LengthPrefixedReader

    public init(maxFrameBytes: Int) { reader = LengthPrefixedReader(maxFrameBytes: maxFrameBytes) }

    /// Complete frames' payloads in order; partial input stays buffered.
    public mutating func receivedBytes<Bytes: Collection<UInt8>>(_ bytes: Bytes) throws(PubsubError) -> [[UInt8]] {
        do { return try reader.receivedBytes(bytes) } catch { throw .malformed("RPC framing: \(error)") }
    }

    /// The frame for one RPC.
    public static func frame(_ rpc: [UInt8]) -> [UInt8] { LengthPrefixedReader.frame(rpc) }
}
