import ControlProtocol
import Foundation
import JSON
import Testing
import TestSupport

/// Issue 12: nodes find their group through the DHT, with no mDNS and no `--peer`.
@Suite(.serialized, .timeLimit(.minutes(4)))
struct DHTDiscoveryTests {
    static func dht(_ node: DaemonHarness) throws -> JSON { try GossipReplicationTests.call(node, .dht) }

    static func topicPeers(_ node: DaemonHarness) -> Int {
        Int(((try? GossipReplicationTests.gossip(node))?["topic_peers"]?.intValue) ?? 0)
    }

    /// Thirty daemons, each bootstrapped from one of the first three, join one gossip mesh
    /// through provider lookups alone, and a write reaches every one of them.
    @Test func thirtyDaemonsFindTheirGroupThroughTheDHTAndAWriteReachesAll() throws {
        let count = 30
        var nodes: [DaemonHarness] = []
        var daemons: [ChildProcess] = []
        var seeds: [String] = []
        for i in 0..<count {
            let node = DaemonHarness()
            let bootstrap = i == 0 ? [] : ["--bootstrap", seeds[i % min(i, 3)]]
            let daemon = try node.start(bootstrap + ["--dht-mode", "server"])
            if i < 3 { seeds.append(try PeerConnectionTests.loopbackAddress(daemon)) }
            nodes.append(node)
            daemons.append(daemon)
        }
        defer { for d in daemons { d.signal(SIGTERM) } }
        // Every node ends up with group peers it was never told about: the DHT found them.
        let joined = ChildProcess.waitUntil(timeout: 90) { nodes.allSatisfy { Self.topicPeers($0) >= 3 } }
        let lonely = nodes.indices.filter { Self.topicPeers(nodes[$0]) < 3 }
        #expect(joined, "nodes with fewer than 3 topic peers: \(lonely); \(lonely.first.map { daemons[$0].stderr.suffix(3000) } ?? "")")
        for node in nodes.suffix(3) {
            let table = try Self.dht(node)
            #expect((table["routing_table"]?.intValue ?? 0) >= 3, "\(table)")
            #expect(table["last_bootstrap"]?["outcome"]?.stringValue?.hasPrefix("ok") == true, "\(table)")
        }
        let put = try GossipReplicationTests.call(nodes[count - 1], .put(key: "dht/hello", value: "everyone"))
        #expect(put["delivery"]?.stringValue == "sent")
        let reached = ChildProcess.waitUntil(timeout: 30) {
            nodes.allSatisfy { GossipReplicationTests.value($0, "dht/hello") == "everyone" }
        }
        #expect(reached, "missing on: \(nodes.indices.filter { GossipReplicationTests.value(nodes[$0], "dht/hello") != "everyone" })")
    }

    /// `connect PEER_ID` resolves the address through FIND_NODE; `dht find-peer` and
    /// `dht providers` show what the DHT knows; put/get round-trip a value record.
    @Test func connectByPeerIDAndTheDHTCommands() throws {
        let a = DaemonHarness(), b = DaemonHarness(), c = DaemonHarness()
        let daemonA = try a.start(["--dht-mode", "server", "--topic", "t1"])
        let addressA = try PeerConnectionTests.loopbackAddress(daemonA)
        let daemonB = try b.start(["--dht-mode", "server", "--bootstrap", addressA, "--topic", "t2"])
        let idB = String(try PeerConnectionTests.loopbackAddress(daemonB).split(separator: "/").last!)
        let daemonC = try c.start(["--dht-mode", "server", "--bootstrap", addressA, "--topic", "t3"])
        defer { for d in [daemonA, daemonB, daemonC] { d.signal(SIGTERM) } }
        // Different topics: the DHT is shared, the groups are not, so C is not connected to B.
        #expect(ChildProcess.waitUntil(timeout: 30) {
            ((try? Self.dht(c))?["last_bootstrap"]?["outcome"]?.stringValue?.hasPrefix("ok")) == true
                && ((try? Self.dht(b))?["last_bootstrap"]?["outcome"]?.stringValue?.hasPrefix("ok")) == true
        })
        let found = try c.ctl("dht", "find-peer", idB)
        #expect(found.status == 0, "\(found.stderr)")
        #expect(found.stdout.contains("/tcp/"), "\(found.stdout)")
        let connected = try c.ctl("connect", idB)
        #expect(connected.status == 0, "\(connected.stderr)")
        #expect(connected.stdout.contains(idB))

        let providers = try GossipReplicationTests.call(c, .dhtProviders(topic: "t2"))
        #expect(providers["providers"]?.arrayValue?.contains { $0["peer_id"]?.stringValue == idB } == true, "\(providers)")

        let put = try b.ctl("dht", "put", "greeting", "hello from b")
        #expect(put.status == 0, "\(put.stderr)")
        let got = try c.ctl("--json", "dht", "get", "greeting")
        #expect(got.status == 0, "\(got.stderr)")
        #expect(got.stdout.contains("hello from b"), "\(got.stdout)")

        let unknown = try c.ctl("dht", "find-peer", "12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo")
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("not found"), "\(unknown.stderr)")
        let bad = try c.ctl("dht", "find-peer", "nonsense")
        #expect(bad.status != 0)
    }
}
