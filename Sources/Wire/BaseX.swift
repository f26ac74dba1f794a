/// Big-number base conversion shared by base58btc and base36 (libp2p-wire.md §1.3).
/// Leading zero bytes map one-to-one to leading copies of the alphabet's first character.
/// Quadratic in the length, which is fine for the short identifiers it is used for.
enum BaseX {
    static func encode(_ bytes: [UInt8], alphabet: [UInt8]) -> [UInt8] {
        let base = UInt32(alphabet.count)
        let zeros = bytes.prefix(while: { $0 == 0 }).count
        // Digits in the target base, least significant first.
        var digits: [UInt8] = []
        digits.reserveCapacity(bytes.count * 2)
        for byte in bytes[zeros...] {
            var carry = UInt32(byte)
            for i in digits.indices {
                carry += UInt32(digits[i]) << 8
                digits[i] = UInt8(carry % base)
                carry /= base
            }
            while carry > 0 {
                digits.append(UInt8(carry % base))
                carry /= base
            }
        }
        var out = [UInt8](repeating: alphabet[0], count: zeros)
        out.reserveCapacity(zeros + digits.count)
        for d in digits.reversed() { out.append(alphabet[Int(d)]) }
        return out
    }

    static func decode(_ text: String, alphabet: [UInt8]) throws(BaseXInvalidCharacter) -> [UInt8] {
        var table = [Int16](repeating: -1, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = Int16(i) }
        let base = UInt32(alphabet.count)
        let utf8 = Array(text.utf8)
        let zeros = utf8.prefix(while: { $0 == alphabet[0] }).count
        // Bytes, least significant first.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        for (offset, c) in utf8.enumerated() where offset >= zeros {
            let value = table[Int(c)]
            guard value >= 0 else {
                throw BaseXInvalidCharacter(character: character(at: offset, in: text), offset: offset)
            }
            var carry = UInt32(value)
            for i in bytes.indices {
                carry += UInt32(bytes[i]) * base
                bytes[i] = UInt8(truncatingIfNeeded: carry)
                carry >>= 8
            }
            while carry > 0 {
                bytes.append(UInt8(truncatingIfNeeded: carry))
                carry >>= 8
            }
        }
        return [UInt8](repeating: 0, count: zeros) + bytes.reversed()
    }

    /// The character containing UTF-8 byte `offset`, for error messages.
    static func character(at offset: Int, in text: String) -> Character {
        let utf8 = text.utf8
        let index = utf8.index(utf8.startIndex, offsetBy: offset)
        // Every alphabet character is ASCII, so the first bad byte starts a scalar; the
        // replacement character covers any other case without trapping.
        guard let scalarIndex = index.samePosition(in: text.unicodeScalars) else { return "\u{FFFD}" }
        return Character(text.unicodeScalars[scalarIndex])
    }
}
