import Ping

/// `/ipfs/ping/1.0.0` (libp2p-wire.md section 6): we echo every 32-byte payload on streams the
/// peer opens; on a stream we open we send one random payload and time its echo.
///
/// ```
/// initiator  -> 32 random bytes
///            <- the same 32 bytes          (RTT = now - sent)
/// ```
/// Commands: `open(PingHandler.key, request: PingHandler.Request(token:))`. Reports one
/// `PingHandler.Event` per request. Token 0 is the connection's own keep-alive.
public struct PingHandler: StreamHandler {
    public static let key = "ping"
    public static let protocolID = "/ipfs/ping/1.0.0"
    public static let keepAliveToken: UInt64 = 0
    /// A ping without an answer by then failed (`PingProtocol.timeoutNanoseconds`, 10 s; go's
    /// ping service uses the same bound, rust's default is 20 s).
    public static let timeout = PingProtocol.timeoutNanoseconds

    /// Asks for one round trip; `token` comes back in the event.
    public struct Request: Sendable {
        public let token: UInt64
        public init(token: UInt64) { self.token = token }
    }

    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case timedOut(UInt64)
        case refused(String)
        case mismatch
        case ended(String)

        public var description: String {
            switch self {
            case .timedOut(let ns): "no answer in \(ns / 1_000_000_000) s"
            case .refused(let why): "the peer does not speak ping: \(why)"
            case .mismatch: "the answer did not echo our payload"
            case .ended(let why): "ping stream ended before the answer: \(why)"
            }
        }
    }

    public struct Event: Sendable {
        public let token: UInt64
        /// The round trip in nanoseconds, or why there is none.
        public let outcome: Result<UInt64, Failure>
    }

    public static func registration() -> ProtocolRegistration {
        ProtocolRegistration(key: key, protocolIDs: [protocolID]) { initiator, request in
            initiator ? PingHandler(token: (request as? Request)?.token ?? keepAliveToken) : PingHandler(token: nil)
        }
    }

    private enum Mode: Sendable {
        case responder(PingResponder)
        case waitingForAgreement(token: UInt64, since: UInt64)
        case waitingForEcho(PingInitiator, token: UInt64)
        case done
    }

    private var mode: Mode

    init(token: UInt64?) {
        mode = token.map { .waitingForAgreement(token: $0, since: 0) } ?? .responder(PingResponder())
    }

    /// The answer is due `timeout` after we opened the stream (a lost proposal counts too).
    public var deadline: UInt64? {
        switch mode {
        case .waitingForAgreement(_, let since): since + PingHandler.timeout
        case .waitingForEcho(let initiator, _): initiator.sentAt + PingHandler.timeout
        case .responder, .done: nil
        }
    }

    public mutating func opened(_ io: inout StreamIO) {
        if case .waitingForAgreement(let token, _) = mode { mode = .waitingForAgreement(token: token, since: io.now) }
    }

    public mutating func negotiated(_ io: inout StreamIO) throws(StreamFailure) {
        guard case .waitingForAgreement(let token, _) = mode else { return }
        let initiator = PingInitiator(payload: io.randomBytes(PingProtocol.payloadLength), now: io.now)
        io.write(initiator.request())
        mode = .waitingForEcho(initiator, token: token)
    }

    public mutating func received(_ bytes: ArraySlice<UInt8>, _ io: inout StreamIO) throws(StreamFailure) {
        switch mode {
        case .responder(var responder):
            io.write(responder.receivedBytes(Array(bytes)))
            mode = .responder(responder)
        case .waitingForEcho(var initiator, let token):
            do {
                guard let result = try initiator.receivedBytes(Array(bytes), now: io.now) else {
                    mode = .waitingForEcho(initiator, token: token)
                    return
                }
                finish(token, .success(result.rttNanoseconds), &io)
                io.closeWrite()
            } catch {
                finish(token, .failure(.mismatch), &io)
                throw .resetStream("\(error)")
            }
        case .waitingForAgreement, .done:
            break
        }
    }

    public mutating func timerFired(_ io: inout StreamIO) {
        let token: UInt64
        switch mode {
        case .waitingForAgreement(let t, _), .waitingForEcho(_, let t): token = t
        case .responder, .done: return
        }
        finish(token, .failure(.timedOut(PingHandler.timeout)), &io)
        io.reset()
    }

    public mutating func ended(_ reason: StreamEnd, _ io: inout StreamIO) {
        switch mode {
        case .waitingForAgreement(let token, _), .waitingForEcho(_, let token):
            if case .refused(let why) = reason {
                finish(token, .failure(.refused(why)), &io)
            } else {
                finish(token, .failure(.ended("\(reason)")), &io)
            }
        case .responder, .done:
            break
        }
    }

    private mutating func finish(_ token: UInt64, _ outcome: Result<UInt64, Failure>, _ io: inout StreamIO) {
        mode = .done
        io.report(Event(token: token, outcome: outcome))
    }
}
