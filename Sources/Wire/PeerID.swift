/// A libp2p peer ID (libp2p-wire.md §1.6): the multihash of a serialized `PublicKey` —
/// identity when the key encodes to at most 42 bytes (Ed25519, secp256k1), else sha2-256.
/// Displays as legacy base58btc (`12D3KooW…`, `Qm…`); parses that and CIDv1 (`bafz…`).
public struct PeerID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The multihash: `uvarint(code) ‖ uvarint(length) ‖ digest`.
    public let bytes: [UInt8]

    /// Keys that encode to this many bytes or fewer are inlined with the identity hash.
    public static let maxInlineKeyLength = 42
    /// Generous bound on text forms (a sha256 CID in base32 is 59 characters), checked
    /// before any quadratic base conversion runs.
    static let maxTextLength = 128
    static let identityCode: UInt64 = 0x00
    static let sha256Code: UInt64 = 0x12
    static let cidV1: UInt64 = 0x01
    static let libp2pKeyCodec: UInt64 = 0x72

    /// Hashes the bytes in one call (the synthesized version feeds them one by one, which
    /// showed up in profiles of the gossip router, where peer IDs key every table).
    public func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    /// The peer ID of `publicKey`. `sha256` hashes keys that encode to more than
    /// `maxInlineKeyLength` bytes (RSA, ECDSA); it is injected so that Wire needs no crypto
    /// of its own: callers pass `P2PCrypto.SHA256.hash` (P2PCrypto depends on Wire, not the
    /// other way round). Ed25519 and secp256k1 keys are inlined and never hashed.
    public init(publicKey: PublicKeyProtobuf, sha256: ([UInt8]) -> [UInt8]) {
        let encoded = publicKey.encoded()
        if encoded.count <= Self.maxInlineKeyLength {
            bytes = [UInt8(Self.identityCode), UInt8(encoded.count)] + encoded
        } else {
            let digest = sha256(encoded)
            precondition(digest.count == 32, "the injected sha256 returned \(digest.count) bytes, not 32")
            bytes = [UInt8(Self.sha256Code), 32] + digest
        }
    }

    /// Validates and wraps multihash bytes (as carried in multiaddrs, identify, pubsub `from`).
    public init(bytes: [UInt8]) throws(PeerIDError) {
        func invalid(_ detail: String) -> PeerIDError {
            .invalidMultihash(hex: Self.hexPreview(bytes), detail: detail)
        }
        let code: (value: UInt64, byteCount: Int)?
        let length: (value: UInt64, byteCount: Int)?
        do {
            code = try Varint.decode(bytes)
            length = try code.flatMap { c throws(VarintError) in try Varint.decode(bytes[c.byteCount...]) }
        } catch {
            throw invalid("\(error)")
        }
        guard let code, let length else { throw invalid("too short to be a multihash") }
        let digestCount = bytes.count - code.byteCount - length.byteCount
        guard length.value == UInt64(digestCount) else {
            throw invalid("the multihash says its digest is \(length.value) bytes but \(digestCount) follow")
        }
        switch code.value {
        case Self.identityCode:
            guard digestCount <= Self.maxInlineKeyLength else {
                throw invalid("an identity multihash may inline at most \(Self.maxInlineKeyLength) bytes, not \(digestCount)")
            }
        case Self.sha256Code:
            guard digestCount == 32 else { throw invalid("a sha2-256 digest is 32 bytes, not \(digestCount)") }
        default:
            throw .unsupportedHashFunction(code: code.value)
        }
        self.bytes = bytes
    }

    /// Parses legacy base58btc (`12D3KooW…`, `Qm…`, `16Uiu2HA…`) or a multibase CIDv1 with
    /// codec libp2p-key (`bafz…`, also base36 `k51…` and base58 `z…`), as §1.6's decoding rule says.
    public init(_ text: String) throws(PeerIDError) {
        guard let first = text.first else { throw .emptyText }
        guard text.utf8.count <= Self.maxTextLength else { throw .textTooLong(length: text.utf8.count) }
        if first == "1" || text.hasPrefix("Qm") {
            let decoded: [UInt8]
            do { decoded = try Base58.decode(text) } catch { throw .invalidBase58(text: text, error) }
            try self.init(bytes: decoded)
            return
        }
        let payload = String(text.dropFirst())
        let cid: [UInt8]
        switch first {
        case "b", "B":
            do { cid = try Base32.decode(payload) } catch { throw .invalidMultibase(text: text, detail: "base32: \(error)") }
        case "z":
            do { cid = try Base58.decode(payload) } catch { throw .invalidMultibase(text: text, detail: "base58btc: \(error)") }
        case "k", "K":
            do { cid = try Base36.decode(payload) } catch {
                throw .invalidMultibase(text: text, detail: "base36: character \"\(error.character)\" is not in the alphabet")
            }
        default:
            throw .unsupportedMultibase(text: text, prefix: first)
        }
        try self.init(cid: cid, text: text)
    }

    /// Takes the multihash out of CIDv1 bytes `0x01 ‖ 0x72 ‖ multihash`.
    private init(cid: [UInt8], text: String) throws(PeerIDError) {
        let version: (value: UInt64, byteCount: Int)?
        let codec: (value: UInt64, byteCount: Int)?
        do {
            version = try Varint.decode(cid)
            codec = try version.flatMap { v throws(VarintError) in try Varint.decode(cid[v.byteCount...]) }
        } catch {
            throw .notAPeerCID(text: text, detail: "bad CID header: \(error)")
        }
        guard let version, let codec else { throw .notAPeerCID(text: text, detail: "too short to be a CID") }
        guard version.value == Self.cidV1 else {
            throw .notAPeerCID(text: text, detail: "CID version \(version.value) is not 1")
        }
        guard codec.value == Self.libp2pKeyCodec else {
            throw .notAPeerCID(text: text, detail: "CID codec 0x\(String(codec.value, radix: 16)) is not libp2p-key (0x72)")
        }
        try self.init(bytes: Array(cid[(version.byteCount + codec.byteCount)...]))
    }

    /// The legacy base58btc text form that every implementation displays and parses.
    public var description: String { Base58.encode(bytes) }

    /// The CIDv1 text form, multibase base32 (`bafz…`).
    public var cidString: String { "b" + Base32.encode([UInt8(Self.cidV1), UInt8(Self.libp2pKeyCodec)] + bytes) }

    /// The public key, when it is inlined in the ID (identity multihash), else nil.
    /// Nil also when the inlined bytes are not a canonical key protobuf.
    public var publicKey: PublicKeyProtobuf? {
        guard bytes.first == UInt8(Self.identityCode), bytes.count >= 2 else { return nil }
        return try? PublicKeyProtobuf(decoding: Array(bytes[2...]))
    }

    /// Lexicographic by multihash bytes.
    public static func < (lhs: PeerID, rhs: PeerID) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }

    /// Hex of at most the first 48 bytes, for error messages about untrusted input.
    static func hexPreview(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        var out = ""
        for b in bytes.prefix(48) { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 0xf)]) }
        if bytes.isEmpty { out = "(empty)" }
        if bytes.count > 48 { out += "… (\(bytes.count) bytes)" }
        return out
    }
}
