/// A hybrid logical clock timestamp: wall-clock milliseconds and a logical counter that
/// orders events within one millisecond (DESIGN.md section 3). Ordered by `physicalMillis`,
/// then `logical`. Text form `"<physicalMillis>:<logical>"`, e.g. `1764040000123:0`.
public struct HLC: Comparable, Hashable, Sendable, CustomStringConvertible, LosslessStringConvertible {
    public var physicalMillis: UInt64
    public var logical: UInt32

    public static let zero = HLC(physicalMillis: 0, logical: 0)

    public init(physicalMillis: UInt64, logical: UInt32) {
        self.physicalMillis = physicalMillis
        self.logical = logical
    }

    /// Parses the text form strictly: two unsigned decimal numbers separated by `:`.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2,
              parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }),
              let physical = UInt64(parts[0]), let logical = UInt32(parts[1]) else { return nil }
        self.init(physicalMillis: physical, logical: logical)
    }

    public var description: String { "\(physicalMillis):\(logical)" }

    public static func < (a: HLC, b: HLC) -> Bool {
        (a.physicalMillis, a.logical) < (b.physicalMillis, b.logical)
    }
}

/// Why a remote timestamp was refused.
public enum ClockError: Error, Equatable, Sendable, CustomStringConvertible {
    case tooFarAhead(remote: HLC, localWallMillis: UInt64)

    public var description: String {
        switch self {
        case .tooFarAhead(let remote, let local):
            let ahead = Double(remote.physicalMillis - local) / 1000
            return "version \(remote) is \(ahead) s ahead of this node's clock (limit \(HybridClock.maxForwardDriftMillis / 1000) s); check the sender's clock"
        }
    }
}

/// The node's hybrid logical clock. A value type with no clock reads inside: wall time is
/// passed in, so tests and the simulator control it.
///
/// It never goes backwards and always exceeds every timestamp it issued or observed, so a
/// local write made after a remote one always wins over it.
public struct HybridClock: Sendable {
    /// A remote version this far ahead of our wall clock is refused (DESIGN.md section 3).
    public static let maxForwardDriftMillis: UInt64 = 60_000

    public private(set) var last: HLC

    public init(lastIssued: HLC = .zero) { last = lastIssued }

    /// A new timestamp for a local event, strictly greater than every one before.
    public mutating func tick(wallMillis: UInt64) -> HLC {
        if wallMillis > last.physicalMillis {
            last = HLC(physicalMillis: wallMillis, logical: 0)
        } else if last.logical == UInt32.max {
            // The counter is exhausted within this millisecond: borrow the next one.
            last = HLC(physicalMillis: last.physicalMillis + 1, logical: 0)
        } else {
            last.logical += 1
        }
        return last
    }

    /// Takes in a remote timestamp so that later local ones exceed it.
    public mutating func observe(_ remote: HLC, wallMillis: UInt64) throws(ClockError) {
        guard remote.physicalMillis <= wallMillis &+ HybridClock.maxForwardDriftMillis else {
            throw .tooFarAhead(remote: remote, localWallMillis: wallMillis)
        }
        if remote > last { last = remote }
    }
}
