import Group
import JSON
import P2PCrypto
import Swarm
import SyncStore
import Wire

/// A private group on this node (issue 14, docs/GROUPS.md): which group (group.json), its
/// membership (from the signed changes in the store), and the rules that follow from it:
/// who may connect, whose writes are staged, whether this node may write. Open mode, the
/// default, is a node without group.json: then none of this applies.
final class GroupService {
    private(set) var membership: Membership?
    /// The admin named by the invite this node joined with: admitted until the group's own
    /// changes arrive (before that, this node knows no member but itself and that admin).
    private(set) var invitedBy: PeerID?
    private let identity: Ed25519PrivateKey
    private let localPeer: PeerID
    private let engine: SyncEngine
    private let logger: Logger
    let audit: AuditLog
    private let path: String
    /// After the membership changed: the node closes connections of peers no longer admitted.
    var onMembershipChanged: (() -> Void)?
    private(set) var refusedConnections = 0
    private var lastRefusalLog: [PeerID: UInt64] = [:]
    private var auditedRefusedWrites: Set<Version> = []

    init(path: String, identity: Ed25519PrivateKey, engine: SyncEngine, audit: AuditLog, logger: Logger) throws(ConfigurationError) {
        self.path = path
        self.identity = identity
        localPeer = identity.publicKey.peerID
        self.engine = engine
        self.audit = audit
        self.logger = logger
        if let bytes = AtomicFile.read(path, limit: 64 * 1024) {
            do {
                let json = try JSONParser.parse(bytes)
                let group = try GroupID(json["group"]?.stringValue ?? "")
                invitedBy = try json["invited_by"]?.stringValue.map { text throws(PeerIDError) in try PeerID(text) }
                membership = Membership(group: group)
            } catch {
                throw .groupFileUnusable(path: path, reason: "\(error)")
            }
            loadChanges()
        }
        engine.localKeyCheck = { [unowned self] key in self.localWriteRefusal(key: key) }
        if membership != nil { engage() }
    }

    /// Called once the node is in a group (at start, or on create or join): the node keeps
    /// proofs of writes from then on.
    var onEngaged: (() -> Void)? {
        didSet { if membership != nil { onEngaged?() } }
    }

    /// The group's rules take hold: remote writes pass the gate from now on.
    private func engage() {
        engine.remoteWriteGate = { [unowned self] entries in self.gate(entries) }
        engine.onRemoteRefused = { [unowned self] entry, reason in self.auditRefusedWrite(entry, reason: reason) }
        onEngaged?()
    }

    var group: GroupID? { membership?.group }
    var role: MemberRole? { membership?.role(of: localPeer) }

    /// The changes stored so far (a restart, or a node that joined).
    private func loadChanges() {
        guard var membership else { return }
        do {
            let entries = try engine.store.list(prefix: MembershipChange.keyPrefix)
            var changes: [MembershipChange] = []
            for entry in entries {
                do { changes.append(try MembershipChange(entry: entry)) } catch { logger.warning("ignoring stored \(entry.key): \(error)") }
            }
            membership.insert(contentsOf: changes)
            self.membership = membership
        } catch {
            logger.error("cannot read the group's membership from the store: \(error)")
        }
    }

    // MARK: - Rules

    /// Who connections admit: the members, and the inviting admin until the changes arrive.
    func admission() -> PeerAdmission? {
        guard let membership else { return nil }
        var admitted = Set(membership.roles.keys)
        if membership.founder == nil, let invitedBy { admitted.insert(invitedBy) }
        return PeerAdmission(admitted: admitted, scope: "group \(membership.group)")
    }

    func localWriteRefusal(key: String) -> String? {
        if MembershipChange.isMembershipKey(key) {
            return "keys starting with \(MembershipChange.keyPrefix) hold a group's membership; use p2p-syncctl members"
        }
        guard let membership else { return nil }
        switch membership.role(of: localPeer) {
        case .admin?, .writer?: return nil
        case .reader?: return "this node is a reader in group \(membership.group): an admin can make it a writer (p2p-syncctl members add \(localPeer) --role writer)"
        case nil: return membership.founder == nil
            ? "this node has not yet received group \(membership.group)'s membership from the admin that invited it; try again once connected"
            : "this node is not a member of group \(membership.group)"
        }
    }

    /// Membership changes first (verified, then replayed), then each data write against its
    /// author's role as of its version.
    private func gate(_ entries: [Entry]) -> (accepted: [Entry], refused: [(entry: Entry, reason: String)]) {
        guard var membership else { return (entries, []) }
        var accepted: [Entry] = []
        var refused: [(entry: Entry, reason: String)] = []
        var changes: [MembershipChange] = []
        var data: [Entry] = []
        data.reserveCapacity(entries.count)
        for entry in entries {
            guard MembershipChange.isMembershipKey(entry.key) else { data.append(entry); continue }
            do {
                let change = try MembershipChange(entry: entry)
                guard change.group == membership.group else { throw GroupError.malformedChange("it is for group \(change.group)") }
                changes.append(change)
                accepted.append(entry)
            } catch {
                refused.append((entry, "\(error)"))
            }
        }
        if !changes.isEmpty {
            let before = membership.applied
            if membership.insert(contentsOf: changes) > 0 {
                self.membership = membership
                membershipChanged(from: before)
            }
        }
        for entry in data {
            guard let origin = try? PeerID(bytes: entry.version.origin) else {
                refused.append((entry, "its origin is not a peer ID"))
                continue
            }
            if let why = membership.writeRefusal(origin: origin, version: entry.version) {
                refused.append((entry, why))
            } else {
                accepted.append(entry)
            }
        }
        for (entry, reason) in refused { auditRefusedWrite(entry, reason: reason) }
        return (accepted, refused)
    }

    /// Records the changes now applied that were not before, and lets the node act on them.
    private func membershipChanged(from before: [MembershipChange]) {
        guard let membership else { return }
        let known = Set(before.map(\.id))
        for change in membership.applied where !known.contains(change.id) {
            var fields: [String: JSON] = ["subject": .string(change.subject.description), "by": .string(change.author.description),
                                          "version": .string(change.hlc.description), "group": .string(change.group.description)]
            let event: String
            switch change.action {
            case .create: event = "group-created"
            case .set(let role): event = "member-set"; fields["role"] = .string(role.rawValue)
            case .remove: event = "member-removed"
            }
            audit.record(event, fields)
            logger.info("group \(membership.group): \(event) \(change.subject) by \(change.author)")
        }
        onMembershipChanged?()
    }

    private func auditRefusedWrite(_ entry: Entry, reason: String) {
        // Once per write: catch-up offers a refused write again every session.
        guard auditedRefusedWrites.insert(entry.version).inserted else { return }
        if auditedRefusedWrites.count > 10_000 { auditedRefusedWrites.removeAll() }
        logger.warning("refused write of \(entry.key) by \(Entry.originText(entry.version.origin)): \(reason)")
        audit.record("write-refused", ["key": .string(entry.key), "author": .string(Entry.originText(entry.version.origin)),
                                       "version": .string(entry.version.hlc.description), "reason": .string(reason)])
    }

    /// A connection from a non-member was closed: logged and audited once per peer per minute.
    func connectionRefused(_ peer: PeerID, reason: String, address: String, nowMillis: UInt64) {
        refusedConnections += 1
        if let last = lastRefusalLog[peer], nowMillis < last + 60_000 { return }
        lastRefusalLog[peer] = nowMillis
        if lastRefusalLog.count > 4_096 { lastRefusalLog = lastRefusalLog.filter { nowMillis < $0.value + 60_000 } }
        logger.warning("closed connection from \(peer) (\(address)): \(reason)")
        audit.record("connection-refused", ["peer": .string(peer.description), "address": .string(address), "reason": .string(reason),
                                            "refused_so_far": .int(refusedConnections)])
    }

    // MARK: - Commands

    /// Why a group command was not carried out, in words for the user.
    enum CommandError: Error, CustomStringConvertible {
        case refused(String)
        var description: String {
            switch self {
            case .refused(let why): why
            }
        }
    }

    /// Makes a new group with this node as its first admin.
    func create(completion: @escaping (Result<GroupID, CommandError>) -> Void) {
        if let group { return completion(.failure(.refused("this node is already in group \(group)"))) }
        let version = engine.makeVersion()
        let change = MembershipChange.create(hlc: version.hlc, by: identity, nonce: SecureRandom.bytes(GroupID.nonceCount))
        if let error = saveGroupFile(group: change.group, invitedBy: nil) { return completion(.failure(.refused(error))) }
        membership = Membership(group: change.group)
        engage()
        apply(change) { result in completion(result.map { change.group }) }
    }

    /// Joins the group of `invite`: remembers it and admits its admin; the node dials it.
    func join(_ invite: GroupInvite) -> CommandError? {
        if let group { return group == invite.group ? nil : .refused("this node is already in group \(group)") }
        if let error = saveGroupFile(group: invite.group, invitedBy: invite.admin) { return .refused(error) }
        membership = Membership(group: invite.group)
        invitedBy = invite.admin
        loadChanges()
        engage()
        audit.record("group-joined", ["group": .string(invite.group.description), "invited_by": .string(invite.admin.description)])
        return nil
    }

    /// Sets `peer`'s role (nil removes it), signed by this node, which must be an admin.
    func set(_ peer: PeerID, role: MemberRole?, completion: @escaping (Result<Void, CommandError>) -> Void) {
        guard let membership else { return completion(.failure(.refused("this node is in no group: p2p-syncctl group create, or group join INVITE"))) }
        guard membership.role(of: localPeer) == .admin else {
            return completion(.failure(.refused("only an admin changes the membership; this node is \(membership.role(of: localPeer)?.rawValue ?? "not a member")")))
        }
        if role == nil, membership.role(of: peer) == nil { return completion(.failure(.refused("\(peer) is not a member"))) }
        if role != .admin, membership.role(of: peer) == .admin, membership.roles.values.filter({ $0 == .admin }).count == 1 {
            return completion(.failure(.refused("\(peer) is the group's last admin; make another member admin first")))
        }
        let version = engine.makeVersion()
        let change = MembershipChange.signed(group: membership.group, subject: peer, action: role.map { .set($0) } ?? .remove,
                                             hlc: version.hlc, by: identity)
        apply(change, completion: completion)
    }

    /// Applies a change made here and stages it as a write (replicated like any other).
    private func apply(_ change: MembershipChange, completion: @escaping (Result<Void, CommandError>) -> Void) {
        guard var membership else { return }
        let before = membership.applied
        membership.insert(change)
        self.membership = membership
        membershipChanged(from: before)
        engine.stageLocal(change.entry) { result in
            switch result {
            case .success: completion(.success(()))
            case .failure(let error): completion(.failure(.refused("cannot store the change: \(error)")))
            }
        }
    }

    private func saveGroupFile(group: GroupID, invitedBy: PeerID?) -> String? {
        var object: [String: JSON] = ["group": .string(group.description)]
        if let invitedBy { object["invited_by"] = .string(invitedBy.description) }
        return AtomicFile.write(Array((JSON.object(object).encodedString + "\n").utf8), to: path, mode: 0o600)
            .map { "cannot write \(path): \($0)" }
    }

    // MARK: - Views

    var statusJSON: JSON {
        guard let membership else { return ["mode": "open"] }
        return [
            "mode": "group",
            "group": .string(membership.group.description),
            "role": membership.role(of: localPeer).map { .string($0.rawValue) } ?? (membership.founder == nil ? "joining" : "none"),
            "members": .int(membership.roles.count),
            "changes": .int(membership.changeCount),
            "refused_connections": .int(refusedConnections),
            "refused_writes": .int(engine.groupRefusals),
            "audit_lines": .int(audit.count),
        ]
    }

    var membersJSON: JSON {
        guard let membership else { return ["mode": "open", "members": []] }
        let members = membership.roles.sorted { $0.key < $1.key }.map { peer, role -> JSON in
            ["peer_id": .string(peer.description), "role": .string(role.rawValue),
             "self": .bool(peer == localPeer), "founder": .bool(peer == membership.founder)]
        }
        return ["mode": "group", "group": .string(membership.group.description), "members": .array(members)]
    }
}
