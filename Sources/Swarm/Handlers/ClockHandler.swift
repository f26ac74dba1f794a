/// `/p2p-sync/clock/1.0.0` (docs/PROTOCOL.md, "Clock exchange"): one NTP-style exchange per
/// stream, so each node can estimate every peer's wall-clock offset (issue 17).
///
/// ```
/// initiator  -> t1                                   (8 bytes)
///            <- t1, t2, t3, refused, limit           (32 bytes), then both close
/// offset = ((t2 - t1) + (t3 - t4)) / 2,  round trip = t4 - t1
/// ```
/// t1, t2, t3 are Unix milliseconds, unsigned 64-bit big-endian: t1 the initiator's wall clock
/// when it sent, t2 and t3 the responder's when it received and answered. `refused` (32-bit)
/// counts the initiator's writes the responder refused because their versions were too far
/// ahead of its clock; `limit` (32-bit) is the responder's limit in milliseconds.
///
/// The handler reads no clock: the node passes its wall time in (`Request` to start, `Answer`
/// to reply to an `.asked` event); t4 is t1 plus the round trip on the connection's monotonic
/// clock (`io.now`), so a wall clock stepped mid-exchange cannot skew one sample.
public struct ClockHandler: StreamHandler {
    public static let key = "clock"
    public static let protocolID = "/p2p-sync/clock/1.0.0"
    /// Request: t1.
    public static let requestLength = 8
    /// Answer: t1, t2, t3, refused, limit.
    public static let answerLength = 32
    /// No answer by then: the exchange failed (the same 10 s as ping).
    public static let timeout: UInt64 = 10_000_000_000

    /// Starts an exchange; `wallMillis` is the node's wall clock now (Unix milliseconds).
    public struct Request: Sendable {
        public let wallMillis: UInt64
        public init(wallMillis: UInt64) { self.wallMillis = wallMillis }
    }

    /// The node's reply to `.asked`: its wall clock now, and what it tells the asking peer.
    public struct Answer: Sendable {
        public let wallMillis: UInt64
        public let refusedWrites: UInt32
        public let limitMillis: UInt32
        public init(wallMillis: UInt64, refusedWrites: UInt32, limitMillis: UInt32) {
            self.wallMillis = wallMillis
            self.refusedWrites = refusedWrites
            self.limitMillis = limitMillis
        }
    }

    /// One measurement of the peer's clock.
    public struct Sample: Equatable, Sendable {
        /// The peer's wall clock minus ours, in milliseconds (positive: the peer is ahead).
        public let offsetMillis: Double
        public let roundTripNanoseconds: UInt64
        /// Our writes the peer refused for their clock, as it counts them.
        public let refusedWrites: UInt32
        /// The peer's limit for versions ahead of its clock, in milliseconds.
        public let limitMillis: UInt32

        public init(offsetMillis: Double, roundTripNanoseconds: UInt64, refusedWrites: UInt32, limitMillis: UInt32) {
            self.offsetMillis = offsetMillis
            self.roundTripNanoseconds = roundTripNanoseconds
            self.refusedWrites = refusedWrites
            self.limitMillis = limitMillis
        }
    }

    public enum Event: Sendable {
        /// The peer asks (responder side): answer with `Answer` on this stream.
        case asked
        case measured(Sample)
        case failed(String)
    }

    public static func registration() -> ProtocolRegistration {
        ProtocolRegistration(key: key, protocolIDs: [protocolID]) { initiator, request in
            initiator ? ClockHandler(wallMillis: (request as? Request)?.wallMillis ?? 0) : ClockHandler(wallMillis: nil)
        }
    }

    private enum Mode: Sendable {
        /// Responder: collecting t1, then waiting for the node's `Answer`.
        case responder(received: [UInt8], since: UInt64?)
        case answered
        case waitingForAgreement(wallMillis: UInt64, openedAt: UInt64)
        case waitingForAnswer(t1: UInt64, sentAt: UInt64, received: [UInt8])
        case done
    }

    private var mode: Mode
    private var receivedAt: UInt64 = 0

    init(wallMillis: UInt64?) {
        mode = wallMillis.map { .waitingForAgreement(wallMillis: $0, openedAt: 0) } ?? .responder(received: [], since: nil)
    }

    public var deadline: UInt64? {
        switch mode {
        case .waitingForAgreement(_, let openedAt): openedAt + ClockHandler.timeout
        case .waitingForAnswer(_, let sentAt, _): sentAt + ClockHandler.timeout
        case .responder(_, let since?): since + ClockHandler.timeout
        case .responder(_, nil), .answered, .done: nil
        }
    }

    public mutating func opened(_ io: inout StreamIO) {
        if case .waitingForAgreement(let wall, _) = mode { mode = .waitingForAgreement(wallMillis: wall, openedAt: io.now) }
    }

    public mutating func negotiated(_ io: inout StreamIO) throws(StreamFailure) {
        switch mode {
        case .waitingForAgreement(let wall, let openedAt):
            // The node read its wall clock when it opened the stream; the agreement came later.
            let t1 = wall &+ (io.now &- openedAt) / 1_000_000
            io.write(ClockHandler.encode([t1]))
            mode = .waitingForAnswer(t1: t1, sentAt: io.now, received: [])
        case .responder(let received, nil):
            mode = .responder(received: received, since: io.now)
        default:
            break
        }
    }

    public mutating func received(_ bytes: ArraySlice<UInt8>, _ io: inout StreamIO) throws(StreamFailure) {
        switch mode {
        case .responder(var received, let since):
            received += bytes
            guard received.count <= ClockHandler.requestLength else {
                mode = .done
                throw .resetStream("clock request longer than \(ClockHandler.requestLength) bytes")
            }
            mode = .responder(received: received, since: since ?? io.now)
            if received.count == ClockHandler.requestLength {
                receivedAt = io.now
                io.report(Event.asked)
            }
        case .waitingForAnswer(let t1, let sentAt, var received):
            received += bytes
            guard received.count <= ClockHandler.answerLength else {
                finish(.failed("clock answer longer than \(ClockHandler.answerLength) bytes"), &io)
                throw .resetStream("clock answer too long")
            }
            guard received.count == ClockHandler.answerLength else {
                mode = .waitingForAnswer(t1: t1, sentAt: sentAt, received: received)
                return
            }
            let echoed = ClockHandler.uint64(received, at: 0)
            guard echoed == t1 else {
                finish(.failed("the answer echoed t1 \(echoed), not \(t1)"), &io)
                throw .resetStream("clock answer does not echo our t1")
            }
            let t2 = ClockHandler.uint64(received, at: 8), t3 = ClockHandler.uint64(received, at: 16)
            let rtt = io.now &- sentAt
            let t4 = Double(t1) + Double(rtt) / 1_000_000
            // Differences first: the absolute times lose precision as Doubles, their differences do not.
            let offset = (Double(Int64(bitPattern: t2 &- t1)) + (Double(t3) - t4)) / 2
            let sample = Sample(offsetMillis: offset, roundTripNanoseconds: rtt,
                                refusedWrites: ClockHandler.uint32(received, at: 24), limitMillis: ClockHandler.uint32(received, at: 28))
            finish(.measured(sample), &io)
            io.closeWrite()
        case .answered, .waitingForAgreement, .done:
            break
        }
    }

    public mutating func command(_ command: any Sendable, _ io: inout StreamIO) throws(StreamFailure) {
        guard let answer = command as? Answer, case .responder(let received, _) = mode,
              received.count == ClockHandler.requestLength else { return }
        let held = (io.now &- receivedAt) / 1_000_000
        let t2 = answer.wallMillis &- held, t3 = answer.wallMillis
        io.write(ClockHandler.encode([ClockHandler.uint64(received, at: 0), t2, t3])
                 + ClockHandler.encode32([answer.refusedWrites, answer.limitMillis]))
        io.closeWrite()
        mode = .answered
    }

    public mutating func timerFired(_ io: inout StreamIO) {
        switch mode {
        case .waitingForAgreement, .waitingForAnswer:
            finish(.failed("no answer in \(ClockHandler.timeout / 1_000_000_000) s"), &io)
            io.reset()
        case .responder:
            mode = .done
            io.reset()
        case .answered, .done:
            break
        }
    }

    public mutating func ended(_ reason: StreamEnd, _ io: inout StreamIO) {
        switch mode {
        case .waitingForAgreement, .waitingForAnswer:
            if case .refused(let why) = reason {
                finish(.failed("the peer does not speak \(ClockHandler.protocolID): \(why)"), &io)
            } else {
                finish(.failed("clock stream ended before the answer: \(reason)"), &io)
            }
        default:
            break
        }
    }

    private mutating func finish(_ event: Event, _ io: inout StreamIO) {
        mode = .done
        io.report(event)
    }

    static func encode(_ values: [UInt64]) -> [UInt8] {
        values.flatMap { v in (0..<8).map { UInt8(truncatingIfNeeded: v >> (56 - 8 * UInt64($0))) } }
    }

    static func encode32(_ values: [UInt32]) -> [UInt8] {
        values.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - 8 * UInt32($0))) } }
    }

    static func uint64(_ bytes: [UInt8], at offset: Int) -> UInt64 {
        bytes[offset..<offset + 8].reduce(0) { $0 << 8 | UInt64($1) }
    }

    static func uint32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }
}
