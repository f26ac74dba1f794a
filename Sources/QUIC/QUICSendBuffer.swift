import CNgtcp2
import DequeModule

/// The bytes written on one QUIC stream, kept from `append` until the peer acknowledges them:
/// ngtcp2 does not copy stream data, it points into ours and may retransmit from it, so every
/// byte stays at a fixed address until `acknowledged(upTo:)` passes it.
///
/// Writes are packed into chunks of at least `chunkSize` bytes (small libp2p frames do not
/// each become an iovec); a chunk is freed once all of its bytes are acknowledged.
struct QUICSendBuffer {
    /// One fixed allocation; bytes are only ever added after `count`.
    final class Chunk {
        let base: UnsafeMutableRawPointer
        let capacity: Int
        var count = 0

        init(capacity: Int) {
            self.capacity = capacity
            base = .allocate(byteCount: capacity, alignment: 16)
        }

        deinit { base.deallocate() }
    }

    static let chunkSize = 16 * 1024

    private var chunks = Deque<Chunk>()
    /// Stream offset of the first byte of `chunks.first`.
    private var firstOffset: UInt64 = 0
    /// Bytes handed to ngtcp2 so far (sent at least once).
    private(set) var sentOffset: UInt64 = 0
    /// Bytes written so far.
    private(set) var endOffset: UInt64 = 0
    /// The application asked to close its side once everything is sent.
    var finRequested = false
    /// ngtcp2 took the FIN.
    var finSent = false

    /// Bytes not yet handed to ngtcp2.
    var unsentBytes: Int { Int(endOffset - sentOffset) }
    /// Bytes the peer has acknowledged.
    private(set) var acknowledgedOffset: UInt64 = 0
    /// The FIN may go now: everything before it was sent and acknowledged. A FIN never rides
    /// with data: py-libp2p 0.8.1's QUIC streams sometimes lose the data that arrives together
    /// with the end of the stream (a reader sees the end first and reports EOF; seen in about
    /// one identify in ten), so the FIN waits for the data's acknowledgement: one round trip
    /// later, on streams whose end matters less than their bytes.
    var finReady: Bool { finRequested && !finSent && unsentBytes == 0 && acknowledgedOffset >= endOffset }
    /// Something (data or the FIN) can be written now.
    var wantsToSend: Bool { unsentBytes > 0 || finReady }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        var rest = bytes[...]
        while !rest.isEmpty {
            if chunks.last.map({ $0.count == $0.capacity }) ?? true {
                chunks.append(Chunk(capacity: max(QUICSendBuffer.chunkSize, rest.count)))
            }
            let chunk = chunks.last!
            let n = min(chunk.capacity - chunk.count, rest.count)
            (chunk.base + chunk.count).copyMemory(from: UnsafeRawBufferPointer(rebasing: rest.prefix(n)).baseAddress!, byteCount: n)
            chunk.count += n
            rest = rest.dropFirst(n)
        }
        endOffset += UInt64(bytes.count)
    }

    /// Fills `vectors` with the unsent bytes from `sentOffset` (at most `vectors.count` pieces);
    /// returns how many were filled.
    func unsent(into vectors: UnsafeMutableBufferPointer<ngtcp2_vec>) -> Int {
        var filled = 0
        var offset = firstOffset
        for chunk in chunks {
            guard filled < vectors.count else { break }
            let end = offset + UInt64(chunk.count)
            if end > sentOffset {
                let skip = Int(sentOffset > offset ? sentOffset - offset : 0)
                vectors[filled] = ngtcp2_vec(base: (chunk.base + skip).assumingMemoryBound(to: UInt8.self), len: chunk.count - skip)
                filled += 1
            }
            offset = end
        }
        return filled
    }

    /// ngtcp2 took `count` more bytes.
    mutating func sent(_ count: Int) { sentOffset += UInt64(count) }

    /// The peer acknowledged everything before `offset`: chunks wholly before it are freed.
    mutating func acknowledged(upTo offset: UInt64) {
        acknowledgedOffset = max(acknowledgedOffset, offset)
        while let first = chunks.first, firstOffset + UInt64(first.count) <= offset, first.count == first.capacity || chunks.count > 1 || offset >= endOffset {
            firstOffset += UInt64(first.count)
            chunks.removeFirst()
        }
    }
}
