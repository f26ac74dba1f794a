import Kademlia
import Wire

/// `/ipfs/kad/1.0.0` (libp2p-wire.md section 8.1): Kademlia RPCs, each a uvarint length and a
/// dht.proto `Message`. The handler only frames and times; `KadServer` decides the answers and
/// the node's lookups decide what to ask.
///
/// ```
/// inbound (we serve):  <- request  -> answer  <- request  -> answer ... <- FIN  -> FIN
///                      (go reuses one stream for many requests; ADD_PROVIDER gets no answer)
/// outbound (we ask):   -> request  <- answer  -> FIN            (one request per stream)
///                      -> ADD_PROVIDER  -> FIN                  (no answer expected)
/// ```
/// Inbound: reports `Event.request` for each request; the node answers every one but
/// ADD_PROVIDER with `Command.respond` (in order), or gives up on the stream with `Command.reset`.
/// Outbound: `Connection.open(KadHandler.key, request: KadHandler.Request(tag:message:))`;
/// reports exactly one of `.response`, `.sent` (ADD_PROVIDER) or `.failed` for the tag.
public struct KadHandler: StreamHandler {
    public static let key = "kad"
    public static let defaultProtocolID = "/ipfs/kad/1.0.0"
    /// Largest frame we read. Honest messages stay under rust's 16 KiB, except a GET_VALUE
    /// answer or PUT_VALUE carrying a value of up to 64 KiB (`KadRecordStore.Limits.maxValueBytes`)
    /// with 20 peers beside it; 256 KiB covers that with room, far under go's and py's 4 MiB,
    /// which would let one stream make us buffer 4 MiB.
    public static let maxMessageBytes = 256 * 1024
    /// An outbound request without an answer by then failed (go's and py's query time-out, 10 s).
    public static let timeout: UInt64 = 10_000_000_000
    /// An inbound stream with nothing to answer and no request for this long is reset (go's
    /// `dhtStreamIdleTimeout`, 1 min): peers keep streams for reuse, but not forever.
    public static let idleTimeout: UInt64 = 60_000_000_000
    /// Answers queued but unread by the peer past this, a new request resets the stream: a
    /// peer that pipelines requests without reading would otherwise grow our send queue.
    public static let maxQueuedAnswerBytes = 1 << 20

    public struct Request: Sendable {
        /// Comes back in the event, to match it with the query that asked.
        public let tag: UInt64
        public let message: KadMessage
        public init(tag: UInt64, message: KadMessage) {
            self.tag = tag
            self.message = message
        }
    }

    public enum Command: Sendable {
        /// The answer to the oldest unanswered request on this inbound stream.
        case respond(KadMessage)
        /// Abandon this inbound stream (a refused request: go resets the stream too).
        case reset
    }

    public enum Event: Equatable, Sendable {
        /// A request on an inbound stream: answer it on this stream (`HandlerEvent.stream`).
        case request(KadMessage)
        case response(tag: UInt64, KadMessage)
        /// An ADD_PROVIDER went out (it has no answer).
        case sent(tag: UInt64)
        case failed(tag: UInt64, String)
    }

    /// `serving` false is DHT client mode: we dial kad but do not accept it, nor list it in
    /// identify (peers then keep us out of their routing tables, as they should for a client).
    public static func registration(protocolID: String = defaultProtocolID, serving: Bool) -> ProtocolRegistration {
        ProtocolRegistration(key: key, protocolIDs: [protocolID], servesInbound: serving) { initiator, request in
            initiator ? KadHandler(request: request as? Request) : KadHandler()
        }
    }

    private enum Mode: Sendable {
        /// We serve requests; `unanswered` counts those the node still owes an answer.
        case serving(unanswered: Int, peerDone: Bool, lastActivity: UInt64)
        case waitingForAgreement(Request, since: UInt64)
        case waitingForResponse(Request, since: UInt64)
        case done
    }

    private var mode: Mode
    private var reader = LengthPrefixedReader(maxFrameBytes: maxMessageBytes)

    init() { mode = .serving(unanswered: 0, peerDone: false, lastActivity: 0) }

    /// Opened without a request (a caller bug): the stream is reset once agreed.
    init(request: Request?) { mode = request.map { .waitingForAgreement($0, since: 0) } ?? .done }

    public var deadline: UInt64? {
        switch mode {
        case .serving(let unanswered, let peerDone, let last): unanswered == 0 && !peerDone ? last + Self.idleTimeout : nil
        case .waitingForAgreement(_, let since), .waitingForResponse(_, let since): since + Self.timeout
        case .done: nil
        }
    }

    public mutating func opened(_ io: inout StreamIO) {
        if case .waitingForAgreement(let request, _) = mode { mode = .waitingForAgreement(request, since: io.now) }
    }

    public mutating func negotiated(_ io: inout StreamIO) throws(StreamFailure) {
        switch mode {
        case .serving(let unanswered, let peerDone, _):
            mode = .serving(unanswered: unanswered, peerDone: peerDone, lastActivity: io.now)
        case .waitingForAgreement(let request, let since):
            io.write(LengthPrefixedReader.frame(request.message.encoded(maxBytes: KadMessage.rustMaxMessageBytes)))
            if request.message.type == .addProvider {
                // No answer comes: the request is done once queued; FIN tells the peer so.
                finish(.sent(tag: request.tag), &io)
                io.closeWrite()
            } else {
                mode = .waitingForResponse(request, since: since)
            }
        case .done:
            io.reset()
        case .waitingForResponse:
            break
        }
    }

    public mutating func received(_ bytes: ArraySlice<UInt8>, _ io: inout StreamIO) throws(StreamFailure) {
        switch mode {
        case .serving(var unanswered, let peerDone, _):
            let frames: [[UInt8]]
            do { frames = try reader.receivedBytes(bytes) } catch {
                mode = .done
                throw .resetStream("bad kad framing: \(error)")
            }
            for frame in frames {
                let request: KadMessage
                do { request = try KadMessage(decoding: frame) } catch {
                    mode = .done
                    throw .resetStream("\(error)")
                }
                guard io.queuedBytes <= Self.maxQueuedAnswerBytes else {
                    mode = .done
                    throw .resetStream("the peer sends kad requests without reading \(io.queuedBytes) bytes of answers")
                }
                if request.type != .addProvider { unanswered += 1 }
                io.report(Event.request(request))
            }
            mode = .serving(unanswered: unanswered, peerDone: peerDone, lastActivity: io.now)
        case .waitingForResponse(let request, _):
            let frames: [[UInt8]]
            do { frames = try reader.receivedBytes(bytes) } catch {
                finish(.failed(tag: request.tag, "bad kad framing: \(error)"), &io)
                throw .resetStream("bad kad framing: \(error)")
            }
            guard let frame = frames.first else { return }
            let response: KadMessage
            do { response = try KadMessage(decoding: frame) } catch {
                finish(.failed(tag: request.tag, "\(error)"), &io)
                throw .resetStream("\(error)")
            }
            // Anything after the one answer is ignored: the stream is ours and we are done.
            finish(.response(tag: request.tag, response), &io)
            io.closeWrite()
        case .waitingForAgreement, .done:
            break
        }
    }

    public mutating func remoteClosedWrite(_ io: inout StreamIO) throws(StreamFailure) {
        switch mode {
        case .serving(let unanswered, _, let last):
            // Our FIN waits for the answers still owed.
            if unanswered == 0 { io.closeWrite() }
            mode = .serving(unanswered: unanswered, peerDone: true, lastActivity: last)
        case .waitingForResponse(let request, _):
            finish(.failed(tag: request.tag, "the peer closed the stream without answering"), &io)
            io.closeWrite()
        case .waitingForAgreement, .done:
            io.closeWrite()
        }
    }

    public mutating func command(_ command: any Sendable, _ io: inout StreamIO) throws(StreamFailure) {
        guard case .serving(let unanswered, let peerDone, _) = mode else { return }
        switch command as? Command {
        case .respond(let answer)?:
            // An answer nobody asked for (a node bug, or one for ADD_PROVIDER) is not sent.
            guard unanswered > 0 else { return }
            io.write(LengthPrefixedReader.frame(answer.encoded(maxBytes: KadMessage.rustMaxMessageBytes)))
            if unanswered == 1 && peerDone { io.closeWrite() }
            mode = .serving(unanswered: unanswered - 1, peerDone: peerDone, lastActivity: io.now)
        case .reset?:
            mode = .done
            io.reset()
        case nil:
            break
        }
    }

    public mutating func timerFired(_ io: inout StreamIO) {
        switch mode {
        case .serving:
            mode = .done
            io.reset()
        case .waitingForAgreement(let request, _), .waitingForResponse(let request, _):
            finish(.failed(tag: request.tag, "no answer in \(Self.timeout / 1_000_000_000) s"), &io)
            io.reset()
        case .done:
            break
        }
    }

    public mutating func ended(_ reason: StreamEnd, _ io: inout StreamIO) {
        switch mode {
        case .waitingForAgreement(let request, _), .waitingForResponse(let request, _):
            let why = switch reason {
            case .refused(let detail): "the peer does not serve the kad protocol (a DHT client?): \(detail)"
            case .reset: "the peer reset the stream"
            case .closed: "the stream closed without an answer"
            case .connectionClosed(let detail): "connection closed: \(detail)"
            }
            finish(.failed(tag: request.tag, why), &io)
        case .serving, .done:
            mode = .done
        }
    }

    private mutating func finish(_ event: Event, _ io: inout StreamIO) {
        mode = .done
        io.report(event)
    }
}
