import Wire

/// `/p2p-sync/reconcile/1.0.0` (docs/PROTOCOL.md): catch-up messages, each a uvarint length and
/// a `ReconcileMessage`, on a stream either side may open. The session logic lives in the
/// Reconcile module and the node's ReconcileService; this handler only frames messages.
/// Reports `ReconcileHandler.Event`; takes `ReconcileHandler.Command`.
public struct ReconcileHandler: StreamHandler {
    public static let key = "reconcile"
    public static let protocolID = "/p2p-sync/reconcile/1.0.0"
    /// Item lists of a large difference can be several MiB.
    public static let maxMessageBytes = 16 << 20

    public enum Command: Sendable {
        case send([UInt8])
        /// Our side is done: FIN once everything queued has gone.
        case finish
        /// Abandon the stream (the peer misbehaved, or a limit was hit).
        case abort
    }

    public enum Event: Sendable {
        /// The stream was agreed (`initiator`: we opened it).
        case opened(initiator: Bool)
        case message([UInt8])
        /// The stream is over: nil when the peer closed it normally, else why it failed.
        case ended(String?)
    }

    public static func registration() -> ProtocolRegistration {
        ProtocolRegistration(key: key, protocolIDs: [protocolID]) { _, _ in ReconcileHandler() }
    }

    private var reader = LengthPrefixedReader(maxFrameBytes: maxMessageBytes)
    private var over = false

    public mutating func negotiated(_ io: inout StreamIO) throws(StreamFailure) {
        io.report(Event.opened(initiator: io.initiator))
    }

    public mutating func received(_ bytes: ArraySlice<UInt8>, _ io: inout StreamIO) throws(StreamFailure) {
        guard !over else { return }
        do {
            for frame in try reader.receivedBytes(bytes) { io.report(Event.message(frame)) }
        } catch {
            end("\(error)", &io)
            throw .resetStream("bad reconcile framing: \(error)")
        }
    }

    public mutating func remoteClosedWrite(_ io: inout StreamIO) throws(StreamFailure) {
        end(nil, &io)
        io.closeWrite()
    }

    public mutating func ended(_ reason: StreamEnd, _ io: inout StreamIO) {
        switch reason {
        case .closed: end(nil, &io)
        case .reset: end("the peer reset the stream", &io)
        case .refused: end("the peer does not speak \(ReconcileHandler.protocolID)", &io)
        case .connectionClosed(let why): end("connection closed: \(why)", &io)
        }
    }

    public mutating func command(_ command: any Sendable, _ io: inout StreamIO) throws(StreamFailure) {
        switch command as? Command {
        case .send(let message)?: io.write(LengthPrefixedReader.frame(message))
        case .finish?: io.closeWrite()
        case .abort?:
            over = true
            io.reset()
        case nil: break
        }
    }

    private mutating func end(_ reason: String?, _ io: inout StreamIO) {
        guard !over else { return }
        over = true
        io.report(Event.ended(reason))
    }
}
