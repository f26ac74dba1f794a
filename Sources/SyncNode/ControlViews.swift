import JSON
import Swarm
import Wire

/// What the control commands show, rendered in one place from the services' state (issue 11:
/// the services keep data, the control side decides how it reads).
extension Node {
    /// `peers`: every connection, every dial target without one, and LAN peers not connected.
    func peersJSON() -> JSON {
        var rows: [JSON] = []
        let connections = peers.allConnections
        for c in connections {
            var row: [String: JSON] = [
                "peer_id": c.remotePeer.map { .string($0.description) } ?? c.expectedPeer.map { .string($0.description) } ?? .null,
                "state": .string(c.syncing && c.state == .connected ? PeerState.syncing.rawValue : c.state.rawValue),
                "address": .string(c.address.description),
                "direction": .string(c.direction.rawValue),
            ]
            if let rtt = c.machine.lastRTT { row["rtt_ms"] = .double(Double(rtt / 1000) / 1000) }
            if let peer = c.remotePeer, let last = reconcileService.last[peer] {
                row["last_sync"] = last.json
                row["in_sync"] = .bool(last.equal)
            }
            if let id = c.machine.identified {
                row["agent"] = id.agentVersion.map(JSON.string) ?? .null
                row["protocol_version"] = id.protocolVersion.map(JSON.string) ?? .null
                row["protocols"] = .array(id.protocols.map(JSON.string))
                row["listen_addrs"] = .array(id.listenAddrs.map { .string($0.description) })
            }
            rows.append(.object(row))
        }
        for target in peers.targets.values.sorted(by: { $0.address.description < $1.address.description })
        where !connections.contains(where: { $0.address == target.address || ($0.remotePeer != nil && $0.remotePeer == target.address.peerID) }) {
            rows.append([
                "peer_id": target.address.peerID.map { .string($0.description) } ?? .null,
                "state": .string(target.lastError == nil ? PeerState.connecting.rawValue : PeerState.failed.rawValue),
                "address": .string(target.address.description),
                "direction": "outbound",
                "last_error": target.lastError.map(JSON.string) ?? .null,
                "retries": .int(target.attempts),
            ])
        }
        for (peer, addresses) in (mdnsService?.found ?? [:]).sorted(by: { $0.key < $1.key }) where !peers.isConnectedOrDialing(peer) {
            rows.append(["peer_id": .string(peer.description), "state": .string(PeerState.peerFound.rawValue),
                         "address": .string(addresses.first?.description ?? ""), "direction": "mdns",
                         "addresses": .array(addresses.map { .string($0.description) })])
        }
        return ["peers": .array(rows)]
    }
}
