import ControlProtocol
import Group
import JSON
import Swarm
import Wire

/// The control commands of private groups (issue 14) and what the node does when the
/// membership changes.
extension Node {
    /// Wires the group's rules into the connections (called once at start).
    func startGroup() {
        group.onEngaged = { [unowned self] in self.gossip.keepProofs() }
        peers.admission = { [unowned self] in self.group.admission() }
        peers.onPeerRefused = { [unowned self] peer, why, connection in
            self.group.connectionRefused(peer, reason: why, address: connection.address.withoutPeerID.description, nowMillis: WallClock.nowMillis())
        }
        // On the next turn: a change arrives inside a gossip or catch-up event of a connection,
        // and closing connections from there would re-enter the router that delivered it.
        group.onMembershipChanged = { [unowned self] in
            _ = self.reactor.schedule(after: .zero) { [weak self] in self?.closeNonMembers() }
        }
    }

    /// A member removed (or a peer never admitted) is disconnected as soon as we know.
    func closeNonMembers() {
        guard let admission = group.admission() else { return }
        let refused = Set(peers.connections.values.compactMap(\.remotePeer).filter { admission.refusal(of: $0) != nil })
        for peer in refused {
            _ = peers.disconnect(peer)
            logger.info("disconnected \(peer): \(admission.refusal(of: peer) ?? "")")
        }
    }

    func handleGroup(_ command: ControlCommand, id: JSON, session: ControlSession) {
        func fail(_ code: ControlError.Code, _ message: String) {
            session.send(.failure(ControlError(code, message, id: id)))
        }
        func parsePeer(_ text: String) -> PeerID? {
            do { return try PeerID(text) } catch { fail(.invalidArgument, "\(error)"); return nil }
        }
        switch command {
        case .groupCreate:
            group.create { result in
                switch result {
                case .success(let groupID):
                    self.closeNonMembers()
                    session.send(.success(id: id, result: ["group": .string(groupID.description), "role": "admin",
                                                           "invite": .string(self.invite(groupID).description)]))
                case .failure(let error): fail(.invalidArgument, "\(error)")
                }
            }
        case .groupInvite:
            guard let groupID = group.group else { return fail(.notFound, "this node is in no group: p2p-syncctl group create first") }
            session.send(.success(id: id, result: ["invite": .string(invite(groupID).description), "group": .string(groupID.description)]))
        case .groupJoin(let text):
            let invite: GroupInvite
            do { invite = try GroupInvite(text) } catch { return fail(.invalidArgument, "\(error)") }
            if let error = group.join(invite) { return fail(.invalidArgument, "\(error)") }
            closeNonMembers()
            for address in invite.addresses { peers.dial(address.peerID == nil ? address.appending(.p2p(invite.admin)) : address, keep: true) }
            session.send(.success(id: id, result: ["group": .string(invite.group.description), "dialing": .int(invite.addresses.count)]))
        case .members:
            session.send(.success(id: id, result: group.membersJSON))
        case .memberSet(let text, let roleText):
            guard let peer = parsePeer(text) else { return }
            guard let role = MemberRole(rawValue: roleText) else { return fail(.invalidArgument, "role is admin, writer or reader, not \"\(roleText)\"") }
            group.set(peer, role: role) { result in
                switch result {
                case .success: session.send(.success(id: id, result: ["peer_id": .string(peer.description), "role": .string(role.rawValue)]))
                case .failure(let error): fail(.invalidArgument, "\(error)")
                }
            }
        case .memberRemove(let text):
            guard let peer = parsePeer(text) else { return }
            group.set(peer, role: nil) { result in
                switch result {
                case .success:
                    self.closeNonMembers()
                    session.send(.success(id: id, result: ["peer_id": .string(peer.description), "removed": true]))
                case .failure(let error): fail(.invalidArgument, "\(error)")
                }
            }
        case .audit(let since, let verify):
            if verify {
                let problems = group.audit.verify()
                if problems.isEmpty {
                    session.send(.success(id: id, result: ["verified": true, "lines": .int(group.audit.lines().count)]))
                } else {
                    fail(.invalidArgument, "audit log \(group.audit.path) was changed: " + problems.map(\.description).joined(separator: "; "))
                }
                return
            }
            if let since, Timestamp.parseISO8601(since) == nil {
                return fail(.invalidArgument, "--since \"\(since)\" is not an RFC 3339 time like 2026-12-02T10:00:00Z")
            }
            let floor = since.flatMap(Timestamp.parseISO8601)
            let lines = group.audit.lines().filter { line in
                guard let floor else { return true }
                guard let time = (try? JSONParser.parse(line))?["time"]?.stringValue.flatMap(Timestamp.parseISO8601) else { return true }
                return time >= floor
            }
            session.send(.success(id: id, result: ["path": .string(group.audit.path), "lines": .array(lines.map(JSON.string))]))
        default:
            break
        }
    }

    /// This node's invite: the group, our peer ID, our listen addresses.
    func invite(_ groupID: GroupID) -> GroupInvite {
        GroupInvite(group: groupID, admin: peerID, addresses: listenAddresses.map(\.withoutPeerID))
    }
}
