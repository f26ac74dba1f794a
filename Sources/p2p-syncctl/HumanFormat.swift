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
                let rtt = peer["rtt_ms"]?.doubleValue.map { "\($0) ms" } ?? "-"
                let agent = peer["agent"]?.stringValue ?? "-"
                // The peer's clock minus ours: `clock +300.0 s` for a peer five minutes ahead.
                let clock = peer["clock_offset_ms"]?.doubleValue.map { "  clock \(signedSeconds($0))" } ?? ""
                var notes: [String] = []
                if let n = peer["refused_our_writes"]?.intValue { notes.append("refused \(n) of our writes for their clock") }
                if let n = peer["writes_refused_for_clock"]?.intValue { notes.append("\(n) of its writes refused here for their clock") }
                return "\(id)  \(state)  rtt \(rtt)\(clock)  \(agent)" + (notes.isEmpty ? "" : "  (\(notes.joined(separator: "; ")))") + "\n"
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
        case .connect:
            return "connected to \(result["peer_id"]?.stringValue ?? "?") (\(result["agent"]?.stringValue ?? "unknown agent"))\n"
        default:
            return fields(result)
        }
    }

    /// `+300.0 s`, `-0.4 s` from milliseconds.
    static func signedSeconds(_ millis: Double) -> String {
        let seconds = (millis / 100).rounded() / 10
        return (seconds >= 0 ? "+" : "") + "\(seconds) s"
    }

    private static func deliveryText(_ result: JSON) -> String {
        switch result["delivery"]?.stringValue {
        case "queued": "queued: no peer subscribed yet; it is sent when one joins"
        case "sent": "sent to \(result["peers"]?.intValue ?? 0) peer(s)"
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
