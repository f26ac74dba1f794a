import Wire

/// The responder side: one uvarint-length-prefixed message, then the caller closes the
/// stream (libp2p-wire.md section 5.1).
public enum IdentifyResponder {
    /// rust reads at most 4 KiB: our message must fit.
    public static let maxSentBytes = 4096

    public static func response(_ message: IdentifyMessage) -> [UInt8] {
        var m = message
        var body = m.encoded()
        // Trim listen addresses rather than send what rust would refuse.
        while body.count > maxSentBytes && !m.listenAddrs.isEmpty {
            m.listenAddrs.removeLast()
            body = m.encoded()
        }
        return Varint.encode(UInt64(body.count)) + body
    }
}

/// The requester side (and identify push): collects the stream until EOF, then decodes one or
/// more length-prefixed messages and merges them (go splits its message in two). Bounded.
public struct IdentifyReader: Sendable {
    /// go sends at most 8 KiB per message and up to 10 messages.
    public static let maxMessageBytes = 8 * 1024
    static let maxTotalBytes = 10 * maxMessageBytes

    private var buffer: [UInt8] = []

    public init() {}

    public mutating func receivedBytes<Bytes: Collection<UInt8>>(_ bytes: Bytes) throws(IdentifyError) {
        guard buffer.count + bytes.count <= IdentifyReader.maxTotalBytes else {
            throw .tooLarge(buffer.count + bytes.count)
        }
        buffer.append(contentsOf: bytes)
    }

    public mutating func receivedEndOfStream() throws(IdentifyError) -> IdentifyMessage {
        var offset = 0
        var result: IdentifyMessage?
        while offset < buffer.count {
            let prefix: (value: UInt64, byteCount: Int)?
            do { prefix = try Varint.decode(buffer[offset...]) } catch { throw .malformed("bad length prefix") }
            guard let (length, n) = prefix else { throw .malformed("truncated length prefix") }
            guard length <= UInt64(IdentifyReader.maxMessageBytes) else { throw .tooLarge(Int(clamping: length)) }
            guard offset + n + Int(length) <= buffer.count else { throw .malformed("truncated message") }
            let message = try IdentifyMessage(decoding: Array(buffer[(offset + n)..<(offset + n + Int(length))]))
            result = result.map { message.merged(onto: $0) } ?? message
            offset += n + Int(length)
        }
        guard let result else { throw .malformed("empty stream") }
        return result
    }
}
