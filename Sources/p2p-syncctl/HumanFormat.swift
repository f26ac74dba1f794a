import ControlProtocol
import Foundation
import JSON

/// How results look to a person (`--json` prints them as they came).
enum HumanFormat {
    static func render(_ result: JSON, for command: ControlCommand) -> String {
        switch command {
        case .get:
            // Just the value, so that `$(p2p-syncctl get k)` works in scripts.
            return (result["value"]?.stringValue ?? "") + "\n"
        case .put(let key, _):
            let hlc = result["hlc"]?.stringValue ?? "?"
            return "stored \(key) (version \(hlc); \(deliveryText(result)))\n"
        case .delete(let key):
            let existed = result["existed"]?.boolValue ?? true
            return existed ? "deleted \(key)\n" : "deleted \(key) (it did not exist here; a tombstone was recorded)\n"
        case .list:
            let entries = result["entries"]?.arrayValue ?? []
            return entries.map { "\($0["key"]?.stringValue ?? "")\t\($0["value"]?.stringValue ?? "")\n" }.joined()
        case .peers:
            let peers = result["peers"]?.arrayValue ?? []
            if peers.isEmpty { return "no peers\n" }
            return peers.map { peer in
                let id = peer["peer_id"]?.stringValue ?? "?"
                let state = peer["state"]?.stringValue ?? "?"
                let transport = peer["transport"]?.stringValue ?? "-"
                let rtt = peer["rtt_ms"]?.doubleValue.map { "\($0) ms" } ?? "-"
                let agent = peer["agent"]?.stringValue ?? "-"
                // The peer's clock minus ours: `clock +300.0 s` for a peer five minutes ahead.
                let clock = peer["clock_offset_ms"]?.doubleValue.map { "  clock \(signedSeconds($0))" } ?? ""
                var notes: [String] = []
                if let n = peer["refused_our_writes"]?.intValue { notes.append("refused \(n) of our writes for their clock") }
                if let n = peer["writes_refused_for_clock"]?.intValue { notes.append("\(n) of its writes refused here for their clock") }
                return "\(id)  \(state)  \(transport)  rtt \(rtt)\(clock)  \(agent)" + (notes.isEmpty ? "" : "  (\(notes.joined(separator: "; ")))") + "\n"
            }.joined()
        case .ping(let peer, _):
            let sent = result["sent"]?.intValue ?? 0
            let received = result["received"]?.intValue ?? 0
            var line = "\(received) of \(sent) pings to \(peer) answered"
            if let mn = result["min_ms"]?.doubleValue, let avg = result["avg_ms"]?.doubleValue, let mx = result["max_ms"]?.doubleValue {
                line += "; rtt min/avg/max \(mn)/\(avg)/\(mx) ms"
            }
            return line + "\n"
        case .perf(let peer, _, _):
            func rate(_ key: String) -> String { result[key]?.doubleValue.map { String(format: "%.1f MB/s", $0) } ?? "-" }
            return "perf with \(peer): upload \(result["upload_bytes"]?.intValue ?? 0) bytes at \(rate("upload_mb_per_s")), "
                + "download \(result["download_bytes"]?.intValue ?? 0) bytes at \(rate("download_mb_per_s"))\n"
        case .doctor:
            return (result["findings"]?.arrayValue ?? []).map { finding in
                let level = (finding["level"]?.stringValue ?? "?").uppercased()
                var line = "\(level.padding(toLength: 4, withPad: " ", startingAt: 0)) \(finding["text"]?.stringValue ?? "")"
                if let fix = finding["fix"]?.stringValue { line += "\n     -> \(fix)" }
                return line + "\n"
            }.joined()
        case .digest:
            return "\(result["digest"]?.stringValue ?? "?")  \(result["items"]?.intValue ?? 0) keys (tombstones included)\n"
        case .status:
            return status(result)
        case .dht:
            return dht(result)
        case .dhtFindPeer(let peer):
            let addresses = result["addrs"]?.arrayValue ?? []
            return "\(peer):\n" + addresses.map { "  \(text($0))\n" }.joined()
        case .dhtProviders:
            let providers = result["providers"]?.arrayValue ?? []
            var out = "providers of topic \"\(result["topic"]?.stringValue ?? "?")\" (\(result["key"]?.stringValue ?? "?")): \(providers.count)\n"
            for p in providers {
                let connected = p["connected"]?.boolValue == true ? "  connected" : ""
                out += "  \(p["peer_id"]?.stringValue ?? "?")\(connected)  \((p["addrs"]?.arrayValue ?? []).map(text).joined(separator: " "))\n"
            }
            return out
        case .dhtPut(let key, _):
            return "stored \(key) in the DHT at \(result["stored_at"]?.intValue ?? 0) peer(s)\n"
        case .dhtGet:
            return (result["value"]?.stringValue ?? "") + "\n"
        case .groupCreate:
            return "created group \(result["group"]?.stringValue ?? "?"); this node is its admin\ninvite: \(result["invite"]?.stringValue ?? "?")\n"
        case .groupInvite:
            // Just the line, so that `$(p2p-syncctl group invite)` works in scripts.
            return (result["invite"]?.stringValue ?? "") + "\n"
        case .groupJoin:
            return "joined group \(result["group"]?.stringValue ?? "?"); dialing \(result["dialing"]?.intValue ?? 0) address(es) of the admin\n"
        case .members:
            guard result["mode"]?.stringValue == "group" else { return "open mode: no group (p2p-syncctl group create, or group join INVITE)\n" }
            let members = result["members"]?.arrayValue ?? []
            return "group \(result["group"]?.stringValue ?? "?"): \(members.count) member(s)\n" + members.map { m in
                var notes: [String] = []
                if m["self"]?.boolValue == true { notes.append("this node") }
                if m["founder"]?.boolValue == true { notes.append("founder") }
                return "\(m["peer_id"]?.stringValue ?? "?")  \(m["role"]?.stringValue ?? "?")" + (notes.isEmpty ? "" : "  (\(notes.joined(separator: ", ")))") + "\n"
            }.joined()
        case .memberSet(let peer, _):
            return "\(peer) is now \(result["role"]?.stringValue ?? "?")\n"
        case .memberRemove(let peer):
            return "removed \(peer); every member disconnects it and refuses its later writes\n"
        case .audit(_, let verify):
            if verify { return "audit log intact: \(result["lines"]?.intValue ?? 0) line(s) chained\n" }
            return (result["lines"]?.arrayValue ?? []).map { ($0.stringValue ?? "") + "\n" }.joined()
        case .connect:
            return "connected to \(result["peer_id"]?.stringValue ?? "?") (\(result["agent"]?.stringValue ?? "unknown agent"))\n"
        default:
            return fields(result)
        }
    }

    /// `p2p-syncctl dht`: mode, table per bucket, records, the last bootstrap and group lookup.
    static func dht(_ result: JSON) -> String {
        if result["mode"]?.stringValue == "off" { return "the DHT is off (--dht-mode off)\n" }
        var lines: [String] = []
        lines.append("mode: \(result["mode"]?.stringValue ?? "?") (\(result["protocol"]?.stringValue ?? "?"))")
        let buckets = (result["buckets"]?.arrayValue ?? []).map { "\($0["bucket"]?.intValue ?? 0):\($0["peers"]?.intValue ?? 0)" }
        lines.append("routing table: \(result["routing_table"]?.intValue ?? 0) peers" + (buckets.isEmpty ? "" : " (bucket:peers \(buckets.joined(separator: " ")))"))
        lines.append("records: \(result["records"]?.intValue ?? 0) values, \(result["provider_keys"]?.intValue ?? 0) provider keys")
        lines.append("group key: \(result["group_key"]?.stringValue ?? "?")")
        if let b = result["last_bootstrap"] {
            lines.append("last bootstrap: \(b["seconds_ago"]?.intValue ?? 0) s ago, \(b["outcome"]?.stringValue ?? "?")")
        } else {
            lines.append("last bootstrap: none yet")
        }
        if let g = result["last_group_lookup"] {
            lines.append("last group lookup: \(g["seconds_ago"]?.intValue ?? 0) s ago, \(g["providers"]?.intValue ?? 0) providers, \(g["dialed"]?.intValue ?? 0) dialed")
        }
        let boot = result["bootstrap_peers"]?.arrayValue ?? []
        if !boot.isEmpty { lines.append("bootstrap peers:"); lines += boot.map { "  \(text($0))" } }
        lines.append("lookups run: \(result["lookups"]?.intValue ?? 0)")
        lines.append("requests answered: \(result["requests_served"]?.intValue ?? 0), refused: \(result["requests_refused"]?.intValue ?? 0)")
        return lines.map { $0 + "\n" }.joined()
    }

    /// `+300.0 s`, `-0.4 s` from milliseconds.
    static func signedSeconds(_ millis: Double) -> String {
        // `+ 0.0` turns a rounded -0.0 into 0.0 (else it printed as "+-0.0 s").
        let seconds = (millis / 100).rounded() / 10 + 0.0
        return (seconds >= 0 ? "+" : "") + "\(seconds) s"
    }

    private static func deliveryText(_ result: JSON) -> String {
        switch result["delivery"]?.stringValue {
        case "queued": "queued: no peer subscribed yet; it is sent when one joins"
        case "sent": "sent to \(result["peers"]?.intValue ?? 0) peer(s)"
        case "announced": "announced to \(result["peers"]?.intValue ?? 0) peer(s); too large for one gossip message, they fetch it by catch-up"
        case "local": "stored locally; not replicated"
        case let other?: other
        case nil: "stored"
        }
    }

    /// `name: value` lines in a stable order; arrays one item per line.
    static func fields(_ json: JSON) -> String {
        guard case .object(let members) = json else { return json.encodedString + "\n" }
        var out = ""
        for key in members.keys.sorted() {
            let label = key.replacingUnderscores
            switch members[key]! {
            case .array(let items):
                if items.isEmpty { out += "\(label): (none)\n"; continue }
                out += "\(label):\n"
                for item in items { out += "  \(text(item))\n" }
            case .string(let s): out += "\(label): \(s)\n"
            // Nested objects as `name value` pairs, not JSON: this is for people.
            case let other: out += "\(label): \(text(other))\n"
            }
        }
        return out
    }

    static func event(_ event: JSON) -> String {
        let key = event["key"]?.stringValue ?? "?"
        let source = event["source"]?.stringValue ?? "?"
        if event["deleted"]?.boolValue == true { return "del \(key) (\(source))" }
        return "put \(key) = \(event["value"]?.stringValue ?? "") (\(source))"
    }
}

extension String {
    fileprivate var replacingUnderscores: String { String(map { $0 == "_" ? " " : $0 }) }
}
