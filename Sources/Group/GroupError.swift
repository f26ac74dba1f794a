/// Why a group identifier, membership change or invite was not accepted; each message says
/// what was expected.
public enum GroupError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformedGroupID(String)
    case malformedChange(String)
    case badSignature(String)
    case malformedInvite(String)

    public var description: String {
        switch self {
        case .malformedGroupID(let why): "bad group ID: \(why)"
        case .malformedChange(let why): "bad membership change: \(why)"
        case .badSignature(let why): "membership change signature: \(why)"
        case .malformedInvite(let why): "bad invite: \(why) (an invite looks like p2p-sync-invite:GROUP:PEER_ID@ADDRESS,ADDRESS)"
        }
    }
}
