/// Why a remote timestamp was refused by `HybridClock.observe(_:wallMillis:)`.
public enum ClockError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The remote clock is more than `HybridClock.maxForwardDriftMillis` ahead of ours
    /// (DESIGN.md section 3): accepting it would drag every later local write into the future.
    case tooFarAhead(remote: HLC, localWallMillis: UInt64, limitMillis: UInt64 = HybridClock.maxForwardDriftMillis)

    public var description: String {
        switch self {
        case .tooFarAhead(let remote, let local, let limitMillis):
            // Subtract without trapping: the case can be built by hand with any values.
            let ahead = remote.physicalMillis > local ? remote.physicalMillis - local : 0
            let limit = ClockError.seconds(limitMillis)
            return "refused version \(remote): it is \(ahead / 1000).\(String(ahead % 1000 + 1000).dropFirst()) s ahead of this node's clock (limit \(limit)); check the clock of the sending node (or this one) with NTP"
        }
    }

    /// Milliseconds as seconds for messages: `60 s`, `2.5 s`.
    public static func seconds(_ millis: UInt64) -> String {
        millis % 1000 == 0 ? "\(millis / 1000) s" : "\(Double(millis) / 1000) s"
    }
}
