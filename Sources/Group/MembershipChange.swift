import JSON
import P2PCrypto
import SyncStore
import Wire

/// One signed change to a group's membership: the founder's "create", or an admin setting a
/// peer's role or removing it (docs/GROUPS.md).
///
/// A change travels as an ordinary write (`entry`): its key is derived from its content and
/// signature, its version is its own clock and author, and its value is its canonical JSON. So
/// gossip and catch-up carry it like data, and no relay can alter it: any edit breaks the
/// signature, the key or the version check in `init(entry:)`.
public struct MembershipChange: Hashable, Sendable {
    public enum Action: Hashable, Sendable {
        /// The founder makes the group; `nonce` with the founder's peer ID gives the group ID.
        case create(nonce: [UInt8])
        case set(MemberRole)
        case remove
    }

    /// Keys of membership changes start with this; data keys may not (in a group).
    public static let keyPrefix = ".p2p-sync/group/"

    public let group: GroupID
    public let subject: PeerID
    public let action: Action
    public let hlc: HLC
    public let author: PeerID
    public let signature: [UInt8]

    /// The version the change is stored and ordered under.
    public var version: Version { Version(hlc: hlc, origin: author.bytes) }

    /// Signs a change with the author's identity key.
    public static func signed(group: GroupID, subject: PeerID, action: Action, hlc: HLC, by key: Ed25519PrivateKey) -> MembershipChange {
        let author = key.publicKey.peerID
        let bytes = signingBytes(group: group, subject: subject, action: action, hlc: hlc, author: author)
        return MembershipChange(group: group, subject: subject, action: action, hlc: hlc, author: author, signature: key.sign(bytes))
    }

    /// The founder's first change, which names a new group.
    public static func create(hlc: HLC, by key: Ed25519PrivateKey, nonce: [UInt8]) -> MembershipChange {
        let founder = key.publicKey.peerID
        return signed(group: GroupID.derive(founder: founder, nonce: nonce), subject: founder, action: .create(nonce: nonce), hlc: hlc, by: key)
    }

    init(group: GroupID, subject: PeerID, action: Action, hlc: HLC, author: PeerID, signature: [UInt8]) {
        self.group = group
        self.subject = subject
        self.action = action
        self.hlc = hlc
        self.author = author
        self.signature = signature
    }

    /// What the author signs: a domain string, then every field in a fixed order, each
    /// variable-length one with its length, so no two changes share signing bytes.
    static func signingBytes(group: GroupID, subject: PeerID, action: Action, hlc: HLC, author: PeerID) -> [UInt8] {
        var out = Array("p2p-sync membership change 1\n".utf8)
        out += group.bytes
        appendPrefixed(subject.bytes, to: &out)
        switch action {
        case .create(let nonce):
            out.append(0)
            appendPrefixed(nonce, to: &out)
        case .set(let role):
            out.append(1)
            appendPrefixed(Array(role.rawValue.utf8), to: &out)
        case .remove:
            out.append(2)
        }
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: hlc.physicalMillis >> UInt64(shift))) }
        for shift in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: hlc.logical >> UInt32(shift))) }
        appendPrefixed(author.bytes, to: &out)
        return out
    }

    private static func appendPrefixed(_ bytes: [UInt8], to out: inout [UInt8]) {
        out += Varint.encode(UInt64(bytes.count))
        out += bytes
    }

    var signingBytes: [UInt8] {
        Self.signingBytes(group: group, subject: subject, action: action, hlc: hlc, author: author)
    }

    /// Whether the author's key signed exactly this change (and, for a create, whether the
    /// group ID is the one its founder and nonce give).
    public func verify() throws(GroupError) {
        let key: PublicKey
        do { key = try PublicKey(peerID: author) } catch {
            throw .badSignature("the author \(author) has no key in its peer ID (\(error)); only Ed25519 and secp256k1 peers can sign changes")
        }
        guard key.verify(signature: signature, message: signingBytes) else {
            throw .badSignature("not signed by its author \(author)")
        }
        if case .create(let nonce) = action {
            guard subject == author else { throw .malformedChange("a create names its own author as the subject") }
            guard GroupID.derive(founder: author, nonce: nonce) == group else {
                throw .malformedChange("a create for group \(group) by \(author) does not derive that group ID")
            }
        }
    }

    /// Content and signature hashed: the change's identity, and its key.
    public var id: [UInt8] { SHA256.hash(signingBytes + signature) }

    public var key: String { Self.keyPrefix + Base16.encode(id.prefix(16)) }

    // MARK: - As a write

    public var json: JSON {
        var object: [String: JSON] = [
            "group": .string(group.description),
            "subject": .string(subject.description),
            "hlc": .string(hlc.description),
            "author": .string(author.description),
            "sig": .string(Base16.encode(signature)),
        ]
        switch action {
        case .create(let nonce):
            object["kind"] = "create"
            object["nonce"] = .string(Base16.encode(nonce))
        case .set(let role):
            object["kind"] = "set"
            object["role"] = .string(role.rawValue)
        case .remove:
            object["kind"] = "remove"
        }
        return .object(object)
    }

    public var entry: Entry { Entry(key: key, value: json.encodedString, version: version) }

    /// Parses a change from its JSON; checks shapes only (`verify` checks the signature).
    public init(json: JSON) throws(GroupError) {
        guard let object = json.objectValue else { throw .malformedChange("not a JSON object") }
        func text(_ name: String) throws(GroupError) -> String {
            guard let value = object[name]?.stringValue else { throw .malformedChange("no \"\(name)\" string") }
            return value
        }
        func peer(_ name: String) throws(GroupError) -> PeerID {
            let value = try text(name)
            do { return try PeerID(value) } catch { throw .malformedChange("\"\(name)\" is not a peer ID: \(error)") }
        }
        let allowed: Set<String> = ["group", "subject", "hlc", "author", "sig", "kind", "nonce", "role"]
        if let extra = object.keys.first(where: { !allowed.contains($0) }) { throw .malformedChange("unknown field \"\(extra)\"") }
        group = try GroupID(try text("group"))
        subject = try peer("subject")
        author = try peer("author")
        guard let hlc = HLC(try text("hlc")) else { throw .malformedChange("\"hlc\" is not PHYSICAL:LOGICAL") }
        self.hlc = hlc
        guard let signature = Base16.decode(try text("sig")), signature.count <= 1_024 else { throw .malformedChange("\"sig\" is not hex") }
        self.signature = signature
        switch try text("kind") {
        case "create":
            guard let nonce = Base16.decode(try text("nonce")), nonce.count == GroupID.nonceCount else {
                throw .malformedChange("a create's \"nonce\" is \(GroupID.nonceCount * 2) hex digits")
            }
            guard object["role"] == nil else { throw .malformedChange("a create has no \"role\"") }
            action = .create(nonce: nonce)
        case "set":
            guard let role = MemberRole(rawValue: try text("role")) else {
                throw .malformedChange("\"role\" is one of admin, writer, reader")
            }
            guard object["nonce"] == nil else { throw .malformedChange("only a create has a \"nonce\"") }
            action = .set(role)
        case "remove":
            guard object["nonce"] == nil, object["role"] == nil else { throw .malformedChange("a remove has no \"role\" or \"nonce\"") }
            action = .remove
        case let other:
            throw .malformedChange("\"kind\" is create, set or remove, not \"\(other.prefix(40))\"")
        }
    }

    /// A change received as a write: its key, version and value must be exactly the ones the
    /// change gives, and its signature must hold. A tombstone is never a valid change.
    public init(entry: Entry) throws(GroupError) {
        guard let value = entry.value else { throw .malformedChange("\(entry.key) is deleted; membership changes are never deleted") }
        let parsed: JSON
        do { parsed = try JSONParser.parse(value) } catch { throw .malformedChange("value is not JSON: \(error)") }
        let change = try MembershipChange(json: parsed)
        guard change.json.encodedString.utf8.elementsEqual(value.utf8) else {
            throw .malformedChange("value is not in canonical form")
        }
        guard change.version == entry.version else { throw .malformedChange("stored under version \(entry.version.hlc), not its own \(change.hlc) by its author") }
        try change.verify()
        guard change.key.utf8.elementsEqual(entry.key.utf8) else { throw .malformedChange("stored under \(entry.key), not its own key \(change.key)") }
        self = change
    }

    public static func isMembershipKey(_ key: String) -> Bool { key.utf8.starts(with: keyPrefix.utf8) }
}
