import Foundation
import JSON

/// `p2p-syncctl status` for people: one line per concern, the gossip, reconcile and mDNS
/// sections as sentences rather than JSON (`--json` prints the daemon's object as it came).
/// Fields the daemon adds later, and that this file does not know, still show, as
/// `name value` pairs at the end of their line.
extension HumanFormat {
    static func status(_ result: JSON) -> String {
        guard var rest = result.objectValue else { return result.encodedString + "\n" }
        func take(_ key: String) -> JSON? { rest.removeValue(forKey: key) }
        var lines: [String] = []
        if let id = take("peer_id")?.stringValue { lines.append("peer id: \(id)") }
        if let state = take("state")?.stringValue { lines.append("state: \(state)") }
        if let seconds = take("uptime_seconds")?.intValue { lines.append("uptime: \(duration(seconds))") }
        if let addresses = take("listen_addrs")?.arrayValue {
            lines.append(addresses.isEmpty ? "listening on: (nothing)" : "listening on:")
            lines += addresses.map { "  \(text($0))" }
        }
        if let topic = take("topic")?.stringValue { lines.append("topic: \(topic)") }
        if let network = take("network") { lines.append("network: " + networkLine(network)) }
        if let group = take("group") { lines.append("group: " + groupLine(group)) }
        if let n = take("connections")?.intValue { lines.append("connections: \(n)") }
        if let n = take("connected_peers")?.intValue { lines.append("connected peers: \(n)") }
        if let keys = take("keys")?.intValue {
            let tombstones = take("tombstones")?.intValue.map { " (\($0) tombstone\($0 == 1 ? "" : "s"))" } ?? ""
            lines.append("keys: \(keys)\(tombstones)")
        }
        let local = take("local_writes")?.intValue, commits = take("commits")?.intValue
        let applied = take("remote_applied")?.intValue, superseded = take("remote_superseded")?.intValue
        if local != nil || applied != nil {
            var parts: [String] = []
            if let local { parts.append("\(local) local" + (commits.map { " in \($0) commit\($0 == 1 ? "" : "s")" } ?? "")) }
            if let applied { parts.append("\(applied) from peers applied" + (superseded.map { ", \($0) superseded" } ?? "")) }
            lines.append("writes: " + parts.joined(separator: "; "))
        }
        if let n = take("control_clients")?.intValue { lines.append("control clients: \(n)") }
        if let gossip = take("gossip") { lines.append("gossip: " + gossipLine(gossip)) }
        if let reconcile = take("reconcile") { lines += reconcileLines(reconcile) }
        if let mdns = take("mdns") { lines.append("mdns: " + mdnsLine(mdns)) }
        if let clock = take("clock") { lines.append("clock: " + clockLine(clock)) }
        if let dht = take("dht") { lines.append("dht: " + dhtLine(dht)) }
        if let quic = take("quic") { lines.append("quic: " + quicLine(quic)) }
        if let loop = take("loop") { lines.append("loop: " + loopLine(loop)) }
        // Whatever else the daemon sends, in a stable order.
        for key in rest.keys.sorted() { lines.append("\(label(key)): \(text(rest[key]!))") }
        return lines.map { $0 + "\n" }.joined()
    }

    /// `open`, or `private (swarm key 3f2a…, /path/swarm.key), 2 connections refused (last: ...)`
    /// `group: 1a2b... as writer, 4 members, 2 connections refused, 1 write refused, audit 9 lines`.
    static func groupLine(_ json: JSON) -> String {
        guard var g = json.objectValue else { return text(json) }
        guard g.removeValue(forKey: "mode")?.stringValue == "group" else { return "none (open mode: any peer that connects reads and writes)" }
        var parts = ["\(g.removeValue(forKey: "group")?.stringValue ?? "?") as \(g.removeValue(forKey: "role")?.stringValue ?? "?")"]
        if let n = g.removeValue(forKey: "members")?.intValue { parts.append(count(Int(n), "member")) }
        if let n = g.removeValue(forKey: "refused_connections")?.intValue, n > 0 { parts.append("\(count(Int(n), "connection")) refused") }
        if let n = g.removeValue(forKey: "refused_writes")?.intValue, n > 0 { parts.append("\(count(Int(n), "write")) refused") }
        if let n = g.removeValue(forKey: "audit_lines")?.intValue { parts.append("audit log \(count(Int(n), "line"))") }
        g["changes"] = nil
        return (parts + pairs(g)).joined(separator: ", ")
    }

    static func networkLine(_ json: JSON) -> String {
        guard var n = json.objectValue else { return text(json) }
        guard n.removeValue(forKey: "mode")?.stringValue == "private" else { return "open (no swarm key: any libp2p peer may connect)" }
        var line = "private"
        let id = n.removeValue(forKey: "swarm_key_id")?.stringValue, path = n.removeValue(forKey: "swarm_key_path")?.stringValue
        line += " (swarm key \(id ?? "?")" + (path.map { ", \($0)" } ?? "") + ")"
        if let refused = n.removeValue(forKey: "refused_connections")?.intValue {
            line += ", \(count(Int(refused), "connection")) refused"
        }
        if let last = n.removeValue(forKey: "last_refused")?.stringValue { line += " (last: \(last))" }
        return ([line] + pairs(n)).joined(separator: ", ")
    }

    /// `120,345 turns, 3 of 10 ms or more (1 of 20 ms or more), longest 24.1 ms; slowest: 24.1 ms 12 s ago, ...`
    static func loopLine(_ json: JSON) -> String {
        guard var l = json.objectValue else { return text(json) }
        var line = "\(l.removeValue(forKey: "turns")?.intValue ?? 0) turns"
        if let slow = l.removeValue(forKey: "over_10ms")?.intValue {
            line += ", \(slow) of 10 ms or more"
            if let verySlow = l.removeValue(forKey: "over_20ms")?.intValue { line += " (\(verySlow) of 20 ms or more)" }
        }
        if let longest = l.removeValue(forKey: "longest_ms")?.doubleValue { line += ", longest \(milliseconds(longest))" }
        if let slowest = l.removeValue(forKey: "slowest")?.arrayValue, !slowest.isEmpty {
            line += "; slowest: " + slowest.prefix(3).map { turn in
                let ms = turn.objectValue?["ms"]?.doubleValue ?? 0
                let ago = turn.objectValue?["seconds_ago"]?.doubleValue ?? 0
                return "\(milliseconds(ms)) \(duration(Int64(ago.rounded()))) ago"
            }.joined(separator: ", ")
        }
        return ([line] + pairs(l)).joined(separator: ", ")
    }

    static func milliseconds(_ ms: Double) -> String {
        ms >= 100 ? "\(Int(ms.rounded())) ms" : String(format: "%.1f ms", ms)
    }

    /// `server mode, 12 peers in the routing table, bootstrap ok: ..., 4 group providers`
    static func dhtLine(_ json: JSON) -> String {
        guard var d = json.objectValue else { return text(json) }
        var parts: [String] = []
        if let mode = d.removeValue(forKey: "mode")?.stringValue { parts.append("\(mode) mode") }
        if let n = d.removeValue(forKey: "routing_table")?.intValue { parts.append("\(count(Int(n), "peer")) in the routing table") }
        if let b = d.removeValue(forKey: "bootstrap")?.stringValue { parts.append("bootstrap \(b)") } else { parts.append("not bootstrapped") }
        if let n = d.removeValue(forKey: "group_providers")?.intValue { parts.append("\(n) group provider\(n == 1 ? "" : "s") found") }
        return (parts + pairs(d)).joined(separator: ", ")
    }

    /// `topic p2p-sync, mesh 3 peers (12D3…, …), 5 topic peers, published 12, received 40 (3 duplicates, 0 invalid), queued 0, ...`
    static func gossipLine(_ json: JSON) -> String {
        guard var g = json.objectValue else { return text(json) }
        func take(_ key: String) -> Int64? { g.removeValue(forKey: key)?.intValue }
        var parts: [String] = []
        if let topic = g.removeValue(forKey: "topic")?.stringValue { parts.append("topic \(topic)") }
        if let mesh = g.removeValue(forKey: "mesh_peers")?.arrayValue {
            let ids = mesh.map { shortPeer(text($0)) }
            parts.append("mesh \(count(mesh.count, "peer"))" + (ids.isEmpty ? "" : " (\(ids.joined(separator: ", ")))"))
        }
        if let n = take("topic_peers") { parts.append("\(n) topic peer\(n == 1 ? "" : "s")") }
        if let n = take("pubsub_peers") { parts.append("\(n) pubsub peer\(n == 1 ? "" : "s")") }
        if let n = take("published") { parts.append("published \(n)") }
        if let n = take("received") {
            var why: [String] = []
            if let d = take("duplicates") { why.append("\(d) duplicate\(d == 1 ? "" : "s")") }
            if let i = take("invalid") { why.append("\(i) invalid") }
            if let i = take("invalid_payloads") { why.append("\(i) with invalid payloads") }
            if let i = take("ignored") { why.append("\(i) ignored") }
            parts.append("received \(n)" + (why.isEmpty ? "" : " (\(why.joined(separator: ", ")))"))
        }
        if let n = take("forwarded") { parts.append("forwarded \(n)") }
        if let n = take("queued") {
            var extra: [String] = []
            if let s = take("sent_from_queue"), s > 0 { extra.append("\(s) sent from the queue") }
            if let o = take("queue_overflow"), o > 0 { extra.append("\(o) dropped from a full queue") }
            parts.append("queued \(n)" + (extra.isEmpty ? "" : " (\(extra.joined(separator: ", ")))"))
        }
        if let ihave = take("ihave_sent") { parts.append("IHAVE sent \(ihave)") }
        if let iwant = take("iwant_sent") {
            parts.append("IWANT sent \(iwant)" + (take("iwant_answered").map { ", answered \($0)" } ?? ""))
        }
        if let n = take("heartbeats") { parts.append("\(n) heartbeat\(n == 1 ? "" : "s")") }
        return (parts + pairs(g)).joined(separator: ", ")
    }

    /// `reconcile: 4 sessions completed, 0 failed, 0 running, every 30 s`, then one line per
    /// peer's last session.
    static func reconcileLines(_ json: JSON) -> [String] {
        guard var r = json.objectValue else { return ["reconcile: \(text(json))"] }
        var parts: [String] = []
        if let n = r.removeValue(forKey: "completed")?.intValue { parts.append("\(count(Int(n), "session")) completed") }
        if let n = r.removeValue(forKey: "failed")?.intValue { parts.append("\(n) failed") }
        if let n = r.removeValue(forKey: "running")?.intValue { parts.append("\(n) running") }
        if let s = r.removeValue(forKey: "interval_seconds")?.intValue { parts.append("every \(duration(s))") }
        let peers = r.removeValue(forKey: "peers")?.objectValue ?? [:]
        var lines = ["reconcile: " + (parts + pairs(r)).joined(separator: ", ")]
        for peer in peers.keys.sorted() { lines.append("  last with \(shortPeer(peer)): " + lastSync(peers[peer]!)) }
        return lines
    }

    /// One peer's last catch-up session: `at 2026-11-30T12:00:00.000Z, 12.3 ms, 2 rounds, entries 3 sent / 5 received, ...`.
    static func lastSync(_ json: JSON) -> String {
        guard var s = json.objectValue else { return text(json) }
        var parts: [String] = []
        if let at = s.removeValue(forKey: "at")?.stringValue { parts.append("at \(at)") }
        if let ms = s.removeValue(forKey: "ms")?.doubleValue { parts.append(String(format: "%.1f ms", ms)) }
        if let n = s.removeValue(forKey: "rounds")?.intValue { parts.append(count(Int(n), "round")) }
        if let sent = s.removeValue(forKey: "entries_sent")?.intValue, let received = s.removeValue(forKey: "entries_received")?.intValue {
            parts.append("entries \(sent) sent / \(received) received")
        }
        if let sent = s.removeValue(forKey: "bytes_sent")?.intValue, let received = s.removeValue(forKey: "bytes_received")?.intValue {
            parts.append("bytes \(sent) sent / \(received) received")
        }
        if let equal = s.removeValue(forKey: "equal")?.boolValue { parts.append(equal ? "replicas equal" : "replicas still differ") }
        if let error = s.removeValue(forKey: "error")?.stringValue { parts.append("error: \(error)") }
        return (parts + pairs(s)).joined(separator: ", ")
    }

    /// `2 connections, 0 handshakes in progress, datagrams 1200 received / 1180 sent (40 GSO sends), ...` or `off`.
    static func quicLine(_ json: JSON) -> String {
        guard var q = json.objectValue else { return text(json) }
        if q.removeValue(forKey: "enabled")?.boolValue == false { return "off (--no-quic)" }
        func take(_ key: String) -> Int64? { q.removeValue(forKey: key)?.intValue }
        var parts: [String] = []
        if let n = take("connections") { parts.append(count(Int(n), "connection")) }
        if let n = take("handshakes_in_progress") { parts.append("\(n) handshake\(n == 1 ? "" : "s") in progress") }
        if let r = take("datagrams_received"), let s = take("datagrams_sent") {
            let gso = take("gso_sends").map { " (\($0) GSO send\($0 == 1 ? "" : "s"))" } ?? ""
            parts.append("datagrams \(r) received / \(s) sent\(gso)")
        }
        if let n = take("initials_refused"), n > 0 { parts.append("\(n) Initial\(n == 1 ? "" : "s") refused") }
        if let n = take("retries_sent"), n > 0 { parts.append("\(n) Retry or Version Negotiation repl\(n == 1 ? "y" : "ies")") }
        if let n = take("dropped_sends"), n > 0 { parts.append("\(n) datagram\(n == 1 ? "" : "s") dropped (send queue full)") }
        if let n = take("truncated_datagrams"), n > 0 { parts.append("\(n) oversized datagram\(n == 1 ? "" : "s") dropped") }
        return (parts + pairs(q)).joined(separator: ", ")
    }

    /// `on, interfaces eth0 (IPv6 eth0), 5 queries sent, ...` or `off`.
    static func mdnsLine(_ json: JSON) -> String {
        guard var m = json.objectValue else { return text(json) }
        let enabled = m.removeValue(forKey: "enabled")?.boolValue
        if enabled == false && m.isEmpty { return "off" }
        func take(_ key: String) -> Int64? { m.removeValue(forKey: key)?.intValue }
        var parts: [String] = enabled.map { [$0 ? "on" : "off"] } ?? []
        let v4 = m.removeValue(forKey: "interfaces")?.arrayValue?.map(text) ?? []
        let v6 = m.removeValue(forKey: "interfaces_ipv6")?.arrayValue?.map(text) ?? []
        parts.append(v4.isEmpty ? "no IPv4 interface" : "interfaces \(v4.joined(separator: " "))")
        if !v6.isEmpty { parts.append("IPv6 on \(v6.joined(separator: " "))") }
        if let q = take("queries_sent") { parts.append("\(q) quer\(q == 1 ? "y" : "ies") sent") }
        if let a = take("queries_answered") { parts.append("\(a) answered") }
        if let r = take("responses_received") { parts.append("\(r) response\(r == 1 ? "" : "s") received") }
        if let p = take("peers_found") { parts.append("\(p) peer\(p == 1 ? "" : "s") found") }
        if let k = take("known") { parts.append("\(k) known") }
        if let b = take("malformed_packets") { parts.append("\(b) malformed packet\(b == 1 ? "" : "s")") }
        if let s = take("ipv6_packets_sent"), let r = take("ipv6_packets_received") { parts.append("IPv6 packets \(s) sent / \(r) received") }
        return (parts + pairs(m)).joined(separator: ", ")
    }

    /// `+0.2 s from the median of 2 peers (limit 60 s), 0 local writes refused, ...`; leads with
    /// `AHEAD OF PEERS` when local writes are refused.
    static func clockLine(_ json: JSON) -> String {
        guard var c = json.objectValue else { return text(json) }
        func take(_ key: String) -> Int64? { c.removeValue(forKey: key)?.intValue }
        var parts: [String] = []
        let ahead = c.removeValue(forKey: "ahead")?.boolValue ?? false
        let limit = take("limit_ms").map { $0 % 1000 == 0 ? "\($0 / 1000) s" : "\(Double($0) / 1000) s" } ?? "?"
        let peers = take("measured_peers") ?? 0
        if let millis = c.removeValue(forKey: "ahead_of_peers_ms")?.doubleValue {
            let where_ = "\(signedSeconds(millis)) from the median of \(count(Int(peers), "peer")) (limit \(limit))"
            parts.append(ahead ? "AHEAD OF PEERS \(where_): local writes refused; fix this clock (timedatectl)" : where_)
        } else {
            parts.append("no peer measured (limit \(limit))")
        }
        if let n = take("local_writes_refused") { parts.append("\(n) local write\(n == 1 ? "" : "s") refused") }
        if let n = take("remote_writes_refused") { parts.append("\(n) remote write\(n == 1 ? "" : "s") refused for their clock") }
        if let n = take("refused_writes_kept_out"), n > 0 { parts.append("\(n) kept out once no longer ahead") }
        if let n = take("our_writes_refused_by_peers"), n > 0 { parts.append("\(n) of our writes refused by peers") }
        return (parts + pairs(c)).joined(separator: ", ")
    }

    /// `12D3KooWM6CgA9iBFZmc…EsK4Ksv` → `12D3…sk4Ksv`: enough to tell peers apart in a line.
    static func shortPeer(_ id: String) -> String {
        id.count > 14 ? "\(id.prefix(4))…\(id.suffix(6))" : id
    }

    /// Unknown members as `name value` pairs, in key order (nested objects flattened the same way).
    static func pairs(_ members: [String: JSON]) -> [String] {
        members.keys.sorted().map { "\(label($0)) \(text(members[$0]!))" }
    }

    /// A value as text for a person: strings bare, arrays space-separated, objects as pairs.
    static func text(_ json: JSON) -> String {
        switch json {
        case .string(let s): s
        case .array(let items): items.isEmpty ? "(none)" : items.map(text).joined(separator: " ")
        case .object(let members): members.isEmpty ? "(none)" : pairs(members).joined(separator: ", ")
        case .null: "-"
        default: json.encodedString
        }
    }

    static func label(_ key: String) -> String { String(key.map { $0 == "_" ? " " : $0 }) }

    static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

    /// `45 s`, `3 min 5 s`, `2 h 3 min`, `4 d 2 h`.
    static func duration(_ seconds: Int64) -> String {
        switch seconds {
        case ..<60: "\(seconds) s"
        case ..<3600: "\(seconds / 60) min \(seconds % 60) s"
        case ..<86400: "\(seconds / 3600) h \(seconds % 3600 / 60) min"
        default: "\(seconds / 86400) d \(seconds % 86400 / 3600) h"
        }
    }
}
