/// `/ipfs/ping/1.0.0` (libp2p-wire.md section 6): the dialer sends 32 random bytes, the
/// listener echoes every 32-byte chunk until the stream closes. Times are monotonic
/// nanoseconds passed in by the caller; nothing here reads a clock.
public enum PingProtocol {
    public static let payloadLength = 32
    /// go and py give up after 10 s.
    public static let timeoutNanoseconds: UInt64 = 10_000_000_000
}

/// Echoes complete 32-byte chunks; holds at most 31 bytes of a partial one.
public struct PingResponder: Sendable {
    private var partial: [UInt8] = []

    public init() {}

    public mutating func receivedBytes(_ bytes: [UInt8]) -> [UInt8] {
        partial += bytes
        let whole = partial.count - partial.count % PingProtocol.payloadLength
        defer { partial.removeFirst(whole) }
        return Array(partial[0..<whole])
    }
}

public enum PingError: Error, Equatable, Sendable, CustomStringConvertible {
    case mismatch

    public var description: String { "ping answer did not echo our payload" }
}

public struct PingResult: Equatable, Sendable {
    public let rttNanoseconds: UInt64

    public init(rttNanoseconds: UInt64) { self.rttNanoseconds = rttNanoseconds }
}

/// One ping: `request()` to send, then the echo in `receivedBytes`.
public struct PingInitiator: Sendable {
    public let payload: [UInt8]
    public let sentAt: UInt64
    private var received: [UInt8] = []

    public init(payload: [UInt8], now: UInt64) {
        precondition(payload.count == PingProtocol.payloadLength, "ping payload must be 32 bytes")
        self.payload = payload
        sentAt = now
    }

    public func request() -> [UInt8] { payload }

    public mutating func receivedBytes(_ bytes: [UInt8], now: UInt64) throws(PingError) -> PingResult? {
        received += bytes
        guard received.count >= PingProtocol.payloadLength else { return nil }
        guard Array(received[0..<PingProtocol.payloadLength]) == payload else { throw .mismatch }
        return PingResult(rttNanoseconds: now &- sentAt)
    }

    public func timedOut(now: UInt64) -> Bool { now &- sentAt > PingProtocol.timeoutNanoseconds }
}
