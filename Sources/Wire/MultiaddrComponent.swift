/// One `/protocol/value` step of a multiaddr (libp2p-wire.md §1.4).
/// Invariants not expressed by the types: `ip4` holds 4 bytes, `ip6` 16, and the string
/// values are non-empty and contain no `/`; the parsers guarantee them.
public enum MultiaddrComponent: Hashable, Sendable {
    case ip4([UInt8])
    case ip6([UInt8])
    case ip6zone(String)
    case tcp(UInt16)
    case udp(UInt16)
    case dns(String)
    case dns4(String)
    case dns6(String)
    case dnsaddr(String)
    /// QUIC draft-29 (`/quic`); only for recognising old addresses.
    case quic
    case quicV1
    case p2p(PeerID)
    case p2pCircuit
    case tls
    case noise
    case ws
    case wss
    case webtransport
    case webrtcDirect
    case webrtc

    /// The protocol name used in the text form.
    public var protocolName: String {
        switch self {
        case .ip4: "ip4"
        case .ip6: "ip6"
        case .ip6zone: "ip6zone"
        case .tcp: "tcp"
        case .udp: "udp"
        case .dns: "dns"
        case .dns4: "dns4"
        case .dns6: "dns6"
        case .dnsaddr: "dnsaddr"
        case .quic: "quic"
        case .quicV1: "quic-v1"
        case .p2p: "p2p"
        case .p2pCircuit: "p2p-circuit"
        case .tls: "tls"
        case .noise: "noise"
        case .ws: "ws"
        case .wss: "wss"
        case .webtransport: "webtransport"
        case .webrtcDirect: "webrtc-direct"
        case .webrtc: "webrtc"
        }
    }

    /// The multicodec code used in the binary form.
    public var code: UInt64 {
        guard let proto = MultiaddrProtocol.named(protocolName) else {
            preconditionFailure("MultiaddrComponent.\(protocolName) is missing from MultiaddrProtocol.all")
        }
        return proto.code
    }

    /// The value segment of the text form, or nil for protocols without one.
    public var valueText: String? {
        switch self {
        case .ip4(let b): IPAddressText.formatIPv4(b)
        case .ip6(let b): IPAddressText.formatIPv6(b)
        case .tcp(let port), .udp(let port): String(port)
        case .ip6zone(let s), .dns(let s), .dns4(let s), .dns6(let s), .dnsaddr(let s): s
        case .p2p(let peer): peer.description
        case .quic, .quicV1, .p2pCircuit, .tls, .noise, .ws, .wss, .webtransport, .webrtcDirect, .webrtc: nil
        }
    }

    /// The raw value bytes of the binary form, before any length prefix.
    var valueBytes: [UInt8] {
        switch self {
        case .ip4(let b):
            precondition(b.count == 4, "MultiaddrComponent.ip4 holds \(b.count) bytes, not 4")
            return b
        case .ip6(let b):
            precondition(b.count == 16, "MultiaddrComponent.ip6 holds \(b.count) bytes, not 16")
            return b
        case .tcp(let port), .udp(let port): return [UInt8(port >> 8), UInt8(port & 0xff)]
        case .ip6zone(let s), .dns(let s), .dns4(let s), .dns6(let s), .dnsaddr(let s): return Array(s.utf8)
        // The binary value is always the multihash, even if the text used a CID (§1.4).
        case .p2p(let peer): return peer.bytes
        case .quic, .quicV1, .p2pCircuit, .tls, .noise, .ws, .wss, .webtransport, .webrtcDirect, .webrtc: return []
        }
    }

    /// Appends `uvarint(code) ‖ value` (value length-prefixed for variable-size protocols).
    func append(to out: inout [UInt8]) {
        Varint.append(code, to: &out)
        let value = valueBytes
        if case .lengthPrefixed = MultiaddrProtocol.withCode(code)?.size {
            Varint.append(UInt64(value.count), to: &out)
        }
        out += value
    }

    /// Builds a component from its protocol and text value; the error is the problem only,
    /// the caller adds the whole input.
    static func parse(_ proto: MultiaddrProtocol, text value: Substring?) throws(MultiaddrProblem) -> MultiaddrComponent {
        if case .none = proto.size { return try parse(proto, bytes: []) }
        guard let value else { throw .missingValue(protocol: proto.name) }
        func invalid(_ expected: String) -> MultiaddrProblem {
            .invalidValue(protocol: proto.name, value: String(value), expected: expected)
        }
        switch proto.name {
        case "ip4":
            guard let b = IPAddressText.parseIPv4(value) else { throw invalid("an IPv4 address") }
            return .ip4(b)
        case "ip6":
            guard let b = IPAddressText.parseIPv6(value) else { throw invalid("an IPv6 address") }
            return .ip6(b)
        case "tcp", "udp":
            guard !value.isEmpty, value.utf8.count <= 5, value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  let port = UInt16(value) else { throw invalid("a port number (0-65535)") }
            return proto.name == "tcp" ? .tcp(port) : .udp(port)
        case "p2p":
            do { return .p2p(try PeerID(String(value))) } catch {
                throw invalid("a peer ID (\(error))")
            }
        default:
            guard !value.isEmpty else { throw invalid("a valid /\(proto.name) value (it is empty)") }
            return try parse(proto, bytes: Array(value.utf8))
        }
    }

    /// Builds a component from its protocol and binary value (without length prefix).
    static func parse(_ proto: MultiaddrProtocol, bytes: [UInt8]) throws(MultiaddrProblem) -> MultiaddrComponent {
        func invalid(_ expected: String) -> MultiaddrProblem {
            .invalidValue(protocol: proto.name, value: PeerID.hexPreview(bytes), expected: expected)
        }
        func port() -> UInt16 { UInt16(bytes[0]) << 8 | UInt16(bytes[1]) }
        func name() throws(MultiaddrProblem) -> String {
            // Names must survive the text form: valid UTF-8, non-empty, no "/".
            guard !bytes.isEmpty, !bytes.contains(UInt8(ascii: "/")),
                  let s = String(validating: bytes, as: UTF8.self) else {
                throw invalid("a valid /\(proto.name) value (non-empty UTF-8 without \"/\")")
            }
            return s
        }
        switch proto.name {
        case "ip4": return .ip4(bytes)
        case "ip6": return .ip6(bytes)
        case "tcp": return .tcp(port())
        case "udp": return .udp(port())
        case "ip6zone": return .ip6zone(try name())
        case "dns": return .dns(try name())
        case "dns4": return .dns4(try name())
        case "dns6": return .dns6(try name())
        case "dnsaddr": return .dnsaddr(try name())
        case "p2p":
            do { return .p2p(try PeerID(bytes: bytes)) } catch { throw invalid("a peer ID multihash (\(error))") }
        case "quic": return .quic
        case "quic-v1": return .quicV1
        case "p2p-circuit": return .p2pCircuit
        case "tls": return .tls
        case "noise": return .noise
        case "ws": return .ws
        case "wss": return .wss
        case "webtransport": return .webtransport
        case "webrtc-direct": return .webrtcDirect
        case "webrtc": return .webrtc
        default: preconditionFailure("MultiaddrProtocol \(proto.name) has no MultiaddrComponent case")
        }
    }
}
