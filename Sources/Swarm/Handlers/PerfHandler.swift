import Perf

/// `/perf/1.0.0` (libp2p perf spec): the client sends an 8-byte big-endian download size, then
/// its upload bytes, then FIN; the server counts them and answers with the download bytes and
/// FIN. Bulk bytes are produced as the stream drains, so memory stays bounded at any size.
///
/// ```
/// client  -> u64be(download) ‖ upload bytes ‖ FIN
///         <- download bytes ‖ FIN
/// ```
/// Commands: `open(PerfHandler.key, request: PerfHandler.Request(...))`; one `Event` per request.
public struct PerfHandler: StreamHandler {
    public static let key = "perf"
    public static let protocolID = PerfProtocol.id
    /// Bulk bytes a sender keeps queued for its stream, topped up as they go out.
    static let queuedTarget = 256 * 1024
    static let chunk = [UInt8](repeating: 0, count: 64 * 1024)

    public struct Request: Sendable {
        public let token: UInt64
        public let upload: Int
        public let download: Int
        public init(token: UInt64, upload: Int, download: Int) {
            self.token = token
            self.upload = upload
            self.download = download
        }
    }

    /// One run's result, in nanoseconds on the connection's clock.
    public struct Measurement: Equatable, Sendable {
        public let uploadBytes: Int
        public let downloadBytes: Int
        /// From the stream's agreement to the first byte back (the server answers after our FIN).
        public let uploadNanoseconds: UInt64
        /// From the first byte back to the server's FIN.
        public let downloadNanoseconds: UInt64
    }

    public struct Event: Sendable {
        public let token: UInt64
        public let outcome: Result<Measurement, StreamFailure>
    }

    public static func registration() -> ProtocolRegistration {
        ProtocolRegistration(key: key, protocolIDs: [protocolID]) { initiator, request in
            if initiator, let request = request as? Request { return PerfHandler(client: request) }
            return PerfHandler(client: nil)
        }
    }

    private let client: Request?
    private var server = PerfServer()
    private var started: UInt64 = 0
    private var firstByteAt: UInt64?
    private var received = 0
    /// Bulk bytes still to produce.
    private var toSend = 0
    private var sending = false
    private var done = false

    init(client: Request?) { self.client = client }

    public var wantsWritable: Bool { sending }

    public mutating func negotiated(_ io: inout StreamIO) throws(StreamFailure) {
        guard let client else { return }
        started = io.now
        io.write(PerfProtocol.header(downloadBytes: UInt64(client.download)))
        toSend = client.upload
        sending = true
        writable(&io)
    }

    public mutating func writable(_ io: inout StreamIO) {
        while toSend > 0, io.queuedBytes < PerfHandler.queuedTarget {
            let n = min(PerfHandler.chunk.count, toSend)
            io.write(n == PerfHandler.chunk.count ? PerfHandler.chunk : Array(PerfHandler.chunk[0..<n]))
            toSend -= n
        }
        if toSend == 0 && sending {
            sending = false
            io.closeWrite()
        }
    }

    public mutating func received(_ bytes: ArraySlice<UInt8>, _ io: inout StreamIO) throws(StreamFailure) {
        if client != nil {
            if firstByteAt == nil { firstByteAt = io.now }
            received += bytes.count
        } else {
            server.receivedBytes(bytes)
        }
    }

    public mutating func remoteClosedWrite(_ io: inout StreamIO) throws(StreamFailure) {
        if let client {
            guard !done else { return }
            done = true
            let first = firstByteAt ?? io.now
            io.report(Event(token: client.token, outcome: .success(Measurement(
                uploadBytes: client.upload, downloadBytes: received,
                uploadNanoseconds: first - started, downloadNanoseconds: io.now - first))))
            return
        }
        do { toSend = Int(try server.receivedEndOfStream()) } catch { throw .resetStream("\(error)") }
        sending = true
        writable(&io)
    }

    public mutating func ended(_ reason: StreamEnd, _ io: inout StreamIO) {
        guard let client, !done else { return }
        done = true
        io.report(Event(token: client.token, outcome: .failure(.resetStream("perf stream ended: \(reason)"))))
    }
}
