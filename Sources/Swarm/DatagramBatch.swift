/// Datagrams for one peer, packed in one buffer: a QUIC connection's output. One allocation for
/// a whole turn's datagrams (reused when the caller gives the output back with `recycle`),
/// instead of an array per 1,452-byte datagram.
public struct DatagramBatch: Sendable, Sequence {
    public private(set) var bytes: [UInt8] = []
    public private(set) var sizes: [Int] = []

    public init() {}

    public var isEmpty: Bool { sizes.isEmpty }
    public var count: Int { sizes.count }

    public mutating func append(_ datagram: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: datagram)
        sizes.append(datagram.count)
    }

    public mutating func append(_ datagram: [UInt8]) { datagram.withUnsafeBytes { append($0) } }

    /// Empties the batch, keeping its capacity.
    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        sizes.removeAll(keepingCapacity: true)
    }

    /// Calls `body` with each datagram, lent.
    public func forEachDatagram(_ body: (UnsafeRawBufferPointer) -> Void) {
        bytes.withUnsafeBytes { all in
            var offset = 0
            for size in sizes {
                body(UnsafeRawBufferPointer(rebasing: all[offset..<offset + size]))
                offset += size
            }
        }
    }

    public func makeIterator() -> IndexingIterator<[[UInt8]]> {
        var copies: [[UInt8]] = []
        forEachDatagram { copies.append(Array($0)) }
        return copies.makeIterator()
    }
}
