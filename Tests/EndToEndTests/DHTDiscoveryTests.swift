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

    /// The routing table's peers are saved (dht-peers.json): a restarted node rejoins without
    /// `--bootstrap`. A bootstrap peer that does not answer is a `doctor` finding with the reason.
    @Test func aRestartedNodeRejoinsWithoutBootstrapAndDoctorNamesADeadBootstrapPeer() throws {
        let a = DaemonHarness(), b = DaemonHarness(), c = DaemonHarness()
        let daemonA = try a.start(["--dht-mode", "server"])
        let addressA = try PeerConnectionTests.loopbackAddress(daemonA)
        let idA = String(addressA.split(separator: "/").last!)
        let first = try b.start(["--dht-mode", "server", "--bootstrap", addressA])
        #expect(ChildProcess.waitUntil(timeout: 30) { PyKadInteropTests.bootstrapped(b) })
        first.signal(SIGTERM)
        #expect(first.waitForExit(timeout: 10) == 0)
        let saved = try String(contentsOfFile: b.dataDir + "/dht-peers.json", encoding: .utf8)
        #expect(saved.contains(idA), "\(saved)")
        let second = try b.start(["--dht-mode", "server"])
        defer { daemonA.signal(SIGTERM); second.signal(SIGTERM) }
        #expect(ChildProcess.waitUntil(timeout: 30) { PyKadInteropTests.bootstrapped(b) }, "\(second.stderr.suffix(2000))")

        // Nothing listens on port 1: the bootstrap fails and doctor says so, and why.
        let dead = "/ip4/127.0.0.1/tcp/1/p2p/\(idA)"
        let daemonC = try c.start(["--dht-mode", "server", "--bootstrap", dead])
        defer { daemonC.signal(SIGTERM) }
        var report = ""
        #expect(ChildProcess.waitUntil(timeout: 20) {
            report = (try? c.ctl("doctor").stdout) ?? ""
            return report.contains("does not answer")
        }, "\(report)")
        #expect(report.contains("bootstrap peer \(dead)"), "\(report)")
        let status = try c.ctl("status")
        #expect(status.stdout.contains("dht: server mode, 0 peers in the routing table"), "\(status.stdout)")
    }

    /// `--dht-mode client` asks but does not serve: identify does not list the protocol.
    @Test func aClientDoesNotAdvertiseTheProtocolAndOffHasNoDHT() throws {
        let a = DaemonHarness(), b = DaemonHarness()
        let client = try a.start(["--dht-mode", "client"])
        let off = try b.start(["--dht-mode", "off"])
        defer { client.signal(SIGTERM); off.signal(SIGTERM) }
        let protocolsA = try GossipReplicationTests.call(a, .info)["protocols"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(!protocolsA.contains("/ipfs/kad/1.0.0"), "\(protocolsA)")
        #expect(try Self.dht(a)["mode"]?.stringValue == "client")
        #expect(try Self.dht(b)["mode"]?.stringValue == "off")
        let refused = try b.ctl("dht", "find-peer", "12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo")
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("the DHT is off"), "\(refused.stderr)")
        let badMode = try ChildProcess(BuiltProducts.path("p2p-syncd"), ["--dht-mode", "sometimes"], directory: a.directory.path, name: "bad")
        #expect(badMode.waitForExit(timeout: 10) != 0)
        #expect(badMode.stderr.contains("--dht-mode sometimes: give server, client, off or auto"), "\(badMode.stderr)")
    }
}
