import Wire

/// Why the record store would not take a PUT_VALUE or an ADD_PROVIDER. Each case says which
/// limit and what the sender can do; the server turns it into a refused request.
public enum KadStoreRefusal: Error, Equatable, Sendable, CustomStringConvertible {
    case emptyKey
    case keyTooLong(Int, limit: Int)
    case valueTooLarge(Int, limit: Int)
    /// Storing a new key would exceed `maxRecords`.
    case tooManyRecords(limit: Int)
    /// Storing the value would exceed `maxTotalValueBytes`.
    case storeFull(limit: Int)
    /// A new provider key would exceed `maxProviderKeys`.
    case tooManyProviderKeys(limit: Int)
    /// The peer has spent its tokens for this kind of request.
    case rateLimited(PeerID, what: String)

    public var description: String {
        switch self {
        case .emptyKey: "the record key is empty"
        case .keyTooLong(let n, let limit): "the key is \(n) bytes, over the \(limit)-byte limit (use a shorter key or a hash of it)"
        case .valueTooLarge(let n, let limit): "the value is \(n) bytes, over the \(limit)-byte limit"
        case .tooManyRecords(let limit): "the store already holds \(limit) records; try other peers among the closest"
        case .storeFull(let limit): "the store's \(limit) bytes of values are used up; try other peers among the closest"
        case .tooManyProviderKeys(let limit): "the store already tracks providers for \(limit) keys; try other peers among the closest"
        case .rateLimited(let peer, let what): "\(peer) sends \(what) faster than allowed; slow down and retry"
        }
    }
}
