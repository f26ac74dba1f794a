import ControlProtocol
import Foundation
import JSON
import Testing
import TestSupport

/// Catch-up between real daemons (issue 6): late joiners, restarted nodes and crashes end
/// with the same replica as everyone else.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct CatchUpTests {
    typealias G = GossipReplicationTests

    /// `count` writes pipelined on one control connection; returns the acknowledged keys.
    @discardableResult
    static func write(_ node: DaemonHarness, _ count: Int, prefix: String, value: (Int) -> String? = { "value \($0)" }) throws -> [String] {
        let client = try node.client()
        var keys: [String] = []
        for i in 0..<count {
            let key = "\(prefix)\(i)"
            let command: ControlCommand = value(i).map { .put(key: key, value: $0) } ?? .delete(key: key)
            try client.send(ControlRequest(id: .int(i), command: command))
            keys.append(key)
        }
        for _ in 0..<count {
            guard case .success = try client.readResponse() else { throw HarnessError.timedOut(["write"]) }
        }
        return keys
    }

    static func digest(_ node: DaemonHarness) -> String? { (try? G.call(node, .digest(prefix: nil)))?["digest"]?.stringValue }

    /// Every live entry with its version: the full dump compared between replicas.
    static func dump(_ node: DaemonHarness) throws -> [String] {
        try G.call(node, .list(prefix: nil, limit: nil))["entries"]?.arrayValue?.map {
            "\($0["key"]?.stringValue ?? "")=\($0["value"]?.stringValue ?? "")@\($0["hlc"]?.stringValue ?? "")/\($0["origin"]?.stringValue ?? "")"
        } ?? []
    }

    static func converged(_ nodes: [DaemonHarness], timeout: Double = 60) -> Bool {
        ChildProcess.waitUntil(timeout: timeout) {
            let digests = nodes.map(digest)
            return digests[0] != nil && digests.allSatisfy { $0 == digests[0] }
        }
    }

    @Test func aLateJoinerWithAnEmptyStoreCatchesUpOnFiveThousandWrites() throws {
        let (nodes, daemons) = try G.line(3)
        #expect(ChildProcess.waitUntil(timeout: 20) { ((try? G.gossip(nodes[1]))?["topic_peers"]?.intValue ?? 0) == 2 })
        try Self.write(nodes[0], 2000, prefix: "a/")
        try Self.write(nodes[2], 2000, prefix: "c/")
        try Self.write(nodes[1], 1000, prefix: "a/", value: { $0 % 2 == 0 ? "overwritten \($0)" : nil })
        #expect(Self.converged(nodes), "\(nodes.map(Self.digest))")

        let late = DaemonHarness()
        _ = try late.start(["--peer", try PeerConnectionTests.loopbackAddress(daemons[2])])
        #expect(Self.converged(nodes + [late]), "\((nodes + [late]).map(Self.digest))")
        let expected = try Self.dump(nodes[0])
        #expect(expected.count == 3500)
        #expect(try Self.dump(late) == expected)
        let sync = try #require(try PeerConnectionTests.peers(late).first?["last_sync"])
        #expect(sync["entries_received"]?.intValue == 4000)  // 3500 live + 500 tombstones
        #expect(sync["error"] == nil)
    }

    @Test func aNodeStoppedDuringWritesRestartsAndConverges() throws {
        let (nodes, daemons) = try G.line(3)
        #expect(ChildProcess.waitUntil(timeout: 20) { ((try? G.gossip(nodes[1]))?["topic_peers"]?.intValue ?? 0) == 2 })
        try Self.write(nodes[0], 1000, prefix: "k/")
        #expect(Self.converged(nodes))
        // Stop the last node; the others overwrite and delete keys it holds, and add new ones.
        daemons[2].signal(SIGTERM)
        #expect(daemons[2].waitForExit(timeout: 20) == 0)
        try Self.write(nodes[0], 1000, prefix: "k/", value: { $0 % 3 == 0 ? nil : "second \($0)" })
        try Self.write(nodes[1], 4000, prefix: "new/")
        // Well inside the 30 s between periodic reconciliations: the one on connect did it.
        let restarted = try nodes[2].start(["--peer", try PeerConnectionTests.loopbackAddress(daemons[1])])
        #expect(Self.converged(nodes, timeout: 20), "\(nodes.map(Self.digest)) \((try? PeerConnectionTests.peers(nodes[2])) ?? []) \(restarted.stderr.suffix(3000))")
        #expect(try Self.dump(nodes[2]) == (try Self.dump(nodes[0])))
        // No deleted key came back.
        #expect(G.value(nodes[2], "k/0") == nil)
        #expect(G.value(nodes[2], "k/3") == nil)
        #expect(G.value(nodes[2], "k/1") == "second 1")
    }

    @Test func everyAcknowledgedWriteSurvivesKillNine() throws {
        let (nodes, daemons) = try G.line(2)
        #expect(ChildProcess.waitUntil(timeout: 20) { ((try? G.gossip(nodes[1]))?["topic_peers"]?.intValue ?? 0) == 1 })
        // A client writes as fast as it can (64 in flight) while node 1 is killed.
        let client = try nodes[1].client()
        var acknowledged: [String] = []
        var sent = 0
        let killer = Thread {
            usleep(300_000)
            daemons[1].signal(SIGKILL)
        }
        killer.start()
        var inFlight = 0
        writing: while sent < 100_000 {
            while inFlight < 64 {
                do { try client.send(ControlRequest(id: .int(sent), command: .put(key: "crash/\(sent)", value: "v\(sent)"))) } catch { break writing }
                sent += 1
                inFlight += 1
            }
            do {
                guard case .success(let id, _) = try client.readResponse() else { break }
                acknowledged.append("crash/\(id.intValue ?? -1)")
                inFlight -= 1
            } catch { break }
        }
        #expect(daemons[1].waitForExit(timeout: 10) != nil)
        #expect(acknowledged.count > 100, "only \(acknowledged.count) writes acknowledged before the kill")
        _ = try nodes[1].start(["--peer", try PeerConnectionTests.loopbackAddress(daemons[0])])
        let here = Set(try G.call(nodes[1], .list(prefix: "crash/", limit: nil))["entries"]?.arrayValue?.compactMap { $0["key"]?.stringValue } ?? [])
        let lost = acknowledged.filter { !here.contains($0) }
        #expect(lost.isEmpty, "\(lost.count) acknowledged writes lost, e.g. \(lost.prefix(5))")
        // And after catch-up the other node has them all too.
        #expect(Self.converged(nodes))
        let there = Set(try G.call(nodes[0], .list(prefix: "crash/", limit: nil))["entries"]?.arrayValue?.compactMap { $0["key"]?.stringValue } ?? [])
        #expect(acknowledged.allSatisfy { there.contains($0) })
    }

    @Test func aRestartedNodeReconnectsToThePeersItKnewWithoutPeerArguments() throws {
        let a = DaemonHarness(), b = DaemonHarness()
        let daemonA = try a.start()
        let daemonB = try b.start(["--peer", try PeerConnectionTests.loopbackAddress(daemonA)])
        #expect(ChildProcess.waitUntil(timeout: 20) { PartitionTests.connectedPeers(b) == 1 })
        let idA = try #require(G.peerID(a))
        // peers.json is written a second after the connection.
        #expect(ChildProcess.waitUntil(timeout: 10) {
            ((try? String(contentsOfFile: b.dataDir + "/peers.json", encoding: .utf8)) ?? "").contains(idA)
        })
        daemonB.signal(SIGTERM)
        #expect(daemonB.waitForExit(timeout: 10) == 0)
        _ = try G.call(a, .put(key: "while-away", value: "caught up"))
        _ = try b.start()  // no --peer
        #expect(ChildProcess.waitUntil(timeout: 20) { PartitionTests.connectedPeers(b) == 1 }, "\(b.daemon?.stderr.suffix(2000) ?? "")")
        #expect(ChildProcess.waitUntil(timeout: 20) { G.value(b, "while-away") == "caught up" })
        let attributes = try FileManager.default.attributesOfItem(atPath: b.dataDir + "/peers.json")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    /// Item lists and wants of several MiB (long keys): more than yamux may hold for a stream
    /// at once, so they must wait for the window rather than be refused (a bug found by perf/run).
    @Test func catchUpMessagesLargerThanTheMuxerQueueArriveWhole() throws {
        let a = DaemonHarness()
        let daemonA = try a.start()
        let longPrefix = "k/" + String(repeating: "x", count: 240) + "/"
        try Self.write(a, 8000, prefix: longPrefix)
        let b = DaemonHarness()
        _ = try b.start(["--peer", try PeerConnectionTests.loopbackAddress(daemonA)])
        #expect(Self.converged([a, b], timeout: 60), "\([a, b].map(Self.digest))")
        // The session's record is written when it ends, just after the last entries land.
        #expect(ChildProcess.waitUntil(timeout: 10) { ((try? PeerConnectionTests.peers(b)) ?? []).first?["last_sync"] != nil })
        let sync = try #require(try PeerConnectionTests.peers(b).first?["last_sync"])
        // A's publish queue also flushes to B once B subscribes, so a few entries may arrive by
        // gossip first; every entry is applied once, and nearly all of them came by catch-up.
        #expect((sync["entries_received"]?.intValue ?? 0) > 7000, "\(sync)")
        let status = try G.call(b, .status)
        #expect(status["remote_applied"]?.intValue == 8000, "\(status)")
        #expect((sync["bytes_received"]?.intValue ?? 0) > 2 << 20)
    }
}
