/// A peer's connection state, as the seed's state machine names it (DESIGN.md section 5)
/// and as `p2p-syncctl peers` shows it.
public enum PeerState: String, Sendable {
    case peerFound = "PeerFound"
    case connecting = "Connecting"
    case handshaking = "Handshaking"
    case authenticating = "Authenticating"
    case negotiating = "Negotiating"
    case identifying = "Identifying"
    case connected = "Connected"
    case syncing = "Syncing"
    case disconnected = "Disconnected"
    case failed = "Failed"
}
