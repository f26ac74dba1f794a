import ControlProtocol
import Foundation
import JSON
import Testing
import TestSupport

/// Gossipsub interop with py-libp2p 0.8.1 (issue 4): writes made with `p2p-syncctl add` reach
/// py in the seed's JSON shape, py's seed-shaped writes land in our store, and py relays
/// between two of our nodes. py's side: `Tests/Interop/py_gossip_peer.py`.
@Suite(.serialized, .timeLimit(.minutes(4)))
struct PyGossipInteropTests {
    static let script = PyInteropTests.repositoryRoot + "/Tests/Interop/py_gossip_peer.py"
    static let topic = "p2p-sync"

    /// A py gossip peer; `connect` dials those addresses.
    static func startPy(_ node: DaemonHarness, name: String, transport: String = "tcp", connect: [String] = [],
                        extra: [String] = []) throws -> ChildProcess {
        var arguments = [script, "--topic", topic, "--timeout", "120", "--transport", transport] + extra
        for address in connect { arguments += ["--connect", address] }
        let py = try ChildProcess(try PyInteropTests.python(), arguments, directory: node.directory.path, name: name, stdin: true)
        #expect(ChildProcess.waitUntil(timeout: 30) { PyInteropTests.event(py, "listening") != nil }, "py: \(py.stderr.suffix(2000))")
        return py
    }

    static func pyID(_ py: ChildProcess) -> String? { PyInteropTests.event(py, "listening")?["peer_id"]?.stringValue }
    static func pyAddress(_ py: ChildProcess) -> String? { PyInteropTests.event(py, "listening")?["addrs"]?.arrayValue?.first?.stringValue }

    static func messages(_ py: ChildProcess) -> [JSON] {
        PyInteropTests.events(py).filter { $0["event"]?.stringValue == "message" }
    }

    static func pySubscribed(_ py: ChildProcess, _ peer: String) -> Bool {
        PyInteropTests.events(py).contains { $0["event"]?.stringValue == "peer_subscribed" && $0["peer_id"]?.stringValue == peer }
    }

    /// A seed-style timestamp a minute ago (the clock rule refuses versions over 60 s ahead).
    static func recentTimestamp() -> (text: String, millis: Int64) {
        let millis = Int64((Date().timeIntervalSince1970 - 60) * 1000)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return (formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000)), millis)
    }

    static func ourID(_ daemon: ChildProcess) throws -> String {
        String(try PeerConnectionTests.loopbackAddress(daemon).split(separator: "/").last!)
    }

    /// Our write reaches py as `{"Put":{...}}` with the seed's fields; py's seed-shaped write
    /// lands in our store with py as its origin.
    static func exchange(_ node: DaemonHarness, _ daemon: ChildProcess, _ py: ChildProcess, tag: String) throws {
        let ours = try ourID(daemon)
        #expect(ChildProcess.waitUntil(timeout: 20) { pySubscribed(py, ours) }, "py: \(py.stdout)")
        // py publishes to its mesh only (no flood publishing): wait until we grafted py, so
        // that py's mesh holds us too (a fast QUIC connect can get here before our heartbeat).
        #expect(ChildProcess.waitUntil(timeout: 10) {
            ((try? GossipReplicationTests.gossip(node))?["mesh_peers"]?.arrayValue?.count ?? 0) >= 1
        })
        let put = try GossipReplicationTests.call(node, .put(key: "\(tag)/ours", value: "from swift ✓"))
        #expect(put["delivery"]?.stringValue == "sent")
        #expect(ChildProcess.waitUntil(timeout: 10) { !messages(py).isEmpty }, "py: \(py.stdout)\n\(py.stderr.suffix(2000))")
        let message = try #require(messages(py).first)
        #expect(message["from"]?.stringValue == ours)
        #expect(message["topic"]?.stringValue == topic)
        let data = try JSONParser.parse(try #require(message["data"]?.stringValue))
        let body = try #require(data["Put"], "\(data)")
        #expect(body["key"]?.stringValue == "\(tag)/ours")
        #expect(body["value"]?.stringValue == "from swift ✓")
        let timestamp = try #require(body["timestamp"]?.stringValue)
        #expect(timestamp.count == 24 && timestamp.hasSuffix("Z") && timestamp.dropFirst(10).first == "T", "\(timestamp)")
        #expect(body["origin"]?.stringValue == ours)
        #expect(body["hlc"]?.stringValue != nil)

        let (timestamp0, millis) = recentTimestamp()
        py.writeStdin("publish {\"Put\":{\"key\":\"\(tag)/py\",\"value\":\"from python\",\"timestamp\":\"\(timestamp0)\"}}\n")
        #expect(ChildProcess.waitUntil(timeout: 10) { GossipReplicationTests.value(node, "\(tag)/py") == "from python" },
                "ours: \(daemon.stderr.suffix(6000))\npy: \(py.stdout.suffix(2000))\n\(py.stderr.suffix(3000))")
        let stored = try GossipReplicationTests.call(node, .get(key: "\(tag)/py"))
        #expect(stored["origin"]?.stringValue == pyID(py))
        #expect(stored["hlc"]?.stringValue == "\(millis):0", "\(stored)")
    }

    @Test func pyDialsUsAndWritesCrossBothWays() throws {
        let node = DaemonHarness()
        let daemon = try node.start()
        let py = try Self.startPy(node, name: "py-gossip-dial", connect: [try PeerConnectionTests.loopbackAddress(daemon)])
        defer { py.signal(SIGTERM) }
        try Self.exchange(node, daemon, py, tag: "py-dials")
    }

    @Test func weDialPyAndWritesCrossBothWays() throws {
        let node = DaemonHarness()
        let py = try Self.startPy(node, name: "py-gossip-listen")
        defer { py.signal(SIGTERM) }
        let daemon = try node.start()
        let connect = try GossipReplicationTests.call(node, .connect(multiaddr: try #require(Self.pyAddress(py))))
        #expect(connect["agent"]?.stringValue?.hasPrefix("py-libp2p") == true)
        try Self.exchange(node, daemon, py, tag: "we-dial")
    }

    @Test func pyRelaysBetweenTwoOfOurNodes() throws {
        let a = DaemonHarness(), b = DaemonHarness()
        let py = try Self.startPy(a, name: "py-gossip-middle")
        defer { py.signal(SIGTERM) }
        let pyAddress = try #require(Self.pyAddress(py))
        _ = try a.start(["--peer", pyAddress])
        _ = try b.start(["--peer", pyAddress])
        // ours - py - ours: each of our nodes knows only py.
        #expect(ChildProcess.waitUntil(timeout: 30) {
            [a, b].allSatisfy { ((try? GossipReplicationTests.gossip($0))?["mesh_peers"]?.arrayValue?.count ?? 0) == 1 }
        })
        _ = try GossipReplicationTests.call(a, .put(key: "via-py/a", value: "A wrote this"))
        #expect(ChildProcess.waitUntil(timeout: 15) { GossipReplicationTests.value(b, "via-py/a") == "A wrote this" })
        _ = try GossipReplicationTests.call(b, .put(key: "via-py/b", value: "B wrote this"))
        #expect(ChildProcess.waitUntil(timeout: 15) { GossipReplicationTests.value(a, "via-py/b") == "B wrote this" })
        #expect(try GossipReplicationTests.call(a, .status)["connected_peers"]?.intValue == 1)
    }

    @Test func invalidWritesFromPyAreCountedAndNotForwarded() throws {
        let a = DaemonHarness(), b = DaemonHarness()
        let daemonA = try a.start()
        _ = try b.start(["--peer", try PeerConnectionTests.loopbackAddress(daemonA)])
        let py = try Self.startPy(a, name: "py-gossip-bad", connect: [try PeerConnectionTests.loopbackAddress(daemonA)])
        defer { py.signal(SIGTERM) }
        #expect(ChildProcess.waitUntil(timeout: 20) { Self.pySubscribed(py, (try? Self.ourID(daemonA)) ?? "") })
        #expect(ChildProcess.waitUntil(timeout: 10) { ((try? GossipReplicationTests.gossip(b))?["mesh_peers"]?.arrayValue?.count ?? 0) == 1 })
        let now = Self.recentTimestamp().text
        // Not JSON, the wrong shape, an empty key, a clock years ahead: each refused by A.
        for bad in ["not json at all", "{\"Get\":{\"key\":\"x\"}}", "{\"Put\":{\"key\":\"\",\"value\":\"v\",\"timestamp\":\"\(now)\"}}",
                    "{\"Put\":{\"key\":\"future\",\"value\":\"v\",\"timestamp\":\"2099-01-01T00:00:00.000Z\"}}"] {
            py.writeStdin("publish \(bad)\n")
        }
        py.writeStdin("publish {\"Put\":{\"key\":\"good\",\"value\":\"after the bad ones\",\"timestamp\":\"\(now)\"}}\n")
        #expect(ChildProcess.waitUntil(timeout: 15) { GossipReplicationTests.value(b, "good") == "after the bad ones" })
        let statusA = try GossipReplicationTests.gossip(a)
        #expect(statusA["invalid_payloads"]?.intValue == 4, "\(statusA)")
        // Three refused (the sender is penalised), the future clock ignored (not the sender's fault).
        #expect(statusA["invalid"]?.intValue == 3)
        #expect(statusA["ignored"]?.intValue == 1)
        // B got only the good one: the bad ones were not forwarded.
        let statusB = try GossipReplicationTests.gossip(b)
        #expect(statusB["received"]?.intValue == 1, "\(statusB)")
        #expect(GossipReplicationTests.value(a, "future") == nil)
        // A is still connected to py (a bad message is not a bad frame) and to B.
        #expect(try GossipReplicationTests.call(a, .status)["connected_peers"]?.intValue == 2)
    }
}
