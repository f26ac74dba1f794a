import ControlProtocol
import Foundation
import JSON
import Testing
import TestSupport

/// mDNS on real multicast between network namespaces (issue 5): daemons started without
/// `--peer` find each other, connect and replicate.
@Suite(.serialized, .timeLimit(.minutes(4)))
struct MDNSLANTests {
    typealias G = GossipReplicationTests

    static func lanOrSkip(_ hosts: Int, _ test: String) throws -> NetnsLAN? {
        if let reason = NetnsLAN.unavailableReason() {
            print("SKIPPED \(test): \(reason)")
            return nil
        }
        return try NetnsLAN(hosts: hosts)
    }

    static func startNodes(_ lan: NetnsLAN, _ count: Int, extra: [String] = []) throws -> [DaemonHarness] {
        try (0..<count).map { i in
            let node = DaemonHarness()
            node.launcher = lan.launcher(i)
            node.mdns = true
            _ = try node.start(["--port", "4001"] + extra)
            return node
        }
    }

    @Test func threeNodesFindEachOtherConnectAndReplicate() throws {
        guard let lan = try Self.lanOrSkip(3, "threeNodesFindEachOtherConnectAndReplicate") else { return }
        defer { lan.tearDown() }
        let nodes = try Self.startNodes(lan, 3)
        defer { for node in nodes { node.daemon?.signal(SIGKILL) } }
        #expect(ChildProcess.waitUntil(timeout: 20) { nodes.allSatisfy { PartitionTests.connectedPeers($0) == 2 } },
                "connected: \(nodes.map(PartitionTests.connectedPeers)) \(nodes[0].daemon?.stderr.suffix(2000) ?? "")")
        let status = try G.call(nodes[0], .status)
        #expect(status["mdns"]?["peers_found"]?.intValue == 2)
        #expect(status["mdns"]?["interfaces"]?.arrayValue == ["eth0"])
        // Connected over the LAN address, not loopback.
        let rows = try PeerConnectionTests.peers(nodes[0])
        #expect(rows.allSatisfy { ($0["address"]?.stringValue ?? "").contains(lan.subnet) }, "\(rows)")
        _ = try G.call(nodes[2], .put(key: "lan", value: "found by mDNS"))
        #expect(ChildProcess.waitUntil(timeout: 10) { nodes.allSatisfy { G.value($0, "lan") == "found by mDNS" } })

        // SIGTERM: a goodbye, and the others forget it at once.
        nodes[2].daemon?.signal(SIGTERM)
        #expect(nodes[2].daemon?.waitForExit(timeout: 10) == 0)
        #expect(ChildProcess.waitUntil(timeout: 5) {
            ((try? PeerConnectionTests.peers(nodes[0])) ?? []).allSatisfy { $0["peer_id"]?.stringValue != G.peerID(nodes[2]) }
        }, "\((try? PeerConnectionTests.peers(nodes[0])) ?? [])")
        #expect((try G.call(nodes[0], .status))["mdns"]?["known"]?.intValue == 1)
    }

    @Test func noMDNSSendsNothingOnPort5353() throws {
        guard let lan = try Self.lanOrSkip(2, "noMDNSSendsNothingOnPort5353") else { return }
        defer { lan.tearDown() }
        // A listener in host 2 counts what arrives on 5353 from host 1.
        let listener = try ChildProcess(NetnsLAN.ip, ["netns", "exec", lan.namespaces[1], "python3", "-c", """
            import socket, struct, sys, time
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            s.bind(("0.0.0.0", 5353))
            s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, struct.pack("4s4s", socket.inet_aton("224.0.0.251"), socket.inet_aton("\(lan.address(1))")))
            s.settimeout(0.2)
            end = time.time() + float(sys.argv[1])
            count = 0
            print("ready", flush=True)
            while time.time() < end:
                try:
                    data, addr = s.recvfrom(9000)
                    if addr[0] == "\(lan.address(0))":
                        count += 1
                except socket.timeout:
                    pass
            print("packets", count, flush=True)
            """, "6"], directory: NSTemporaryDirectory(), name: "mdns-listener-\(lan.prefix)")
        #expect(ChildProcess.waitUntil(timeout: 10) { listener.stdout.contains("ready") })
        let quiet = DaemonHarness()
        quiet.launcher = lan.launcher(0)
        _ = try quiet.start(["--port", "4001"])  // mdns stays false: --no-mdns
        #expect(listener.waitForExit(timeout: 20) == 0)
        #expect(listener.stdout.contains("packets 0"), "\(listener.stdout) \(listener.stderr)")
        #expect(try G.call(quiet, .status)["mdns"]?["enabled"]?.boolValue == false)
        // The same listener sees a node with mDNS on.
        let loud = DaemonHarness()
        loud.launcher = lan.launcher(0)
        loud.mdns = true
        let listener2 = try ChildProcess(listener.process.executableURL!.path, listener.process.arguments!,
                                         directory: NSTemporaryDirectory(), name: "mdns-listener2-\(lan.prefix)")
        #expect(ChildProcess.waitUntil(timeout: 10) { listener2.stdout.contains("ready") })
        quiet.daemon?.signal(SIGTERM)
        _ = quiet.daemon?.waitForExit(timeout: 10)
        _ = try loud.start(["--port", "4002"])
        #expect(listener2.waitForExit(timeout: 20) == 0)
        #expect(!listener2.stdout.contains("packets 0"), "\(listener2.stdout)")
        loud.daemon?.signal(SIGTERM)
    }
}

extension GossipReplicationTests {
    static func peerID(_ node: DaemonHarness) -> String? { (try? call(node, .status))?["peer_id"]?.stringValue }
}
