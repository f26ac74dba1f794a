import SyncStore
import Wire

/// A group's membership, as every member computes it from the same set of signed changes:
/// the changes in version order, each applied only if its author was an admin at that point
/// (the founder is from its create on). So members that hold the same changes agree, whatever
/// order the changes arrived in, and a replayed old change is a no-op (it is already in the set).
///
/// A value type with no I/O: the node feeds it changes and asks it who may do what.
public struct Membership: Sendable {
    public let group: GroupID
    /// Every verified change for this group, by id.
    private var changes: [[UInt8]: MembershipChange] = [:]
    /// Per member, the applied changes of its role in version order (nil: removed).
    private var history: [PeerID: [(version: Version, role: MemberRole?)]] = [:]
    /// The role of each member now.
    public private(set) var roles: [PeerID: MemberRole] = [:]
    public private(set) var founder: PeerID?
    /// Changes applied, in version order; and those refused, with why.
    public private(set) var applied: [MembershipChange] = []
    public private(set) var refused: [(change: MembershipChange, reason: String)] = []

    public init(group: GroupID) { self.group = group }

    public var changeCount: Int { changes.count }
    public var allChanges: [MembershipChange] { changes.values.sorted { $0.version < $1.version } }

    /// Adds a verified change; false if it is another group's or already known. The caller has
    /// checked the signature (`MembershipChange.verify`).
    @discardableResult
    public mutating func insert(_ change: MembershipChange) -> Bool {
        guard change.group == group else { return false }
        let id = change.id
        guard changes[id] == nil else { return false }
        changes[id] = change
        replay()
        return true
    }

    /// Several at once, replayed once.
    @discardableResult
    public mutating func insert(contentsOf list: [MembershipChange]) -> Int {
        var added = 0
        for change in list where change.group == group && changes[change.id] == nil {
            changes[change.id] = change
            added += 1
        }
        if added > 0 { replay() }
        return added
    }

    private mutating func replay() {
        history = [:]
        roles = [:]
        founder = nil
        applied = []
        refused = []
        for change in allChanges {
            switch change.action {
            case .create:
                guard founder == nil else {
                    refused.append((change, "the group was created already, by \(founder!)"))
                    continue
                }
                founder = change.author
                apply(change, role: .admin)
            case .set(let role):
                if let reason = refusal(of: change) { refused.append((change, reason)); continue }
                apply(change, role: role)
            case .remove:
                if let reason = refusal(of: change) { refused.append((change, reason)); continue }
                apply(change, role: nil)
            }
        }
    }

    private func refusal(of change: MembershipChange) -> String? {
        guard founder != nil else { return "it is older than the group's create" }
        guard roles[change.author] == .admin else { return "its author \(change.author) was not an admin then" }
        return nil
    }

    private mutating func apply(_ change: MembershipChange, role: MemberRole?) {
        history[change.subject, default: []].append((change.version, role))
        roles[change.subject] = role
        applied.append(change)
    }

    /// The member's role now; nil for a non-member or a removed one.
    public func role(of peer: PeerID) -> MemberRole? { roles[peer] }

    /// The member's role as of `version` (the last applied change at or before it): what decides
    /// whether a write with that version is accepted, so that a removed member's earlier writes
    /// stay valid and its later ones are refused everywhere.
    public func role(of peer: PeerID, at version: Version) -> MemberRole? {
        guard let list = history[peer] else { return nil }
        var role: MemberRole?
        for item in list {
            guard item.version <= version else { break }
            role = item.role
        }
        return role
    }

    /// Why a write by `origin` with `version` is refused, or nil when its author may write then.
    public func writeRefusal(origin: PeerID, version: Version) -> String? {
        switch role(of: origin, at: version) {
        case .admin?, .writer?: nil
        case .reader?: "\(origin) is a reader"
        case nil: history[origin] == nil ? "\(origin) is not a member" : "\(origin) was not a member at that version (removed)"
        }
    }
}
