/// Text forms of IPv4 and IPv6 addresses for multiaddr `ip4` / `ip6` values (libp2p-wire.md §1.4).
/// Parsing accepts every RFC 4291 §2.2 form (full, `::`-compressed, trailing dotted quad);
/// output is the RFC 5952 canonical form, as go-multiaddr prints it. The one place that
/// formats addresses as text: other modules call these rather than joining bytes by hand.
public enum IPAddressText {
    /// Dotted quad to 4 bytes. Leading zeros are rejected (`01.2.3.4`) because some parsers
    /// read them as octal; go's `net.ParseIP` refuses them too.
    public static func parseIPv4<S: StringProtocol>(_ text: S) -> [UInt8]? {
        let parts = text.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
            if part.count > 1 && part.first == UInt8(ascii: "0") { return nil }
            let value = part.reduce(0) { $0 * 10 + Int($1 - 0x30) }
            guard value <= 255 else { return nil }
            out.append(UInt8(value))
        }
        return out
    }

    /// 4 bytes to a dotted quad (`192.168.1.20`).
    public static func formatIPv4<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        bytes.map { String($0) }.joined(separator: ".")
    }

    /// RFC 4291 text to 16 bytes. Zone suffixes (`%eth0`) are not accepted: multiaddr
    /// carries the zone in a separate `ip6zone` component.
    public static func parseIPv6<S: StringProtocol>(_ text: S) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count <= 45 else { return nil }  // longest form: 6 full groups + dotted quad
        var groups: [UInt16]
        if let gap = doubleColon(in: utf8) {
            let tailStart = gap + 2
            // A second "::" (or ":::") makes the address ambiguous.
            guard doubleColon(in: Array(utf8[tailStart...])) == nil,
                  !(tailStart < utf8.count && utf8[tailStart] == UInt8(ascii: ":")) else { return nil }
            let tail = Array(utf8[tailStart...])
            guard let head = parseGroups(Array(utf8[..<gap]), mayEndInIPv4: false),
                  let rest = parseGroups(tail, mayEndInIPv4: true),
                  head.count + rest.count <= 7 else { return nil }
            groups = head + [UInt16](repeating: 0, count: 8 - head.count - rest.count) + rest
        } else {
            guard let all = parseGroups(utf8, mayEndInIPv4: true), all.count == 8 else { return nil }
            groups = all
        }
        var out: [UInt8] = []
        out.reserveCapacity(16)
        for g in groups { out.append(UInt8(g >> 8)); out.append(UInt8(g & 0xff)) }
        return out
    }

    /// RFC 5952: lowercase, no leading zeros, the longest run (first on a tie) of two or more
    /// zero groups as `::`, and IPv4-mapped addresses as `::ffff:a.b.c.d` (§5).
    public static func formatIPv6(_ bytes: [UInt8]) -> String {
        precondition(bytes.count == 16, "an IPv6 address is 16 bytes, not \(bytes.count)")
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {
            return "::ffff:" + formatIPv4(bytes[12...])
        }
        let groups = (0..<8).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
        var bestStart = -1, bestLength = 0
        var i = 0
        while i < 8 {
            guard groups[i] == 0 else { i += 1; continue }
            var j = i
            while j < 8 && groups[j] == 0 { j += 1 }
            if j - i > bestLength { bestStart = i; bestLength = j - i }
            i = j
        }
        func hex(_ range: Range<Int>) -> String {
            groups[range].map { String($0, radix: 16) }.joined(separator: ":")
        }
        guard bestLength >= 2 else { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }

    /// Index of the first "::", if any.
    private static func doubleColon(in utf8: [UInt8]) -> Int? {
        guard utf8.count >= 2 else { return nil }
        for i in 0..<(utf8.count - 1) where utf8[i] == UInt8(ascii: ":") && utf8[i + 1] == UInt8(ascii: ":") {
            return i
        }
        return nil
    }

    /// Colon-separated hex groups (1-4 digits); the last may be a dotted quad (two groups)
    /// when `mayEndInIPv4`. Empty input is zero groups.
    private static func parseGroups(_ utf8: [UInt8], mayEndInIPv4: Bool) -> [UInt16]? {
        if utf8.isEmpty { return [] }
        let parts = utf8.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        var groups: [UInt16] = []
        for (index, part) in parts.enumerated() {
            if mayEndInIPv4 && index == parts.count - 1 && part.contains(UInt8(ascii: ".")) {
                guard let v4 = parseIPv4(String(decoding: part, as: UTF8.self)) else { return nil }
                groups.append(UInt16(v4[0]) << 8 | UInt16(v4[1]))
                groups.append(UInt16(v4[2]) << 8 | UInt16(v4[3]))
                continue
            }
            guard (1...4).contains(part.count) else { return nil }
            var value: UInt16 = 0
            for c in part {
                let digit: UInt8
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c - UInt8(ascii: "A") + 10
                default: return nil
                }
                value = value << 4 | UInt16(digit)
            }
            groups.append(value)
        }
        return groups
    }
}
