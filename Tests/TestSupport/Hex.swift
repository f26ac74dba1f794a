/// Hex helpers for writing spec vectors in tests as they appear in the specs.
public enum Hex {
    /// Decodes hex text; spaces and newlines are ignored so vectors can be split for reading.
    /// Traps on bad input: a malformed vector is a bug in the test itself.
    public static func bytes(_ text: String) -> [UInt8] {
        let digits = text.unicodeScalars.filter { !$0.properties.isWhitespace }
        precondition(digits.count % 2 == 0, "odd-length hex vector: \(text)")
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var high: UInt8? = nil
        for scalar in digits {
            guard let nibble = UInt8(String(scalar), radix: 16) else {
                preconditionFailure("bad hex digit \(scalar) in vector: \(text)")
            }
            if let h = high { out.append(h << 4 | nibble); high = nil } else { high = nibble }
        }
        return out
    }

    public static func string<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        let table = Array("0123456789abcdef".utf8)
        var chars: [UInt8] = []
        chars.reserveCapacity(bytes.count * 2)
        for b in bytes { chars.append(table[Int(b >> 4)]); chars.append(table[Int(b & 0xf)]) }
        return String(decoding: chars, as: UTF8.self)
    }
}

extension Collection where Element == UInt8 {
    /// Lowercase hex, for readable `#expect` failures.
    public var hex: String { Hex.string(self) }
}
