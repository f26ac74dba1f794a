/// The `uint16_be(len) ‖ message` framing of every Noise message (libp2p-wire.md section 3.5).
///
/// The buffer is append-only with a read offset: consumed frames are skipped, not removed, and
/// the unread tail is moved to the front only when the buffer is fully read (no move at all) or
/// the offset passes `compactionThreshold` (one move of less than a frame per 64 KiB read).
struct NoiseFramer: Sendable {
    static let maxFrameLength = 65535
    static let headerLength = 2
    /// Read bytes kept before the unread tail is moved down: one full frame.
    static let compactionThreshold = 64 * 1024

    private var buffer: [UInt8] = []
    private var offset = 0

    static func frame(_ message: [UInt8]) -> [UInt8] {
        precondition(message.count <= maxFrameLength, "Noise message of \(message.count) bytes cannot be framed")
        return [UInt8(message.count >> 8), UInt8(message.count & 0xff)] + message
    }

    mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// The next complete message, or nil if more bytes are needed.
    mutating func nextFrame() throws(NoiseError) -> [UInt8]? {
        guard buffer.count - offset >= 2 else { return nil }
        let length = Int(buffer[offset]) << 8 | Int(buffer[offset + 1])
        guard buffer.count - offset >= 2 + length else { return nil }
        let frame = Array(buffer[(offset + 2)..<(offset + 2 + length)])
        offset += 2 + length
        return frame
    }

    /// Lends the unread bytes as one mutable region; `body` returns how many it consumed
    /// (whole frames decrypted in place there).
    mutating func withUnreadBytes<R>(_ body: (UnsafeMutableRawBufferPointer) -> (consumed: Int, result: R)) -> R {
        let start = offset
        let (consumed, result) = buffer.withUnsafeMutableBytes { all in
            body(UnsafeMutableRawBufferPointer(rebasing: all[start...]))
        }
        offset += consumed
        return result
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
        if offset == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            offset = 0
        } else if offset >= NoiseFramer.compactionThreshold {
            // Moved down in place: `removeSubrange` on the front allocates a new buffer.
            let keep = buffer.count - offset
            let from = offset
            buffer.withUnsafeMutableBytes { $0.baseAddress!.copyMemory(from: $0.baseAddress! + from, byteCount: keep) }
            buffer.removeLast(offset)
            offset = 0
        }
    }
}
