import Wire
/// RFC 3339 UTC timestamps with milliseconds, as the seed writes them ("2026-11-25T12:00:00.123Z"):
/// the one place that formats and parses them (gossip write messages, log lines, `last_sync`).
enum Timestamp {
    /// The same text as `iso8601(millis:)`, appended as bytes (no intermediate strings: it is
    /// written once per replicated write).
    static func appendISO8601(millis: UInt64, to out: inout [UInt8]) {
        let seconds = Int64(millis / 1000)
        let rest = seconds % 86400
        let (y, m, d) = CivilDate.civil(fromDays: seconds / 86400)
        func digits(_ n: Int64, _ width: Int) {
            var divisor: Int64 = 1
            for _ in 1..<width { divisor *= 10 }
            var n = n
            // A year past 9999 keeps all its digits, as `iso8601` does.
            while n / divisor >= 10 { divisor *= 10 }
            while divisor > 0 {
                out.append(0x30 + UInt8(n / divisor))
                n %= divisor
                divisor /= 10
            }
        }
        digits(y, 4); out.append(UInt8(ascii: "-")); digits(m, 2); out.append(UInt8(ascii: "-")); digits(d, 2)
        out.append(UInt8(ascii: "T")); digits(rest / 3600, 2); out.append(UInt8(ascii: ":")); digits(rest % 3600 / 60, 2)
        out.append(UInt8(ascii: ":")); digits(rest % 60, 2); out.append(UInt8(ascii: ".")); digits(Int64(millis % 1000), 3)
        out.append(UInt8(ascii: "Z"))
    }

    static func iso8601(millis: UInt64) -> String {
        let seconds = Int64(millis / 1000)
        let days = seconds / 86400
        let rest = seconds % 86400
        let (y, m, d) = CivilDate.civil(fromDays: days)
        func pad(_ n: Int64, _ width: Int) -> String {
            let s = String(n)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(rest / 3600, 2)):\(pad(rest % 3600 / 60, 2)):\(pad(rest % 60, 2)).\(pad(Int64(millis % 1000), 3))Z"
    }

    /// Accepts `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`; nil for anything else or before 1970.
    static func parseISO8601(_ text: String) -> UInt64? {
        let b = Array(text.utf8)
        func num(_ from: Int, _ count: Int) -> Int64? {
            guard from + count <= b.count else { return nil }
            var n: Int64 = 0
            for c in b[from..<(from + count)] {
                guard c >= 48, c <= 57 else { return nil }
                n = n * 10 + Int64(c - 48)
            }
            return n
        }
        guard b.count >= 20, b[4] == 45, b[7] == 45, b[10] == 84 || b[10] == 116 || b[10] == 32, b[13] == 58, b[16] == 58,
              let y = num(0, 4), let mo = num(5, 2), let d = num(8, 2), let h = num(11, 2), let mi = num(14, 2), let s = num(17, 2),
              (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s < 61 else { return nil }
        var i = 19
        var millis: Int64 = 0
        if b[i] == 46 {
            i += 1
            var digits = 0
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                if digits < 3 { millis = millis * 10 + Int64(b[i] - 48) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            if digits < 3 { for _ in digits..<3 { millis *= 10 } }
        }
        guard i < b.count else { return nil }
        var offset: Int64 = 0
        if b[i] == 90 || b[i] == 122 {
            i += 1
        } else if b[i] == 43 || b[i] == 45, let oh = num(i + 1, 2), i + 3 < b.count, b[i + 3] == 58, let om = num(i + 4, 2) {
            offset = (oh * 60 + om) * 60 * (b[i] == 43 ? 1 : -1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let total = (CivilDate.days(fromCivil: y, mo, d) * 86400 + h * 3600 + mi * 60 + min(s, 59) - offset) * 1000 + millis
        return total >= 0 ? UInt64(total) : nil
    }
}
