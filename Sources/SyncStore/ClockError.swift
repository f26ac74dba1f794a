/// Why a remote timestamp was refused by `HybridClock.observe(_:wallMillis:)`.
public enum ClockError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The remote clock is more than `HybridClock.maxForwardDriftMillis` ahead of ours
    /// (DESIGN.md section 3): accepting it would drag every later local write into the future.
    case tooFarAhead(remote: HLC, localWallMillis: UInt64)

    public var description: String {
        switch self {
        case .tooFarAhead(let remote, let local):
            // Subtract without trapping: the case can be built by hand with any values.
            let ahead = remote.physicalMillis > local ? remote.physicalMillis - local : 0
            let limit = HybridClock.maxForwardDriftMillis / 1000
            return "refused version \(remote): it is \(ahead / 1000).\(String(ahead % 1000 + 1000).dropFirst()) s ahead of this node's clock (limit \(limit) s); check the clock of the sending node (or this one) with NTP"
        }
    }
}
