import ControlProtocol
import Foundation
import JSON
import Testing
import TestSupport

/// Writes replicated over gossipsub between real daemons on loopback (issue 4).
@Suite(.serialized, .timeLimit(.minutes(4)))
struct GossipReplicationTests {
    static func call(_ node: DaemonHarness, _ command: ControlCommand) throws -> JSON {
        switch try node.client().call(command) {
        case .success(_, let result): return result
        case .failure(let error): throw error
        case .event(let e): return e
        }
    }

    static func value(_ node: DaemonHarness, _ key: String) -> String? {
        guard let result = try? call(node, .get(key: key)) else { return nil }
        return result["value"]?.stringValue
    }

    static func version(_ node: DaemonHarness, _ key: String) -> String? {
        guard let result = try? call(node, .get(key: key)) else { return nil }
        return (result["hlc"]?.stringValue ?? "") + "/" + (result["origin"]?.stringValue ?? "")
    }

    static func gossip(_ node: DaemonHarness) throws -> JSON { try call(node, .status)["gossip"] ?? .null }

    /// Starts `count` daemons, each given only the previous one's address.
    static func line(_ count: Int) throws -> (nodes: [DaemonHarness], daemons: [ChildProcess]) {
        var nodes: [DaemonHarness] = []
        var daemons: [ChildProcess] = []
        for i in 0..<count {
            let node = DaemonHarness()
            // No DHT: it would connect every node to every other and the line would be gone.
            let extra = ["--dht-mode", "off"] + (i == 0 ? [] : ["--peer", try PeerConnectionTests.loopbackAddress(daemons[i - 1])])
            daemons.append(try node.start(extra))
            nodes.append(node)
        }
        return (nodes, daemons)
    }

    @Test func aWriteCrossesALineOfTenDaemonsAndConcurrentWritesAgreeOnOneWinner() throws {
        let (nodes, daemons) = try Self.line(10)
        // Every daemon joins the mesh of its neighbours.
        let meshed = ChildProcess.waitUntil(timeout: 30) {
            nodes.indices.allSatisfy { i in
                let gossip = try? Self.gossip(nodes[i])
                let neighbours = i == 0 || i == nodes.count - 1 ? 1 : 2
                return gossip?["topic_peers"]?.intValue == Int64(neighbours) && gossip?["mesh_peers"]?.arrayValue?.count == neighbours
            }
        }
        #expect(meshed, "\(daemons.last!.stderr.suffix(2000))")

        let first = try Self.call(nodes[0], .put(key: "greeting", value: "hello from the first node"))
        #expect(first["delivery"]?.stringValue == "sent")
        #expect(ChildProcess.waitUntil(timeout: 10) { Self.value(nodes[9], "greeting") == "hello from the first node" },
                "\(daemons[9].stderr.suffix(3000))")
        let back = try Self.call(nodes[9], .put(key: "reply", value: "hello from the last"))
        #expect(back["delivery"]?.stringValue == "sent")
        #expect(ChildProcess.waitUntil(timeout: 10) { Self.value(nodes[0], "reply") == "hello from the last" })

        // The same key written on four nodes at once: every node ends with the same version.
        let writers = [0, 3, 6, 9]
        let clients = try writers.map { try nodes[$0].client() }
        for (i, client) in clients.enumerated() {
            try client.send(ControlRequest(id: .int(i), command: .put(key: "contended", value: "from node \(writers[i])")))
        }
        for client in clients { _ = try client.readResponse() }
        let agreed = ChildProcess.waitUntil(timeout: 15) {
            let versions = nodes.map { Self.version($0, "contended") }
            return versions.allSatisfy { $0 != nil && $0 == versions[0] }
        }
        let versions = nodes.map { Self.version($0, "contended") ?? "missing" }
        #expect(agreed, "versions: \(versions)")
        let values = Set(nodes.map { Self.value($0, "contended") ?? "missing" })
        #expect(values.count == 1, "values: \(values)")
        // The winner is the greatest (hlc, origin) of the four, as the merge rule says.
        let status = try Self.gossip(nodes[5])
        #expect((status["received"]?.intValue ?? 0) >= 4)
        #expect((status["forwarded"]?.intValue ?? 0) >= 4)
        #expect(status["invalid"]?.intValue == 0)
    }

    @Test func aWriteWithNoPeerIsQueuedAndArrivesWhenAPeerJoins() throws {
        let a = DaemonHarness()
        let daemonA = try a.start()
        let queued = try Self.call(a, .put(key: "early", value: "written alone"))
        #expect(queued["delivery"]?.stringValue == "queued")
        #expect(try Self.gossip(a)["queued"]?.intValue == 1)
        let b = DaemonHarness()
        _ = try b.start(["--peer", try PeerConnectionTests.loopbackAddress(daemonA)])
        #expect(ChildProcess.waitUntil(timeout: 15) { Self.value(b, "early") == "written alone" })
        #expect(try Self.gossip(a)["queued"]?.intValue == 0)
        #expect(try Self.gossip(a)["sent_from_queue"]?.intValue == 1)
    }

    @Test func aWriteRightAfterConnectingArrivesAndWatchShowsIt() throws {
        let a = DaemonHarness()
        let daemonA = try a.start()
        let b = DaemonHarness()
        _ = try b.start()
        // Watch on A before anything happens.
        let watcher = try a.client()
        try watcher.send(ControlRequest(id: 1, command: .watch(prefix: "w/")))
        guard case .success = try watcher.readResponse() else { Issue.record("watch refused"); return }
        // B connects and writes at once, before any heartbeat could build a mesh.
        let connect = try Self.call(b, .connect(multiaddr: try PeerConnectionTests.loopbackAddress(daemonA)))
        #expect(connect["peer_id"]?.stringValue != nil)
        let put = try Self.call(b, .put(key: "w/now", value: "right away"))
        #expect(["sent", "queued"].contains(put["delivery"]?.stringValue ?? ""))
        guard case .event(let event) = try watcher.readResponse() else { Issue.record("no watch event"); return }
        #expect(event["key"]?.stringValue == "w/now")
        #expect(event["value"]?.stringValue == "right away")
        #expect(event["source"]?.stringValue == "remote")
        // Deletes travel too.
        _ = try Self.call(b, .delete(key: "w/now"))
        guard case .event(let deleted) = try watcher.readResponse() else { Issue.record("no watch event for the delete"); return }
        #expect(deleted["deleted"]?.boolValue == true)
        #expect(Self.value(a, "w/now") == nil)
    }

    @Test func aBurstOfWritesArrivesWhole() throws {
        let (nodes, _) = try Self.line(2)
        #expect(ChildProcess.waitUntil(timeout: 20) { ((try? Self.gossip(nodes[0]))?["topic_peers"]?.intValue ?? 0) == 1 })
        let client = try nodes[0].client()
        let count = 500
        for i in 0..<count { try client.send(ControlRequest(id: .int(i), command: .put(key: "burst/\(i)", value: "v\(i)"))) }
        for _ in 0..<count { _ = try client.readResponse() }
        let arrived = ChildProcess.waitUntil(timeout: 20) {
            (try? Self.call(nodes[1], .list(prefix: "burst/", limit: nil)))?["count"]?.intValue == Int64(count)
        }
        #expect(arrived)
        // Batched: far fewer gossip messages than writes.
        let published = try Self.gossip(nodes[0])["published"]?.intValue ?? 0
        #expect(published > 0 && published < count / 2, "published \(published) messages for \(count) writes")
    }
}
