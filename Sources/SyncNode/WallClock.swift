#if canImport(Glibc)
import Glibc
#endif

/// Reads of the real-time clock, kept in one place. Versions and logs use wall time;
/// timers use the Reactor's monotonic clock. `Timestamp` formats the
/// wall time as text.
public enum WallClock {
    /// Milliseconds since the Unix epoch.
    public static func nowMillis() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) * 1000 + UInt64(ts.tv_nsec) / 1_000_000
    }
}
