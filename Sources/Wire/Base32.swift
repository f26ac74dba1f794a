/// RFC 4648 base32, lowercase, no padding: the multibase `b` encoding (libp2p-wire.md §1.3)
/// used for CIDv1 peer IDs (`bafz…`).
public enum Base32 {
    static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 8 + 4) / 5)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                out.append(alphabet[Int((buffer >> UInt32(bits)) & 0x1f)])
            }
        }
        if bits > 0 { out.append(alphabet[Int((buffer << UInt32(5 - bits)) & 0x1f)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes lowercase or uppercase base32 without padding. Rejects characters outside
    /// the alphabet, impossible lengths, and non-zero leftover bits (so each byte string
    /// has exactly one text form).
    public static func decode(_ text: String) throws(Base32Error) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count * 5 / 8)
        var buffer: UInt32 = 0
        var bits = 0
        for (offset, c) in text.utf8.enumerated() {
            let value: UInt8
            switch c {
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = c - UInt8(ascii: "a")
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = c - UInt8(ascii: "A")
            case UInt8(ascii: "2")...UInt8(ascii: "7"): value = c - UInt8(ascii: "2") + 26
            default: throw .invalidCharacter(BaseX.character(at: offset, in: text), offset: offset)
            }
            buffer = (buffer << 5) | UInt32(value)
            bits += 5
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
            buffer &= (1 << UInt32(bits)) - 1
        }
        // Unpadded base32 leaves 0, 2, 4, 1 or 3 spare bits; 5 or more means a stray character.
        guard bits < 5 else { throw .invalidLength(text.utf8.count) }
        guard buffer == 0 else { throw .nonZeroPadding }
        return out
    }
}
