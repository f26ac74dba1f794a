/// The `uint16_be(len) ‖ message` framing of every Noise message (libp2p-wire.md section 3.5).
struct NoiseFramer: Sendable {
    static let maxFrameLength = 65535

    private var buffer: [UInt8] = []
    private var offset = 0

    static func frame(_ message: [UInt8]) -> [UInt8] {
        precondition(message.count <= maxFrameLength, "Noise message of \(message.count) bytes cannot be framed")
        return [UInt8(message.count >> 8), UInt8(message.count & 0xff)] + message
    }

    mutating func append(_ bytes: [UInt8]) {
        if offset > 0 && offset == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            offset = 0
        }
        buffer += bytes
    }

    /// The next complete message, or nil if more bytes are needed.
    mutating func nextFrame() throws(NoiseError) -> [UInt8]? {
        guard buffer.count - offset >= 2 else { compact(); return nil }
        let length = Int(buffer[offset]) << 8 | Int(buffer[offset + 1])
        guard buffer.count - offset >= 2 + length else { compact(); return nil }
        let frame = Array(buffer[(offset + 2)..<(offset + 2 + length)])
        offset += 2 + length
        return frame
    }

    /// Everything buffered and not yet framed.
    mutating func takeBuffered() -> [UInt8] {
        let rest = Array(buffer[offset...])
        buffer.removeAll()
        offset = 0
        return rest
    }

    var bufferedBytes: Int { buffer.count - offset }

    private mutating func compact() {
        if offset > 0 {
            buffer.removeFirst(offset)
            offset = 0
        }
    }
}
