#if canImport(Glibc)
import Glibc
#endif

/// A ring buffer of bytes with a fixed capacity (it grows only when asked to, which the Reactor
/// does for output rings). The readable bytes are at most two contiguous segments: from the read
/// position to the end of storage, then from the start of storage. Reads land in the free
/// segments with one readv, writes leave from the readable ones with one writev/sendmsg.
///
/// A value type: `StreamConnection.onRead` lends the connection's input ring `inout`, and the
/// callee consumes what it used.
public struct ByteRing {
    /// The default capacity of a connection's input ring.
    public static let defaultInputCapacity = 64 * 1024

    private var storage: [UInt8]
    /// Offset in `storage` of the first readable byte.
    private var head = 0
    public private(set) var readableBytes = 0

    public init(capacity: Int) {
        precondition(capacity >= 0, "ByteRing capacity must not be negative, got \(capacity)")
        storage = ByteRing.uninitializedStorage(capacity)
    }

    /// Storage whose bytes are not zeroed first: only bytes written into the ring are ever
    /// read, and zeroing each connection's 128 KiB input ring showed up as a quarter of the
    /// instructions of a connection set-up (callgrind). `UInt8` is trivial, so this is sound.
    private static func uninitializedStorage(_ count: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }

    public var capacity: Int { storage.count }
    public var writableBytes: Int { storage.count - readableBytes }
    public var isEmpty: Bool { readableBytes == 0 }
    public var isFull: Bool { readableBytes == storage.count }

    /// Index in `storage` of the byte `offset` past the read position.
    private func storageIndex(_ offset: Int) -> Int {
        let index = head + offset
        return index >= storage.count ? index - storage.count : index
    }

    /// Copies the first `count` readable bytes without consuming them.
    public func peek(_ count: Int) -> [UInt8] {
        precondition(count >= 0 && count <= readableBytes, "peek(\(count)) with \(readableBytes) readable bytes")
        var result = [UInt8]()
        result.reserveCapacity(count)
        let first = min(count, storage.count - head)
        result.append(contentsOf: storage[head ..< head + first])
        if count > first { result.append(contentsOf: storage[0 ..< count - first]) }
        return result
    }

    /// The readable byte at `offset` from the read position.
    public func byte(at offset: Int) -> UInt8 {
        precondition(offset >= 0 && offset < readableBytes, "byte(at: \(offset)) with \(readableBytes) readable bytes")
        return storage[storageIndex(offset)]
    }

    /// Offset from the read position of the first readable `byte`, searching across the wrap.
    public func firstIndex(of byte: UInt8) -> Int? {
        withReadableSegments { first, second -> Int? in
            for (segment, base) in [(first, 0), (second, first.count)] where segment.count > 0 {
                if let hit = memchr(segment.baseAddress!, Int32(byte), segment.count) {
                    return base + (UnsafeRawPointer(hit) - segment.baseAddress!)
                }
            }
            return nil
        }
    }

    /// Drops the first `count` readable bytes.
    public mutating func consume(_ count: Int) {
        precondition(count >= 0 && count <= readableBytes, "consume(\(count)) with \(readableBytes) readable bytes")
        readableBytes -= count
        // An empty ring restarts at offset 0 so the next read gets one contiguous free segment.
        head = readableBytes == 0 ? 0 : storageIndex(count)
    }

    /// Copies and consumes the first `count` readable bytes.
    public mutating func read(_ count: Int) -> [UInt8] {
        let bytes = peek(count)
        consume(count)
        return bytes
    }

    /// Copies as many of `bytes` as fit; returns how many that was.
    @discardableResult
    public mutating func append(_ bytes: UnsafeRawBufferPointer) -> Int {
        append { first, second in
            let inFirst = min(bytes.count, first.count)
            if inFirst > 0 { first.baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: inFirst) }
            let inSecond = min(bytes.count - inFirst, second.count)
            if inSecond > 0 { second.baseAddress!.copyMemory(from: bytes.baseAddress! + inFirst, byteCount: inSecond) }
            return inFirst + inSecond
        }
    }

    /// Copies as many of `bytes` as fit; returns how many that was.
    @discardableResult
    public mutating func append(_ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBytes { append($0) }
    }

    /// Lends the free space as two segments (the second empty unless the free space wraps);
    /// `fill` writes into them in order and returns how many bytes it wrote (a readv target).
    @discardableResult
    public mutating func append(using fill: (UnsafeMutableRawBufferPointer, UnsafeMutableRawBufferPointer) -> Int) -> Int {
        let free = writableBytes
        guard free > 0 else { return 0 }
        let tail = storageIndex(readableBytes)
        let firstCount = min(free, storage.count - tail)
        let written = storage.withUnsafeMutableBytes { all in
            fill(UnsafeMutableRawBufferPointer(rebasing: all[tail ..< tail + firstCount]),
                 UnsafeMutableRawBufferPointer(rebasing: all[0 ..< free - firstCount]))
        }
        precondition(written >= 0 && written <= free, "append(using:) wrote \(written) bytes into \(free) free bytes")
        readableBytes += written
        return written
    }

    /// Lends the readable bytes as two segments, the second empty unless they wrap.
    public func withReadableSegments<R>(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let firstCount = min(readableBytes, storage.count - head)
        return try storage.withUnsafeBytes { all in
            try body(UnsafeRawBufferPointer(rebasing: all[head ..< head + firstCount]),
                     UnsafeRawBufferPointer(rebasing: all[0 ..< readableBytes - firstCount]))
        }
    }

    /// Lends the readable bytes as one contiguous, mutable region and consumes the count
    /// `body` returns from its front. If the readable bytes wrap, they are first rotated to the
    /// start of the storage (in place, no allocation); otherwise nothing moves. For decoders
    /// that work in place on the input, e.g. `NoiseSession.decrypt(inPlace:deliver:)`, which
    /// needs a whole frame (65,537 bytes) to fit: reserve at least that capacity first.
    public mutating func withContiguousReadable(_ body: (UnsafeMutableRawBufferPointer) throws -> Int) rethrows {
        if head + readableBytes > storage.count { linearize() }
        let start = head, count = readableBytes
        let consumed = try storage.withUnsafeMutableBytes { all in
            try body(UnsafeMutableRawBufferPointer(rebasing: all[start ..< start + count]))
        }
        precondition(consumed >= 0 && consumed <= count, "withContiguousReadable consumed \(consumed) of \(count) readable bytes")
        consume(consumed)
    }

    /// Rotates the storage left by `head` (three reversals), so the readable bytes start at 0.
    private mutating func linearize() {
        let n = storage.count, h = head
        storage.withUnsafeMutableBufferPointer { all in
            all[0 ..< h].reverse()
            all[h ..< n].reverse()
            all.reverse()
        }
        head = 0
    }

    /// Grows the storage to at least `minimumCapacity` (doubling), keeping the readable bytes;
    /// they end up contiguous at the start.
    public mutating func reserveCapacity(_ minimumCapacity: Int) {
        guard minimumCapacity > storage.count else { return }
        // Doubling for gradual growth, but never past twice what was asked: a connection that
        // reserves 2 x 65,537 bytes once gets 131,074, not 262,144.
        var newCapacity = max(storage.count, 4096)
        while newCapacity < minimumCapacity { newCapacity *= 2 }
        newCapacity = min(newCapacity, max(minimumCapacity, storage.count * 2))
        var grown = ByteRing.uninitializedStorage(newCapacity)
        withReadableSegments { first, second in
            grown.withUnsafeMutableBytes { target in
                if first.count > 0 { target.baseAddress!.copyMemory(from: first.baseAddress!, byteCount: first.count) }
                if second.count > 0 { (target.baseAddress! + first.count).copyMemory(from: second.baseAddress!, byteCount: second.count) }
            }
        }
        storage = grown
        head = 0
    }

    /// Replaces the storage with a smaller one when the ring is empty (to give memory back
    /// after a burst of output).
    mutating func shrinkIfEmpty(above limit: Int, to smaller: Int) {
        guard readableBytes == 0, storage.count > limit else { return }
        storage = [UInt8](repeating: 0, count: smaller)
        head = 0
    }
}
