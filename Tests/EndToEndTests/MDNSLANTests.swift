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

        // SIGKILL: no goodbye, but the kernel still closes its connections, so it is dropped at
        // once (its mDNS records stay until their TTL; a host that vanishes without a FIN is
        // dropped by the ping time-out, as PartitionTests shows).
        nodes[1].daemon?.signal(SIGKILL)
        _ = nodes[1].daemon?.waitForExit(timeout: 5)
        #expect(ChildProcess.waitUntil(timeout: 40) { PartitionTests.connectedPeers(nodes[0]) == 0 },
                "still connected: \((try? PeerConnectionTests.peers(nodes[0])) ?? [])")
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

/// mDNS interop on the namespace LAN: py-libp2p 0.8.1 and python-zeroconf.
@Suite(.serialized, .timeLimit(.minutes(4)))
struct MDNSInteropTests {
    typealias G = GossipReplicationTests

    @Test func pyLibp2pAndWeFindEachOtherByMDNSAndExchangeWrites() throws {
        guard let lan = try MDNSLANTests.lanOrSkip(2, "pyLibp2pAndWeFindEachOtherByMDNSAndExchangeWrites") else { return }
        defer { lan.tearDown() }
        let node = DaemonHarness()
        node.launcher = lan.launcher(0)
        node.mdns = true
        let py = try ChildProcess(NetnsLAN.ip, ["netns", "exec", lan.namespaces[1], try PyInteropTests.python(), PyGossipInteropTests.script,
                                                "--topic", "p2p-sync", "--host", lan.address(1), "--port", "4001", "--mdns", "--timeout", "120"],
                                  directory: node.directory.path, name: "py-mdns", stdin: true)
        defer { py.signal(SIGTERM) }
        #expect(ChildProcess.waitUntil(timeout: 30) { PyInteropTests.event(py, "listening") != nil }, "py: \(py.stderr.suffix(2000))")
        let pyID = try #require(PyGossipInteropTests.pyID(py))
        let daemon = try node.start(["--port", "4001"])
        let ourID = try PyGossipInteropTests.ourID(daemon)
        // py's mDNS listener found us (it has no other way to learn our address) ...
        #expect(ChildProcess.waitUntil(timeout: 30) {
            PyInteropTests.events(py).contains { $0["event"]?.stringValue == "discovered" && $0["peer_id"]?.stringValue == ourID }
        }, "py: \(py.stdout)\n\(py.stderr.suffix(2000))")
        // ... and ours found py.
        #expect(ChildProcess.waitUntil(timeout: 30) { daemon.stderr.contains("mDNS: found \(pyID)") }, "\(daemon.stderr.suffix(2000))")
        #expect(ChildProcess.waitUntil(timeout: 30) { PartitionTests.connectedPeers(node) == 1 && PyGossipInteropTests.pySubscribed(py, ourID) })
        #expect(ChildProcess.waitUntil(timeout: 10) { ((try? G.gossip(node))?["topic_peers"]?.intValue ?? 0) == 1 })
        _ = try G.call(node, .put(key: "mdns/ours", value: "from swift"))
        #expect(ChildProcess.waitUntil(timeout: 10) { PyGossipInteropTests.messages(py).contains { $0["data"]?.stringValue?.contains("mdns/ours") == true } })
        let timestamp = PyGossipInteropTests.recentTimestamp().text
        py.writeStdin("publish {\"Put\":{\"key\":\"mdns/py\",\"value\":\"from python\",\"timestamp\":\"\(timestamp)\"}}\n")
        #expect(ChildProcess.waitUntil(timeout: 10) { G.value(node, "mdns/py") == "from python" })
    }

    @Test func zeroconfListsOurDNSSDServiceWithPortAndPeerID() throws {
        guard let lan = try MDNSLANTests.lanOrSkip(2, "zeroconfListsOurDNSSDServiceWithPortAndPeerID") else { return }
        defer { lan.tearDown() }
        let node = DaemonHarness()
        node.launcher = lan.launcher(0)
        node.mdns = true
        let daemon = try node.start(["--port", "4123"])
        let ourID = try PyGossipInteropTests.ourID(daemon)
        // python-zeroconf (installed with py-libp2p) browsing from the other host.
        let browser = try ChildProcess(NetnsLAN.ip, ["netns", "exec", lan.namespaces[1], try PyInteropTests.python(), "-c", """
            import json, sys, time
            from zeroconf import ServiceBrowser, Zeroconf
            zc = Zeroconf()
            found = {}
            class Listener:
                def add_service(self, zc, type_, name):
                    info = zc.get_service_info(type_, name, timeout=3000)
                    if info:
                        found[name] = {"port": info.port, "addresses": info.parsed_addresses(),
                                       "properties": {k.decode(): (v or b"").decode() for k, v in info.properties.items()}}
                def update_service(self, *args): pass
                def remove_service(self, *args): pass
            ServiceBrowser(zc, "_p2p-sync._tcp.local.", Listener())
            end = time.time() + 15
            while time.time() < end and not found:
                time.sleep(0.2)
            time.sleep(0.5)
            print(json.dumps(found), flush=True)
            zc.close()
            """], directory: node.directory.path, name: "zeroconf-browse")
        #expect(browser.waitForExit(timeout: 40) == 0, "\(browser.stderr.suffix(2000))")
        let found = try JSONParser.parse(browser.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        let instance = try #require(found.objectValue?.first?.value, "zeroconf found nothing: \(browser.stdout) \(browser.stderr.suffix(1000))")
        #expect(found.objectValue?.first?.key == "\(ourID)._p2p-sync._tcp.local.")
        #expect(instance["port"]?.intValue == 4123)
        #expect(instance["properties"]?["peerid"]?.stringValue == ourID)
        #expect(instance["addresses"]?.arrayValue?.contains(.string(lan.address(0))) == true)
    }
}

/// `p2p-syncctl doctor` on the namespace LAN.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct DoctorTests {
    @Test func aHostWithoutAMulticastRouteIsToldHowToAddOne() throws {
        guard let lan = try MDNSLANTests.lanOrSkip(2, "aHostWithoutAMulticastRouteIsToldHowToAddOne") else { return }
        defer { lan.tearDown() }
        let healthy = DaemonHarness()
        healthy.launcher = lan.launcher(1)
        healthy.mdns = true
        _ = try healthy.start(["--port", "4001"])
        try NetnsLAN.run(["-n", lan.namespaces[0], "route", "del", "224.0.0.0/4"])
        let broken = DaemonHarness()
        broken.launcher = lan.launcher(0)
        broken.mdns = true
        _ = try broken.start(["--port", "4001"])
        let report = try broken.ctl("doctor")
        #expect(report.status == 0, "\(report.stderr)")
        #expect(report.stdout.contains("WARN eth0 (\(lan.address(0))) has no route for 224.0.0.0/4"), "\(report.stdout)")
        #expect(report.stdout.contains("-> ip route add 224.0.0.0/4 dev eth0"), "\(report.stdout)")
        let good = try healthy.ctl("doctor")
        #expect(good.stdout.contains("OK   eth0 (\(lan.address(1))) is up, multicast-capable, and 224.0.0.0/4 is routed through it"), "\(good.stdout)")
        #expect(good.stdout.contains("mDNS bound UDP 5353"))
        // A node started with --no-mdns is told so.
        let off = DaemonHarness()
        _ = try off.start()
        #expect(try off.ctl("doctor").stdout.contains("WARN mDNS is off (--no-mdns)"))
    }

    @Test func aPeerOnAnotherTopicIsReported() throws {
        let a = DaemonHarness(), b = DaemonHarness()
        let daemonA = try a.start(["--topic", "alpha"])
        _ = try b.start(["--topic", "beta", "--peer", try PeerConnectionTests.loopbackAddress(daemonA)])
        let idB = try #require(GossipReplicationTests.peerID(b))
        #expect(ChildProcess.waitUntil(timeout: 20) {
            (try? a.ctl("doctor"))?.stdout.contains("\(idB) is connected but not subscribed to our topic \"alpha\" (its topics: beta)") == true
        }, "\((try? a.ctl("doctor"))?.stdout ?? "")")
        #expect(try a.ctl("doctor").stdout.contains("-> start both nodes with the same --topic"))
    }
}

/// mDNS over IPv6 (ff02::fb) where the LAN has IPv6.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct MDNSIPv6Tests {
    @Test func weAnswerAndQueryOnFF02FB() throws {
        guard let lan = try MDNSLANTests.lanOrSkip(2, "weAnswerAndQueryOnFF02FB") else { return }
        defer { lan.tearDown() }
        // Wait for the link-local addresses to finish duplicate address detection.
        let ready = ChildProcess.waitUntil(timeout: 10) {
            lan.namespaces.allSatisfy { ns in
                let out = (try? NetnsLAN.run(["-n", ns, "-6", "addr", "show", "dev", "eth0", "scope", "link"])) ?? ""
                return out.contains("inet6 fe80") && !out.contains("tentative")
            }
        }
        if !ready {
            print("SKIPPED weAnswerAndQueryOnFF02FB: IPv6 is not up in the namespaces")
            return
        }
        let listener = try ChildProcess(NetnsLAN.ip, ["netns", "exec", lan.namespaces[1], "python3", "-c", """
            import socket, struct, time
            s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind(("::", 5353))
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, socket.inet_pton(socket.AF_INET6, "ff02::fb") + struct.pack("@I", socket.if_nametoindex("eth0")))
            s.settimeout(0.2)
            print("ready", flush=True)
            responses = queries = 0
            end = time.time() + 8
            while time.time() < end:
                try:
                    data, addr = s.recvfrom(9000)
                except socket.timeout:
                    continue
                if len(data) > 3 and data[2] & 0x80:
                    responses += 1
                else:
                    queries += 1
            print("responses", responses, "queries", queries, flush=True)
            """], directory: NSTemporaryDirectory(), name: "mdns6-listener-\(lan.prefix)")
        #expect(ChildProcess.waitUntil(timeout: 10) { listener.stdout.contains("ready") })
        let node = DaemonHarness()
        node.launcher = lan.launcher(0)
        node.mdns = true
        _ = try node.start(["--port", "4001"])
        #expect(listener.waitForExit(timeout: 20) == 0)
        let counts = listener.stdout.split(separator: "\n").last?.split(separator: " ").compactMap { Int($0) } ?? []
        #expect(counts.count == 2 && counts[0] >= 1 && counts[1] >= 1, "\(listener.stdout) \(listener.stderr)")
        let status = try GossipReplicationTests.call(node, .status)
        #expect(status["mdns"]?["interfaces_ipv6"]?.arrayValue == ["eth0"], "\(status["mdns"] ?? .null)")
    }
}
