/// A DNS message as mDNS uses it (RFC 1035 section 4, RFC 6762): header, questions and
/// resource records with PTR, SRV, TXT, A and AAAA data; anything else is kept as raw bytes.
/// Decoding follows compression pointers (only backwards, a bounded number of times) and
/// refuses what is malformed or too large; encoding writes names uncompressed.
public struct DNSMessage: Equatable, Sendable {
    public var id: UInt16 = 0
    /// QR, opcode, AA, TC, RD, RA, Z, RCODE. A query is 0; an mDNS response 0x8400 (QR | AA).
    public var flags: UInt16 = 0
    public var questions: [DNSQuestion] = []
    public var answers: [DNSRecord] = []
    public var authorities: [DNSRecord] = []
    public var additionals: [DNSRecord] = []

    public static let responseFlags: UInt16 = 0x8400
    public var isResponse: Bool { flags & 0x8000 != 0 }

    public init(id: UInt16 = 0, flags: UInt16 = 0, questions: [DNSQuestion] = [], answers: [DNSRecord] = [],
                authorities: [DNSRecord] = [], additionals: [DNSRecord] = []) {
        self.id = id
        self.flags = flags
        self.questions = questions
        self.answers = answers
        self.authorities = authorities
        self.additionals = additionals
    }

    /// Every record of the message, answers first.
    public var records: [DNSRecord] { answers + authorities + additionals }
}

/// A name as its labels, compared without regard to ASCII case (RFC 1035 section 2.3.3).
public struct DNSName: Hashable, Sendable, CustomStringConvertible {
    public let labels: [String]

    public init(_ labels: [String]) { self.labels = labels }

    /// "a.b.local" or "a.b.local." (a trailing dot is allowed); labels may not contain dots.
    public init(_ text: String) {
        labels = text.split(separator: ".", omittingEmptySubsequences: true).map(String.init)
    }

    public var description: String { labels.joined(separator: ".") + "." }

    public static func == (a: DNSName, b: DNSName) -> Bool {
        a.labels.count == b.labels.count && zip(a.labels, b.labels).allSatisfy { $0.lowercased() == $1.lowercased() }
    }

    public func hash(into hasher: inout Hasher) {
        for label in labels { hasher.combine(label.lowercased()) }
    }

    /// The name with `prefix` in front: `DNSName("_p2p._udp.local").prepending("x")`.
    public func prepending(_ label: String) -> DNSName { DNSName([label] + labels) }

    /// True when this name ends with `suffix` (case-insensitive), e.g. `x._p2p._udp.local` and `_p2p._udp.local`.
    public func hasSuffix(_ suffix: DNSName) -> Bool {
        guard labels.count >= suffix.labels.count else { return false }
        return DNSName(Array(labels.suffix(suffix.labels.count))) == suffix
    }
}

public enum DNSType {
    public static let a: UInt16 = 1
    public static let ptr: UInt16 = 12
    public static let txt: UInt16 = 16
    public static let aaaa: UInt16 = 28
    public static let srv: UInt16 = 33
    public static let any: UInt16 = 255
}

public struct DNSQuestion: Equatable, Sendable {
    public var name: DNSName
    public var type: UInt16
    /// Class without the QU bit (class IN is 1).
    public var rrClass: UInt16 = 1
    /// mDNS "unicast response requested" (top bit of the class).
    public var unicastResponse = false

    public init(name: DNSName, type: UInt16, unicastResponse: Bool = false) {
        self.name = name
        self.type = type
        self.unicastResponse = unicastResponse
    }
}

public struct DNSRecord: Equatable, Sendable {
    public enum Data: Equatable, Sendable {
        case ptr(DNSName)
        case srv(priority: UInt16, weight: UInt16, port: UInt16, target: DNSName)
        /// Character-strings, each at most 255 bytes.
        case txt([[UInt8]])
        case a([UInt8])
        case aaaa([UInt8])
        case other(type: UInt16, bytes: [UInt8])

        public var type: UInt16 {
            switch self {
            case .ptr: DNSType.ptr
            case .srv: DNSType.srv
            case .txt: DNSType.txt
            case .a: DNSType.a
            case .aaaa: DNSType.aaaa
            case .other(let type, _): type
            }
        }
    }

    public var name: DNSName
    public var data: Data
    /// Class without the cache-flush bit.
    public var rrClass: UInt16 = 1
    /// mDNS cache-flush (top bit of the class): set on unique records (SRV, TXT, A, AAAA).
    public var cacheFlush = false
    /// Seconds; 0 is a goodbye.
    public var ttl: UInt32

    public init(name: DNSName, data: Data, ttl: UInt32, cacheFlush: Bool = false) {
        self.name = name
        self.data = data
        self.ttl = ttl
        self.cacheFlush = cacheFlush
    }

    public var type: UInt16 { data.type }

    /// TXT strings as text, for reading `key=value` pairs.
    public var txtStrings: [String] {
        guard case .txt(let strings) = data else { return [] }
        return strings.map { String(decoding: $0, as: UTF8.self) }
    }
}

/// Why a packet was refused.
public enum DNSError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncated(String)
    case badName(String)
    case tooLarge(String)
    case badRecord(String)

    public var description: String {
        switch self {
        case .truncated(let what): "DNS message truncated in \(what)"
        case .badName(let why): "bad DNS name: \(why)"
        case .tooLarge(let why): "DNS message too large: \(why)"
        case .badRecord(let why): "bad DNS record: \(why)"
        }
    }
}
