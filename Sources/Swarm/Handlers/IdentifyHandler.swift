import Identify
import Wire

/// `/ipfs/id/1.0.0` and `/ipfs/id/push/1.0.0` (libp2p-wire.md section 5.1).
///
/// ```
/// identify:  requester opens, listener answers  <- varint-len ‖ Identify protobuf, then FIN
/// push:      pusher opens and sends             -> varint-len ‖ Identify protobuf, then FIN
/// ```
/// We open identify on every new connection; the answer (and any later push) is reported as
/// `ConnectionEvent.identified`, which makes the connection Connected. We push our own record
/// with `open(IdentifyHandler.pushKey)` when our addresses change.
public struct IdentifyHandler: StreamHandler {
    public static let key = "identify"
    public static let pushKey = "identify-push"
    public static let protocolID = "/ipfs/id/1.0.0"
    public static let pushProtocolID = "/ipfs/id/push/1.0.0"
    /// identify's `protocolVersion`, as go and rust send it.
    static let protocolVersion = "ipfs/0.1.0"

    public static func registration() -> ProtocolRegistration {
        ProtocolRegistration(key: key, protocolIDs: [protocolID], opensOnConnect: true) { initiator, _ in
            IdentifyHandler(mode: initiator ? .reading(IdentifyReader()) : .answering)
        }
    }

    public static func pushRegistration() -> ProtocolRegistration {
        ProtocolRegistration(key: pushKey, protocolIDs: [pushProtocolID]) { initiator, _ in
            IdentifyHandler(mode: initiator ? .pushing : .reading(IdentifyReader()))
        }
    }

    private enum Mode: Sendable {
        /// Someone asked who we are: answer once, then close.
        case answering
        /// We push our record once, then close.
        case pushing
        /// The peer's record arrives; it is complete at its FIN.
        case reading(IdentifyReader)
        case done
    }

    private var mode: Mode

    /// Our own record as this connection's peer should see it.
    static func localRecord(_ context: ConnectionContext) -> IdentifyMessage {
        IdentifyMessage(protocolVersion: protocolVersion, agentVersion: context.local.agentVersion,
                        publicKey: context.local.identity.publicKey.libp2pProtobuf,
                        listenAddrs: context.listenAddresses, observedAddr: context.remoteAddress,
                        protocols: context.servedProtocols, signedPeerRecord: nil)
    }

    public mutating func negotiated(_ io: inout StreamIO) throws(StreamFailure) {
        switch mode {
        case .answering, .pushing:
            io.write(IdentifyResponder.response(IdentifyHandler.localRecord(io.context)))
            io.closeWrite()
            mode = .done
        case .reading, .done:
            break
        }
    }

    public mutating func received(_ bytes: ArraySlice<UInt8>, _ io: inout StreamIO) throws(StreamFailure) {
        guard case .reading(var reader) = mode else { return }
        do { try reader.receivedBytes(bytes) } catch {
            mode = .done
            throw .resetStream("bad identify from the peer: \(error)")
        }
        mode = .reading(reader)
    }

    public mutating func remoteClosedWrite(_ io: inout StreamIO) throws(StreamFailure) {
        defer { io.closeWrite() }
        guard case .reading(var reader) = mode else { return }
        mode = .done
        do {
            io.report(.identified(try reader.receivedEndOfStream()))
        } catch {
            io.report(.notice("bad identify from the peer: \(error)"))
        }
    }
}
