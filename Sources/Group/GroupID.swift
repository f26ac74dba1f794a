import P2PCrypto
import Wire

/// A group's name: 16 bytes derived from its founder's peer ID and a random nonce, so that
/// nobody but the founder can sign a valid "create" for it (a forged founder would need a peer
/// ID that hashes to the same ID). Shown as 32 hex digits.
public struct GroupID: Hashable, Sendable, CustomStringConvertible {
    public static let byteCount = 16
    public static let nonceCount = 16
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) throws(GroupError) {
        guard bytes.count == Self.byteCount else { throw .malformedGroupID("a group ID is \(Self.byteCount) bytes, got \(bytes.count)") }
        self.bytes = bytes
    }

    /// Parses 32 hex digits.
    public init(_ text: String) throws(GroupError) {
        guard let bytes = Base16.decode(text), bytes.count == Self.byteCount else {
            throw .malformedGroupID("a group ID is \(Self.byteCount * 2) hex digits, got \"\(text.prefix(80))\"")
        }
        self.bytes = bytes
    }

    /// The ID a founder's "create" with `nonce` names.
    public static func derive(founder: PeerID, nonce: [UInt8]) -> GroupID {
        let digest = SHA256.hash(Array("p2p-sync group id\n".utf8) + founder.bytes + nonce)
        return try! GroupID(bytes: Array(digest.prefix(byteCount)))
    }

    public var description: String { Base16.encode(bytes) }
}
