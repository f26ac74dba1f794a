import Gossipsub
import Wire

/// Pubsub streams (`/meshsub/1.1.0`, `/meshsub/1.0.0`, `/floodsub/1.0.0`; libp2p-wire.md
/// section 7): each side opens one stream to write its RPCs and reads the peer's on the
/// stream the peer opened. Every RPC is a uvarint length and a protobuf.
///
/// Ours is opened at connect; RPCs sent before the peer agrees wait for the agreement. A new
/// inbound stream replaces the old one, as go does. A malformed or oversized RPC closes the
/// connection. Reports `PubsubHandler.Event`; takes `PubsubHandler.Send`.
public struct PubsubHandler: StreamHandler {
    public static let key = "pubsub"
    /// RPCs we accept (DESIGN.md section 6: go and py send up to 1 MiB).
    public static let maxRPCBytes = 1 << 20
    /// A peer that lets this much pile up unread on our stream is dropped.
    public static let maxQueuedBytes = 16 << 20

    public struct Send: Sendable {
        public let rpc: PubsubRPC
        public init(_ rpc: PubsubRPC) { self.rpc = rpc }
    }

    public enum Event: Sendable {
        /// The peer speaks pubsub with this protocol (reported by each direction once it is agreed).
        case ready(PubsubProtocolID)
        case rpc(PubsubRPC)
    }

    public static func registration() -> ProtocolRegistration {
        ProtocolRegistration(key: key, protocolIDs: PubsubProtocolID.allCases.map(\.rawValue), opensOnConnect: true,
                             oneInboundStream: true) { initiator, _ in
            PubsubHandler(reader: initiator ? nil : RPCFrameReader(maxFrameBytes: maxRPCBytes))
        }
    }

    /// Nil on our own (writing) stream: what the peer sends there is ignored.
    private var reader: RPCFrameReader?

    public mutating func negotiated(_ io: inout StreamIO) throws(StreamFailure) {
        if let id = io.protocolID, let proto = PubsubProtocolID(rawValue: id) { io.report(Event.ready(proto)) }
    }

    public mutating func received(_ bytes: ArraySlice<UInt8>, _ io: inout StreamIO) throws(StreamFailure) {
        guard reader != nil else { return }
        do {
            for frame in try reader!.receivedBytes(bytes) { io.report(Event.rpc(try PubsubRPC(decoding: frame))) }
        } catch {
            throw .closeConnection("bad pubsub RPC: \(error)")
        }
    }

    public mutating func command(_ command: any Sendable, _ io: inout StreamIO) throws(StreamFailure) {
        guard let send = command as? Send else { return }
        io.write(RPCFrameReader.frame(send.rpc.encoded()))
        if io.queuedBytes > PubsubHandler.maxQueuedBytes {
            throw .closeConnection("peer stopped reading pubsub messages (\(io.queuedBytes) bytes waiting)")
        }
    }
}
