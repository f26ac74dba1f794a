/// libp2p's perf protocol, `/perf/1.0.0` (specs perf/perf.md; py-libp2p ships it too):
/// ```
/// client -> server: uint64_be(bytes to send back) ‖ upload bytes ... EOF
/// server -> client: that many bytes ... EOF
/// ```
/// Used to measure bulk throughput over one Noise+yamux stream between two real nodes.
public enum PerfProtocol {
    public static let id = "/perf/1.0.0"
    public static let headerLength = 8
    /// The most a peer may ask us to send back: 1 GiB, so a request cannot keep us busy forever.
    public static let maxDownloadBytes: UInt64 = 1 << 30

    public static func header(downloadBytes: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: downloadBytes >> (56 - 8 * UInt64($0))) }
    }
}

public enum PerfError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncatedHeader
    case downloadTooLarge(UInt64)

    public var description: String {
        switch self {
        case .truncatedHeader: "perf stream ended before its 8-byte header"
        case .downloadTooLarge(let n): "perf peer asked for \(n) bytes (limit \(PerfProtocol.maxDownloadBytes))"
        }
    }
}

/// The server side: reads the header and counts the upload; at EOF says how much to send back.
public struct PerfServer: Sendable {
    private var header: [UInt8] = []
    public private(set) var uploadedBytes: UInt64 = 0

    public init() {}

    public mutating func receivedBytes<Bytes: Collection<UInt8>>(_ bytes: Bytes) {
        var rest = bytes[...]
        if header.count < PerfProtocol.headerLength {
            let n = min(PerfProtocol.headerLength - header.count, rest.count)
            header += rest.prefix(n)
            rest = rest.dropFirst(n)
        }
        uploadedBytes += UInt64(rest.count)
    }

    /// The client closed its side: how many bytes to send back.
    public func receivedEndOfStream() throws(PerfError) -> UInt64 {
        guard header.count == PerfProtocol.headerLength else { throw .truncatedHeader }
        let n = header.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard n <= PerfProtocol.maxDownloadBytes else { throw .downloadTooLarge(n) }
        return n
    }
}
