import DequeModule

/// A yamux stream ID: odd for streams the client opened, even for the server's.
public typealias StreamID = UInt32

/// Which side of the connection we are: the dialer (Noise initiator) is the client.
public enum YamuxRole: Sendable { case client, server }

public struct YamuxConfiguration: Sendable {
    /// 256 KiB, the initial per-stream window in every implementation (spec; libp2p-wire.md 4.1).
    public var initialWindow: UInt32 = 256 * 1024
    /// Largest data body we send: 64 KiB, as go and py do (rust takes up to 1 MiB).
    public var maxFrameBody = 64 * 1024
    /// DESIGN.md section 6: 256 streams per connection.
    public var maxStreams = 256
    /// Bytes a stream may queue beyond the peer's window before writes are refused, so a
    /// slow reader cannot make us buffer without bound.
    public var maxPendingBytesPerStream = 1 << 20
    /// The most receive window we grant a stream. A stream whose reader keeps up has its
    /// window doubled at each update, from `initialWindow` up to this (go-yamux grows to 16 MiB
    /// the same way): a 256 KiB window stalls a fast stream on every round trip.
    public var maxReceiveWindow: UInt32 = 16 << 20

    public init() {}
}

/// What the session tells its owner.
public enum YamuxEvent: Equatable, Sendable {
    case inboundStream(StreamID)
    /// A data frame's body: a slice of the session's input buffer, not a copy. Drop the
    /// events before the next `receivedBytes` (or the input buffer, still shared, is copied).
    case data(StreamID, ArraySlice<UInt8>)
    case remoteClosedWrite(StreamID)
    case streamReset(StreamID)
    /// Both directions are finished; the stream is forgotten.
    case streamClosed(StreamID)
    case pong(opaque: UInt32)
    case goAway(code: UInt32)
}

/// A sans-I/O yamux session (`/yamux/1.0.0`): bytes in, events out, frames queued for
/// `takeOutput()`. Flow control per stream: we never send past the peer's window, and we
/// return credit only as the application consumes (`consumed`), once half the window is used,
/// as go and rust do.
///
/// The byte path copies each byte once each way: a written chunk is queued as it is (a
/// `Deque` element, never copied whole; a partly sent chunk is sliced) and copied once into
/// the output buffer behind its frame header; received bytes are copied once into an
/// append-only input buffer (read offset, compacted rarely) and data events are slices of it.
/// `takeOutput(into:)` swaps buffers with the caller instead of copying.
public struct YamuxSession: Sendable {
    /// Read input bytes kept before the unread tail is moved to the front.
    static let inputCompactionThreshold = 64 * 1024

    struct Stream: Sendable {
        var sendWindow: UInt32
        var receiveWindow: UInt32
        var consumedSinceUpdate: UInt32 = 0
        /// The window we grant now: `initialWindow`, doubled at each update up to the maximum.
        var windowLimit: UInt32 = 0
        /// Chunks written and not yet sent, in order; `pendingCount` is their total.
        var pending: Deque<ArraySlice<UInt8>> = []
        var pendingCount = 0
        var finQueued = false
        var finSent = false
        var remoteClosed = false
        /// An inbound stream whose SYN we have not acknowledged yet.
        var needsAck: Bool
    }

    public let role: YamuxRole
    public let configuration: YamuxConfiguration
    private var streams: [StreamID: Stream] = [:]
    private var nextOutboundID: StreamID
    private var input: [UInt8] = []
    private var inputOffset = 0
    private var output: [UInt8] = []
    private var ended = false
    /// Inbound SYNs refused because of the stream limit.
    public private(set) var refusedStreams = 0

    public init(role: YamuxRole, configuration: YamuxConfiguration = .init()) {
        self.role = role
        self.configuration = configuration
        nextOutboundID = role == .client ? 1 : 2
    }

    public var streamCount: Int { streams.count }

    /// Bytes queued on a stream behind the peer's window (0 for an unknown stream).
    public func pendingBytes(on id: StreamID) -> Int { streams[id]?.pendingCount ?? 0 }

    /// Bytes of frames waiting in the output buffer.
    public var outputBytes: Int { output.count }

    /// Frames waiting to be sent.
    public mutating func takeOutput() -> [UInt8] {
        var taken: [UInt8] = []
        takeOutput(into: &taken)
        return taken
    }

    /// Appends the frames waiting to be sent to `buffer`. When `buffer` is empty the two
    /// buffers are swapped instead: the caller gets the session's output storage and the
    /// session keeps the caller's (its capacity reused), so nothing is copied or allocated.
    public mutating func takeOutput(into buffer: inout [UInt8]) {
        if buffer.isEmpty {
            swap(&buffer, &output)
        } else {
            buffer.append(contentsOf: output)
            output.removeAll(keepingCapacity: true)
        }
    }

    // MARK: - Local actions

    public mutating func openStream() throws(YamuxError) -> StreamID {
        guard !ended else { throw .sessionEnded }
        guard streams.count < configuration.maxStreams else { throw .tooManyStreams(configuration.maxStreams) }
        let id = nextOutboundID
        nextOutboundID += 2
        streams[id] = Stream(sendWindow: configuration.initialWindow, receiveWindow: configuration.initialWindow, needsAck: false)
        // go's habit: open with WindowUpdate+SYN and delta 0.
        emit(YamuxFrame(kind: .windowUpdate, flags: .syn, streamID: id, length: 0))
        return id
    }

    public mutating func write(_ bytes: [UInt8], on id: StreamID) throws(YamuxError) {
        try write(bytes[...], on: id)
    }

    /// Queues `bytes` on stream `id` as they are (the chunk is kept, not copied, until its
    /// bytes are framed into the output), then frames what the peer's window allows.
    public mutating func write(_ bytes: ArraySlice<UInt8>, on id: StreamID) throws(YamuxError) {
        guard var stream = streams[id] else { throw .unknownStream(id) }
        guard !stream.finQueued else { throw .streamClosedForWriting(id) }
        guard stream.pendingCount + bytes.count <= configuration.maxPendingBytesPerStream + Int(stream.sendWindow) else {
            throw .pendingOutputFull(stream: id, limit: configuration.maxPendingBytesPerStream)
        }
        guard !bytes.isEmpty else { return }
        // Taken out of the dictionary while the chunk is queued, so the Deque is uniquely
        // referenced and grows in place.
        streams[id] = nil
        stream.pending.append(bytes)
        stream.pendingCount += bytes.count
        streams[id] = consume stream
        pump(id)
    }

    /// Half-closes our side (FIN after any queued data).
    public mutating func closeWrite(_ id: StreamID) throws(YamuxError) {
        guard var stream = streams[id] else { throw .unknownStream(id) }
        guard !stream.finQueued else { return }
        stream.finQueued = true
        streams[id] = consume stream
        pump(id)
        // Closing the last open direction ourselves: the stream is done and forgotten (no
        // event: the caller knows).
        if let s = streams[id], s.finSent, s.remoteClosed { streams[id] = nil }
    }

    public mutating func reset(_ id: StreamID) {
        guard streams.removeValue(forKey: id) != nil else { return }
        emit(YamuxFrame(kind: .windowUpdate, flags: .rst, streamID: id, length: 0))
    }

    /// The application has read `count` bytes of stream `id`: return window credit.
    public mutating func consumed(_ count: Int, on id: StreamID) {
        guard var stream = streams[id], count > 0 else { return }
        stream.consumedSinceUpdate += UInt32(count)
        let limit = max(stream.windowLimit, configuration.initialWindow)
        let keptUp = stream.consumedSinceUpdate >= limit / 2
        if keptUp || stream.needsAck {
            var flags: YamuxFrame.Flags = []
            if stream.needsAck { flags.insert(.ack); stream.needsAck = false }
            // Half the window read: the reader keeps up, so the window doubles (to the maximum).
            let grown = keptUp ? min(configuration.maxReceiveWindow, limit * 2) : limit
            let credit = stream.consumedSinceUpdate + (grown - limit)
            emit(YamuxFrame(kind: .windowUpdate, flags: flags, streamID: id, length: credit))
            stream.receiveWindow += credit
            stream.windowLimit = grown
            stream.consumedSinceUpdate = 0
        }
        streams[id] = consume stream
    }

    public mutating func ping(opaque: UInt32) {
        emit(YamuxFrame(kind: .ping, flags: .syn, streamID: 0, length: opaque))
    }

    public mutating func goAway(code: UInt32) {
        guard !ended else { return }
        ended = true
        emit(YamuxFrame(kind: .goAway, streamID: 0, length: code))
    }

    /// Sends what the window allows, then the FIN if one is due.
    private mutating func pump(_ id: StreamID) {
        // Out of the dictionary while it is changed: the pending Deque stays uniquely referenced.
        guard var stream = streams.removeValue(forKey: id) else { return }
        while stream.pendingCount > 0 && stream.sendWindow > 0 {
            let n = min(stream.pendingCount, Int(stream.sendWindow), configuration.maxFrameBody)
            var flags: YamuxFrame.Flags = []
            if stream.needsAck { flags.insert(.ack); stream.needsAck = false }
            YamuxFrame.encodeHeader(kind: .data, flags: flags, streamID: id, length: UInt32(n), into: &output)
            var left = n
            while left > 0 {
                let chunk = stream.pending[stream.pending.startIndex]
                if chunk.count <= left {
                    output.append(contentsOf: chunk)
                    stream.pending.removeFirst()
                    left -= chunk.count
                } else {
                    output.append(contentsOf: chunk.prefix(left))
                    stream.pending[stream.pending.startIndex] = chunk.dropFirst(left)
                    left = 0
                }
            }
            stream.pendingCount -= n
            stream.sendWindow -= UInt32(n)
        }
        if stream.finQueued && !stream.finSent && stream.pendingCount == 0 {
            var flags: YamuxFrame.Flags = .fin
            if stream.needsAck { flags.insert(.ack); stream.needsAck = false }
            emit(YamuxFrame(kind: .windowUpdate, flags: flags, streamID: id, length: 0))
            stream.finSent = true
        }
        streams[id] = consume stream
    }


    private mutating func emit(_ frame: YamuxFrame) { frame.encode(into: &output) }

    // MARK: - Input

    public mutating func receivedBytes(_ bytes: [UInt8]) throws(YamuxError) -> [YamuxEvent] {
        var events: [YamuxEvent] = []
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(YamuxError) in try receivedBytes(raw, into: &events) }
        }
        try result.get()
        return events
    }

    /// Feeds bytes from the peer (e.g. a plaintext region Noise lends); appends what happened
    /// to `events`. The bytes are copied once, into the input buffer; data events are slices
    /// of it. Empty `events` (`removeAll(keepingCapacity: true)`) before the next call: slices
    /// still held then make the buffer shared, and the next append copies it (correct, slow).
    public mutating func receivedBytes(_ bytes: UnsafeRawBufferPointer, into events: inout [YamuxEvent]) throws(YamuxError) {
        guard !ended else { return }
        if inputOffset == input.count {
            input.removeAll(keepingCapacity: true)
            inputOffset = 0
        } else if inputOffset >= YamuxSession.inputCompactionThreshold {
            input.dropFirstInPlace(inputOffset)
            inputOffset = 0
        }
        input.append(contentsOf: bytes)
        do throws(YamuxError) {
            while let header = try YamuxFrame.Header.decode(input[inputOffset...]) {
                let bodyStart = inputOffset + YamuxFrame.headerLength
                let body = header.kind == .data ? input[bodyStart..<(inputOffset + header.frameCount)] : input[bodyStart..<bodyStart]
                inputOffset += header.frameCount
                try handle(header, body: body, &events)
            }
        } catch {
            ended = true
            // GoAway code 1: protocol error (spec).
            emit(YamuxFrame(kind: .goAway, streamID: 0, length: 1))
            throw error
        }
    }

    private mutating func handle(_ frame: YamuxFrame.Header, body: ArraySlice<UInt8>, _ events: inout [YamuxEvent]) throws(YamuxError) {
        switch frame.kind {
        case .ping:
            if frame.flags.contains(.syn) {
                emit(YamuxFrame(kind: .ping, flags: .ack, streamID: 0, length: frame.length))
            } else if frame.flags.contains(.ack) {
                events.append(.pong(opaque: frame.length))
            }
            return
        case .goAway:
            ended = true
            events.append(.goAway(code: frame.length))
            return
        case .data, .windowUpdate:
            break
        }
        let id = frame.streamID
        if frame.flags.contains(.syn) {
            guard streams[id] == nil else { throw .duplicateStream(id) }
            let peerParity: UInt32 = role == .client ? 0 : 1
            guard id % 2 == peerParity, id != 0 else { throw .wrongStreamParity(id) }
            guard streams.count < configuration.maxStreams else {
                refusedStreams += 1
                emit(YamuxFrame(kind: .windowUpdate, flags: .rst, streamID: id, length: 0))
                return
            }
            streams[id] = Stream(sendWindow: configuration.initialWindow, receiveWindow: configuration.initialWindow, needsAck: true)
            events.append(.inboundStream(id))
        }
        // Frames for a stream we no longer know (reset, or closed while data was in flight) are dropped.
        guard var stream = streams[id] else { return }
        if frame.flags.contains(.rst) {
            streams[id] = nil
            events.append(.streamReset(id))
            return
        }
        if frame.kind == .windowUpdate {
            let (sum, overflow) = stream.sendWindow.addingReportingOverflow(frame.length)
            guard !overflow else { throw .windowOverflow(stream: id) }
            stream.sendWindow = sum
        } else if !body.isEmpty {
            guard body.count <= Int(stream.receiveWindow) else {
                throw .windowExceeded(stream: id, sent: body.count, window: Int(stream.receiveWindow))
            }
            stream.receiveWindow -= UInt32(body.count)
            events.append(.data(id, body))
        }
        if frame.flags.contains(.fin) && !stream.remoteClosed {
            stream.remoteClosed = true
            events.append(.remoteClosedWrite(id))
        }
        streams[id] = consume stream
        pump(id)
        if let s = streams[id], s.finSent, s.remoteClosed {
            streams[id] = nil
            events.append(.streamClosed(id))
        }
    }
}

extension Array where Element == UInt8 {
    /// Removes the first `n` bytes by moving the rest down in the same storage
    /// (`removeSubrange` on the front allocates a new buffer here).
    mutating func dropFirstInPlace(_ n: Int) {
        let keep = count - n
        if keep > 0 {
            withUnsafeMutableBytes { $0.baseAddress!.copyMemory(from: $0.baseAddress! + n, byteCount: keep) }
        }
        removeLast(n)
    }
}
