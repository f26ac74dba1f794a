/// The node's hybrid logical clock (DESIGN.md section 3). A value type with no clock reads
/// inside: wall time is passed in, so tests and the simulator control it.
///
/// It never goes backwards and every timestamp it issues exceeds every one it issued or
/// observed before, so a local write made after seeing a remote one wins over it.
public struct HybridClock: Sendable {
    /// A remote timestamp more than this many milliseconds ahead of the local wall clock is
    /// refused (DESIGN.md section 3: 60 s).
    public static let maxForwardDriftMillis: UInt64 = 60_000

    /// The greatest timestamp issued or observed so far.
    public private(set) var last: HLC

    /// Starts above `lastIssued`; a restarted node passes `Store.greatestHLC()`.
    public init(lastIssued: HLC = .zero) { last = lastIssued }

    /// A new timestamp for a local event: `max(wall, last.physical)`, with the logical counter
    /// bumped when the wall clock has not moved past `last` (stood still or went backwards).
    public mutating func tick(wallMillis: UInt64) -> HLC {
        if wallMillis > last.physicalMillis {
            last = HLC(physicalMillis: wallMillis, logical: 0)
        } else if last.logical < UInt32.max {
            last.logical += 1
        } else {
            // 2^32 events in one millisecond: borrow the next millisecond rather than wrap.
            // (UInt64.max cannot be reached: observe refuses anything 60 s past the wall clock.)
            last = HLC(physicalMillis: last.physicalMillis + 1, logical: 0)
        }
        return last
    }

    /// Takes in a remote timestamp so that later local ones exceed it, unless it is more
    /// than `limitMillis` (default `maxForwardDriftMillis`) ahead of `wallMillis` (exactly that
    /// much is accepted).
    public mutating func observe(_ remote: HLC, wallMillis: UInt64,
                                 limitMillis: UInt64 = HybridClock.maxForwardDriftMillis) throws(ClockError) {
        guard !HybridClock.isTooFarAhead(remote, wallMillis: wallMillis, limitMillis: limitMillis) else {
            throw .tooFarAhead(remote: remote, localWallMillis: wallMillis, limitMillis: limitMillis)
        }
        if remote > last { last = remote }
    }

    /// The rule of `observe`, without observing: `remote` is more than `limitMillis` past `wallMillis`.
    public static func isTooFarAhead(_ remote: HLC, wallMillis: UInt64, limitMillis: UInt64) -> Bool {
        let (limit, overflow) = wallMillis.addingReportingOverflow(limitMillis)
        return !overflow && remote.physicalMillis > limit
    }
}
