/// A multiaddr (libp2p-wire.md §1.4): a list of protocol components with a text form
/// (`/ip4/1.2.3.4/tcp/4001/p2p/12D3KooW…`) and a binary form (`uvarint(code) ‖ value` each).
/// Both parsers reject unknown protocols, since a component of unknown size cannot be skipped.
public struct Multiaddr: Hashable, Sendable, CustomStringConvertible {
    public var components: [MultiaddrComponent]

    public init(components: [MultiaddrComponent]) { self.components = components }

    /// Parses the text form. `ipfs` is read as `p2p`, and a `p2p` value may be a CID.
    public init(_ text: String) throws(MultiaddrError) {
        do {
            components = try Self.parseText(text)
        } catch {
            throw .invalidText(text, error)
        }
    }

    /// Parses the binary form, as carried by identify, Kad, relay, AutoNAT and DCUtR.
    public init(bytes: [UInt8]) throws(MultiaddrError) {
        do {
            components = try Self.parseBinary(bytes)
        } catch {
            throw .invalidBinary(hex: PeerID.hexPreview(bytes), error)
        }
    }

    /// The binary form.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        for c in components { c.append(to: &out) }
        return out
    }

    /// The text form, with canonical values (RFC 5952 IPv6, base58 peer IDs, `p2p` not `ipfs`).
    public var description: String {
        var out = ""
        for c in components {
            out += "/" + c.protocolName
            if let value = c.valueText { out += "/" + value }
        }
        return out
    }

    public func appending(_ component: MultiaddrComponent) -> Multiaddr {
        Multiaddr(components: components + [component])
    }

    /// The peer ID of a trailing `/p2p/…` component, if there is one.
    public var peerID: PeerID? {
        if case .p2p(let peer) = components.last { return peer }
        return nil
    }

    /// The address without a trailing `/p2p/…` component (what a transport dials).
    public var withoutPeerID: Multiaddr {
        peerID == nil ? self : Multiaddr(components: components.dropLast())
    }

    private static func parseText(_ text: String) throws(MultiaddrProblem) -> [MultiaddrComponent] {
        guard !text.isEmpty else { throw .empty }
        var segments = text.split(separator: "/", omittingEmptySubsequences: false)[...]
        guard segments.removeFirst().isEmpty else { throw .missingLeadingSlash }
        var components: [MultiaddrComponent] = []
        while let name = segments.popFirst() {
            guard !name.isEmpty else { throw .emptySegment }
            guard let proto = MultiaddrProtocol.named(name) else { throw .unknownProtocolName(String(name)) }
            let value: Substring?
            if case .none = proto.size { value = nil } else { value = segments.popFirst() }
            components.append(try MultiaddrComponent.parse(proto, text: value))
        }
        guard !components.isEmpty else { throw .emptySegment }
        return components
    }

    private static func parseBinary(_ bytes: [UInt8]) throws(MultiaddrProblem) -> [MultiaddrComponent] {
        guard !bytes.isEmpty else { throw .empty }
        var position = 0
        var components: [MultiaddrComponent] = []
        func varint() throws(MultiaddrProblem) -> UInt64 {
            let decoded = try readVarint(bytes[position...])
            position += decoded.byteCount
            return decoded.value
        }
        while position < bytes.count {
            let code = try varint()
            guard let proto = MultiaddrProtocol.withCode(code) else { throw .unknownProtocolCode(code) }
            let length: UInt64
            switch proto.size {
            case .none: length = 0
            case .fixed(let n): length = UInt64(n)
            case .lengthPrefixed: length = try varint()
            }
            let available = bytes.count - position
            guard length <= UInt64(available) else {
                throw .truncatedValue(protocol: proto.name, needed: length, available: available)
            }
            let value = Array(bytes[position..<(position + Int(length))])
            position += Int(length)
            components.append(try MultiaddrComponent.parse(proto, bytes: value))
        }
        return components
    }

    private static func readVarint(_ bytes: ArraySlice<UInt8>) throws(MultiaddrProblem) -> (value: UInt64, byteCount: Int) {
        let decoded: (value: UInt64, byteCount: Int)?
        do { decoded = try Varint.decode(bytes) } catch { throw .invalidVarint(error) }
        guard let decoded else { throw .truncatedVarint }
        return decoded
    }
}
