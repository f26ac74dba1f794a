import Wire

/// What a new member needs to join: the group, an admin to trust until the group's own
/// changes arrive, and where to reach it. One line, no spaces:
/// `p2p-sync-invite:GROUP:PEER_ID@ADDRESS,ADDRESS` (addresses are multiaddrs).
public struct GroupInvite: Equatable, Sendable, CustomStringConvertible {
    public static let scheme = "p2p-sync-invite:"
    public let group: GroupID
    public let admin: PeerID
    public let addresses: [Multiaddr]

    public init(group: GroupID, admin: PeerID, addresses: [Multiaddr]) {
        self.group = group
        self.admin = admin
        self.addresses = addresses
    }

    public init(_ text: String) throws(GroupError) {
        let line = text.trimmingWhitespace()
        guard line.hasPrefix(Self.scheme) else { throw .malformedInvite("it does not start with \(Self.scheme)") }
        let rest = line.dropFirst(Self.scheme.count)
        let (head, tail) = rest.firstIndex(of: "@").map { (rest[..<$0], rest[rest.index(after: $0)...]) } ?? (rest, "")
        let parts = head.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw .malformedInvite("expected GROUP:PEER_ID after the scheme") }
        do { group = try GroupID(String(parts[0])) } catch { throw .malformedInvite("\(error)") }
        do { admin = try PeerID(String(parts[1])) } catch { throw .malformedInvite("the admin is not a peer ID: \(error)") }
        var addresses: [Multiaddr] = []
        for part in tail.split(separator: ",") {
            do { addresses.append(try Multiaddr(String(part))) } catch { throw .malformedInvite("address \"\(part.prefix(80))\": \(error)") }
        }
        self.addresses = addresses
    }

    public var description: String {
        Self.scheme + "\(group):\(admin)" + (addresses.isEmpty ? "" : "@" + addresses.map(\.description).joined(separator: ","))
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let end = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[start...end])
    }
}
