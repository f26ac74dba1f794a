import Wire

/// `Record.timeReceived` text (libp2p-wire.md section 8.1: RFC 3339): UTC, with the fraction
/// of a second printed as go's `time.RFC3339Nano` prints it (trailing zeros and a bare point
/// dropped), e.g. `2026-11-25T12:00:00.5Z`. The calendar arithmetic is Wire's `CivilDate`,
/// shared with SyncNode's millisecond `Timestamp`.
enum KadTimestamp {
    /// `nanoseconds` since the Unix epoch, as UTC text.
    static func rfc3339(nanoseconds: UInt64) -> String {
        let seconds = Int64(nanoseconds / 1_000_000_000)
        let fraction = nanoseconds % 1_000_000_000
        let (y, m, d) = CivilDate.civil(fromDays: seconds / 86_400)
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
}
