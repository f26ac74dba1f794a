import Wire

/// multistream-select 1.0 message framing (libp2p-wire.md section 2, multiformats/multistream-select):
/// `uvarint(len(token) + 1) ‖ token ‖ "\n"`, the length counting the newline.
public enum MultistreamMessage {
    /// The protocol ID of multistream-select itself, sent first by both sides.
    public static let header = "/multistream/1.0.0"
    public static let notAvailable = "na"
    public static let list = "ls"

    /// go-multistream refuses messages over 1024 bytes; we refuse the same, so that a peer
    /// cannot make us buffer more than that while negotiating.
    public static let maxMessageBytes = 1024

    /// The framed message for `token`.
    public static func encode(_ token: String) -> [UInt8] {
        var out: [UInt8] = []
        let bytes = Array(token.utf8)
        Varint.append(UInt64(bytes.count + 1), to: &out)
        out += bytes
        out.append(0x0a)
        return out
    }

    /// Decodes one message from the front of `buffer`. Returns nil when more bytes are needed,
    /// else the token and the number of bytes it used.
    public static func decode(_ buffer: ArraySlice<UInt8>) throws(MultistreamError) -> (token: String, byteCount: Int)? {
        let prefix: (value: UInt64, byteCount: Int)?
        do {
            prefix = try Varint.decode(buffer)
        } catch {
            throw .malformedMessage("bad length prefix (\(error))")
        }
        guard let (length, prefixLength) = prefix else {
            // A length prefix of more than two bytes already means a message over 16 KiB.
            if buffer.count > 2 { throw .messageTooLong(Int.max) }
            return nil
        }
        guard length <= UInt64(maxMessageBytes) else { throw .messageTooLong(Int(clamping: length)) }
        guard length >= 1 else { throw .malformedMessage("empty message (length 0)") }
        let total = prefixLength + Int(length)
        guard buffer.count >= total else { return nil }
        let start = buffer.startIndex + prefixLength
        let end = buffer.startIndex + total
        guard buffer[end - 1] == 0x0a else { throw .malformedMessage("message does not end with a newline") }
        guard let token = String(validating: buffer[start..<(end - 1)], as: UTF8.self) else {
            throw .malformedMessage("message is not UTF-8")
        }
        return (token, total)
    }
}
