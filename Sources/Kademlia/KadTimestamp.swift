/// `Record.timeReceived` text (libp2p-wire.md section 8.1: RFC 3339): UTC, with the fraction
/// of a second printed as go's `time.RFC3339Nano` prints it (trailing zeros and a bare point
/// dropped), e.g. `2026-11-25T12:00:00.5Z`. SyncNode has its own millisecond formatter, but
/// Kademlia sits below SyncNode and may not import it.
enum KadTimestamp {
    /// `nanoseconds` since the Unix epoch, as UTC text.
    static func rfc3339(nanoseconds: UInt64) -> String {
        let seconds = Int64(nanoseconds / 1_000_000_000)
        let fraction = nanoseconds % 1_000_000_000
        let (y, m, d) = civil(fromDays: seconds / 86_400)
        let rest = seconds % 86_400
        var text = "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(rest / 3600, 2)):\(pad(rest % 3600 / 60, 2)):\(pad(rest % 60, 2))"
        if fraction != 0 {
            var digits = pad(Int64(fraction), 9)
            while digits.hasSuffix("0") { digits.removeLast() }
            text += "." + digits
        }
        return text + "Z"
    }

    private static func pad(_ n: Int64, _ width: Int) -> String {
        let s = String(n)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }

    /// Howard Hinnant's civil-from-days (proleptic Gregorian), as in SyncNode's `Timestamp`.
    private static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, m, d)
    }
}
