/// One yamux frame (hashicorp/yamux spec.md; libp2p-wire.md section 4.1):
/// ```
/// | version (1) | type (1) | flags (2) | stream ID (4) | length (4) |   big-endian, 12 bytes
/// ```
/// followed by `length` bytes of body for Data frames only. For WindowUpdate `length` is the
/// window delta, for Ping the opaque value, for GoAway the error code.
public struct YamuxFrame: Equatable, Sendable {
    public enum Kind: UInt8, Sendable { case data = 0, windowUpdate = 1, ping = 2, goAway = 3 }

    public struct Flags: OptionSet, Equatable, Sendable {
        public let rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }
        public static let syn = Flags(rawValue: 0x1)
        public static let ack = Flags(rawValue: 0x2)
        public static let fin = Flags(rawValue: 0x4)
        public static let rst = Flags(rawValue: 0x8)
    }

    public static let headerLength = 12
    /// rust-yamux refuses data bodies over 1 MiB; we refuse the same from peers.
    public static let maxReceivedBody = 1 << 20

    public var kind: Kind
    public var flags: Flags
    public var streamID: UInt32
    public var length: UInt32
    public var body: [UInt8]

    public init(kind: Kind, flags: Flags = [], streamID: UInt32, length: UInt32, body: [UInt8] = []) {
        self.kind = kind
        self.flags = flags
        self.streamID = streamID
        self.length = length
        self.body = body
    }

    public static func data(_ body: [UInt8], streamID: UInt32, flags: Flags = []) -> YamuxFrame {
        YamuxFrame(kind: .data, flags: flags, streamID: streamID, length: UInt32(body.count), body: body)
    }

    public func encode(into out: inout [UInt8]) {
        YamuxFrame.encodeHeader(kind: kind, flags: flags, streamID: streamID, length: length, into: &out)
        out += body
    }

    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        encode(into: &out)
        return out
    }

    /// Decodes one frame at the front of `bytes`; nil if more bytes are needed.
    public static func decode(_ bytes: ArraySlice<UInt8>) throws(YamuxError) -> (frame: YamuxFrame, byteCount: Int)? {
        guard let header = try Header.decode(bytes) else { return nil }
        guard header.kind == .data else {
            return (YamuxFrame(kind: header.kind, flags: header.flags, streamID: header.streamID, length: header.length), headerLength)
        }
        let b = bytes.startIndex
        let body = Array(bytes[(b + headerLength)..<(b + header.frameCount)])
        return (YamuxFrame(kind: header.kind, flags: header.flags, streamID: header.streamID, length: header.length, body: body), header.frameCount)
    }

    /// The 12-byte header, decoded without touching the body. `decode` returns nil until the
    /// whole frame (header and, for Data, body) is in `bytes`.
    struct Header {
        var kind: Kind
        var flags: Flags
        var streamID: UInt32
        var length: UInt32
        /// Header plus body for Data, the header alone otherwise.
        var frameCount: Int { kind == .data ? headerLength + Int(length) : headerLength }

        static func decode(_ bytes: ArraySlice<UInt8>) throws(YamuxError) -> Header? {
            guard bytes.count >= headerLength else { return nil }
            let b = bytes.startIndex
            guard bytes[b] == 0 else { throw .unsupportedVersion(bytes[b]) }
            guard let kind = Kind(rawValue: bytes[b + 1]) else { throw .unknownFrameType(bytes[b + 1]) }
            let flags = Flags(rawValue: UInt16(bytes[b + 2]) << 8 | UInt16(bytes[b + 3]))
            var streamID: UInt32 = 0
            var length: UInt32 = 0
            for i in 0..<4 {
                streamID = streamID << 8 | UInt32(bytes[b + 4 + i])
                length = length << 8 | UInt32(bytes[b + 8 + i])
            }
            let header = Header(kind: kind, flags: flags, streamID: streamID, length: length)
            guard kind == .data else { return header }
            guard Int(length) <= maxReceivedBody else { throw .frameTooLarge(Int(length)) }
            guard bytes.count >= header.frameCount else { return nil }
            return header
        }
    }

    /// Appends a 12-byte header (the body, if any, is the caller's to append).
    static func encodeHeader(kind: Kind, flags: Flags, streamID: UInt32, length: UInt32, into out: inout [UInt8]) {
        out.append(0)
        out.append(kind.rawValue)
        out.append(UInt8(flags.rawValue >> 8)); out.append(UInt8(flags.rawValue & 0xff))
        for shift in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: streamID >> UInt32(shift))) }
        for shift in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: length >> UInt32(shift))) }
    }
}
