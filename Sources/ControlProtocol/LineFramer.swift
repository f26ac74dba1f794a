/// Splits a byte stream into newline-terminated lines, with a bound on line length.
///
/// Control clients are local but untrusted: a client that never sends a newline must not
/// make the daemon buffer without limit. A line longer than `maxLineBytes` is reported once
/// as `.tooLong` and its bytes are discarded up to the next newline, after which framing
/// resumes, so the client gets one error and the connection stays usable.
public struct LineFramer: Sendable {
    public enum Event: Equatable, Sendable {
        case line([UInt8])
        /// A line exceeded the limit; `seen` is how many of its bytes had arrived when it was refused.
        case tooLong(seen: Int)
    }

    /// 8 MiB, DESIGN.md section 6. The largest request is an `add` with a 1 MiB value, and
    /// JSON escaping makes it up to 6 times longer on the wire (`\u0001` for a control byte).
    public static let defaultMaxLineBytes = 8 << 20

    public let maxLineBytes: Int
    private var pending: [UInt8] = []
    private var discarding = false
    private var discardedCount = 0

    public init(maxLineBytes: Int = LineFramer.defaultMaxLineBytes) {
        self.maxLineBytes = maxLineBytes
    }

    /// Bytes held for an incomplete line.
    public var bufferedBytes: Int { pending.count }

    /// Feeds bytes; returns the complete lines (without their `\n`; a trailing `\r` is dropped
    /// too, so `socat` and Windows-style clients work) and over-long line reports, in order.
    /// The two concrete forms the daemon and the client pass: specialized inside this module
    /// (a call of the generic form from another module runs unspecialized: ~57,000
    /// instructions per control line under callgrind).
    public mutating func receivedBytes(_ bytes: [UInt8]) -> [Event] { receivedBytes(collection: bytes) }
    public mutating func receivedBytes(_ bytes: ArraySlice<UInt8>) -> [Event] { receivedBytes(collection: bytes) }

    public mutating func receivedBytes<C: Collection>(_ bytes: C) -> [Event] where C.Element == UInt8 {
        receivedBytes(collection: bytes)
    }

    private mutating func receivedBytes<C: Collection>(collection bytes: C) -> [Event] where C.Element == UInt8 {
        var events: [Event] = []
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let rest = bytes[index...]
            let newline = rest.firstIndex(of: 0x0a)
            let chunk = rest[..<(newline ?? bytes.endIndex)]
            if discarding {
                discardedCount += chunk.count
            } else if pending.count + chunk.count > maxLineBytes {
                discarding = true
                discardedCount = pending.count + chunk.count
                pending.removeAll(keepingCapacity: false)
                events.append(.tooLong(seen: discardedCount))
            } else {
                pending.append(contentsOf: chunk)
            }
            guard let nl = newline else { break }
            if discarding {
                discarding = false
                discardedCount = 0
            } else {
                if pending.last == 0x0d { pending.removeLast() }
                events.append(.line(pending))
                // Keep a small buffer for the next line, but give back the memory of a big one.
                pending.removeAll(keepingCapacity: pending.capacity <= 64 * 1024)
            }
            index = bytes.index(after: nl)
        }
        return events
    }
}
