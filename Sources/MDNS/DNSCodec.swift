extension DNSMessage {
    /// Limits for decoding: a legitimate mDNS packet is far below them (RFC 6762 allows 9000 bytes).
    public static let maxPacketBytes = 9000
    public static let maxRecords = 256
    /// Compression pointers followed while reading one name.
    static let maxPointerJumps = 32

    // MARK: - Encoding

    /// The wire bytes, names uncompressed. Throws for a label over 63 bytes, a name over 255
    /// or a TXT string over 255 bytes: the caller built something DNS cannot carry.
    public func encoded() throws(DNSError) -> [UInt8] {
        var out: [UInt8] = []
        func u16(_ v: UInt16) { out.append(UInt8(v >> 8)); out.append(UInt8(v & 0xff)) }
        func u32(_ v: UInt32) { u16(UInt16(v >> 16)); u16(UInt16(v & 0xffff)) }
        u16(id); u16(flags)
        u16(UInt16(questions.count)); u16(UInt16(answers.count)); u16(UInt16(authorities.count)); u16(UInt16(additionals.count))
        for q in questions {
            out += try Self.encodeName(q.name)
            u16(q.type)
            u16(q.rrClass | (q.unicastResponse ? 0x8000 : 0))
        }
        for r in answers + authorities + additionals {
            out += try Self.encodeName(r.name)
            u16(r.type)
            u16(r.rrClass | (r.cacheFlush ? 0x8000 : 0))
            u32(r.ttl)
            let data = try Self.encodeData(r.data)
            guard data.count <= 0xffff else { throw .tooLarge("record data of \(data.count) bytes") }
            u16(UInt16(data.count))
            out += data
        }
        return out
    }

    static func encodeName(_ name: DNSName) throws(DNSError) -> [UInt8] {
        var out: [UInt8] = []
        for label in name.labels {
            let bytes = Array(label.utf8)
            guard !bytes.isEmpty, bytes.count <= 63 else { throw .badName("label \"\(label)\" is \(bytes.count) bytes (1 to 63)") }
            out.append(UInt8(bytes.count))
            out += bytes
        }
        out.append(0)
        guard out.count <= 255 else { throw .badName("\(name) is \(out.count) bytes (at most 255)") }
        return out
    }

    static func encodeData(_ data: DNSRecord.Data) throws(DNSError) -> [UInt8] {
        switch data {
        case .ptr(let name): return try encodeName(name)
        case .srv(let priority, let weight, let port, let target):
            var out: [UInt8] = []
            for v in [priority, weight, port] { out.append(UInt8(v >> 8)); out.append(UInt8(v & 0xff)) }
            return out + (try encodeName(target))
        case .txt(let strings):
            // An empty TXT record is one empty string (RFC 6763 section 6.1).
            if strings.isEmpty { return [0] }
            var out: [UInt8] = []
            for s in strings {
                guard s.count <= 255 else { throw .badRecord("TXT string of \(s.count) bytes (at most 255)") }
                out.append(UInt8(s.count))
                out += s
            }
            return out
        case .a(let bytes):
            guard bytes.count == 4 else { throw .badRecord("A record of \(bytes.count) bytes") }
            return bytes
        case .aaaa(let bytes):
            guard bytes.count == 16 else { throw .badRecord("AAAA record of \(bytes.count) bytes") }
            return bytes
        case .other(_, let bytes): return bytes
        }
    }

    // MARK: - Decoding

    public init(decoding packet: [UInt8]) throws(DNSError) {
        guard packet.count <= Self.maxPacketBytes else { throw .tooLarge("\(packet.count) bytes") }
        var reader = DNSReader(packet)
        id = try reader.u16("header")
        flags = try reader.u16("header")
        let qd = Int(try reader.u16("header")), an = Int(try reader.u16("header"))
        let ns = Int(try reader.u16("header")), ar = Int(try reader.u16("header"))
        guard qd + an + ns + ar <= Self.maxRecords else { throw .tooLarge("\(qd + an + ns + ar) questions and records (at most \(Self.maxRecords))") }
        for _ in 0..<qd {
            let name = try reader.name()
            let type = try reader.u16("question")
            let cls = try reader.u16("question")
            var q = DNSQuestion(name: name, type: type, unicastResponse: cls & 0x8000 != 0)
            q.rrClass = cls & 0x7fff
            questions.append(q)
        }
        answers = try (0..<an).map { _ throws(DNSError) in try reader.record() }
        authorities = try (0..<ns).map { _ throws(DNSError) in try reader.record() }
        additionals = try (0..<ar).map { _ throws(DNSError) in try reader.record() }
    }
}

/// A cursor over a packet; every read checks the bounds.
struct DNSReader {
    let packet: [UInt8]
    var offset = 0

    init(_ packet: [UInt8]) { self.packet = packet }

    mutating func u8(_ what: String) throws(DNSError) -> UInt8 {
        guard offset < packet.count else { throw .truncated(what) }
        defer { offset += 1 }
        return packet[offset]
    }

    mutating func u16(_ what: String) throws(DNSError) -> UInt16 {
        UInt16(try u8(what)) << 8 | UInt16(try u8(what))
    }

    mutating func u32(_ what: String) throws(DNSError) -> UInt32 {
        UInt32(try u16(what)) << 16 | UInt32(try u16(what))
    }

    mutating func bytes(_ count: Int, _ what: String) throws(DNSError) -> [UInt8] {
        guard count >= 0, offset + count <= packet.count else { throw .truncated(what) }
        defer { offset += count }
        return Array(packet[offset..<(offset + count)])
    }

    /// A name at the cursor, following compression pointers. A pointer must point strictly
    /// before the label it replaces, so pointers cannot loop; their number is bounded too.
    mutating func name() throws(DNSError) -> DNSName {
        var labels: [String] = []
        var length = 1
        var position = offset
        var jumped = false
        var jumps = 0
        while true {
            guard position < packet.count else { throw .truncated("a name") }
            let byte = packet[position]
            switch byte & 0xc0 {
            case 0x00:
                if byte == 0 {
                    if !jumped { offset = position + 1 }
                    return DNSName(labels)
                }
                let count = Int(byte)
                guard position + 1 + count <= packet.count else { throw .truncated("a label") }
                length += count + 1
                guard length <= 255 else { throw .badName("longer than 255 bytes") }
                labels.append(String(decoding: packet[(position + 1)...(position + count)], as: UTF8.self))
                position += 1 + count
            case 0xc0:
                guard position + 1 < packet.count else { throw .truncated("a compression pointer") }
                let target = Int(byte & 0x3f) << 8 | Int(packet[position + 1])
                guard target < position else { throw .badName("compression pointer does not point backwards") }
                jumps += 1
                guard jumps <= DNSMessage.maxPointerJumps else { throw .badName("too many compression pointers") }
                if !jumped { offset = position + 2 }
                jumped = true
                position = target
            default:
                throw .badName("unsupported label type 0x\(String(byte, radix: 16))")
            }
        }
    }

    mutating func record() throws(DNSError) -> DNSRecord {
        let name = try self.name()
        let type = try u16("a record")
        let cls = try u16("a record")
        let ttl = try u32("a record")
        let length = Int(try u16("a record"))
        guard offset + length <= packet.count else { throw .truncated("record data") }
        let end = offset + length
        let data: DNSRecord.Data
        switch type {
        case DNSType.ptr:
            data = .ptr(try self.name())
        case DNSType.srv:
            let priority = try u16("SRV"), weight = try u16("SRV"), port = try u16("SRV")
            data = .srv(priority: priority, weight: weight, port: port, target: try self.name())
        case DNSType.txt:
            var strings: [[UInt8]] = []
            while offset < end {
                let count = Int(try u8("TXT"))
                guard offset + count <= end else { throw .badRecord("TXT string runs past its record") }
                strings.append(try bytes(count, "TXT"))
            }
            data = .txt(strings)
        case DNSType.a:
            guard length == 4 else { throw .badRecord("A record of \(length) bytes") }
            data = .a(try bytes(4, "A"))
        case DNSType.aaaa:
            guard length == 16 else { throw .badRecord("AAAA record of \(length) bytes") }
            data = .aaaa(try bytes(16, "AAAA"))
        default:
            data = .other(type: type, bytes: try bytes(length, "record data"))
        }
        guard offset == end else { throw .badRecord("record data of type \(type) is \(length) bytes but its content is not") }
        var record = DNSRecord(name: name, data: data, ttl: ttl, cacheFlush: cls & 0x8000 != 0)
        record.rrClass = cls & 0x7fff
        return record
    }
}
