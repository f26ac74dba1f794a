#if canImport(Glibc)
import Glibc
#endif

/// A point on CLOCK_MONOTONIC, in nanoseconds since an arbitrary origin (boot).
/// Timers use it, so wall-clock jumps never fire or delay them.
public struct Instant: Comparable, Hashable, Sendable {
    public var nanoseconds: UInt64

    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    /// Reads CLOCK_MONOTONIC.
    public static func now() -> Instant {
        var spec = timespec()
        // clock_gettime(CLOCK_MONOTONIC) cannot fail on Linux with a valid pointer.
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Instant(nanoseconds: UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec))
    }

    public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    /// Moves by a duration; saturates at 0 and at UInt64.max rather than trapping.
    public static func + (lhs: Instant, rhs: Duration) -> Instant {
        let delta = rhs.wholeNanoseconds
        if delta >= 0 {
            let (sum, overflow) = lhs.nanoseconds.addingReportingOverflow(UInt64(delta))
            return Instant(nanoseconds: overflow ? .max : sum)
        }
        let magnitude = delta.magnitude
        return Instant(nanoseconds: lhs.nanoseconds > magnitude ? lhs.nanoseconds - magnitude : 0)
    }

    /// `self - earlier`, negative if `earlier` is later.
    public func duration(since earlier: Instant) -> Duration {
        if nanoseconds >= earlier.nanoseconds {
            return .nanoseconds(Int64(clamping: nanoseconds - earlier.nanoseconds))
        }
        return .nanoseconds(-Int64(clamping: earlier.nanoseconds - nanoseconds))
    }
}

extension Duration {
    /// The duration in whole nanoseconds, clamped to Int64.
    var wholeNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return scaled.addingReportingOverflow(attoseconds / 1_000_000_000).overflow
            ? (seconds < 0 ? .min : .max)
            : scaled + attoseconds / 1_000_000_000
    }
}
