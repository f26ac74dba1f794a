import ControlProtocol
import Foundation
import JSON
import Testing
import TestSupport

/// Kademlia interop with py-libp2p 0.8.1 (issue 12), py's side `Tests/Interop/py_kad_peer.py`:
/// a py DHT server as the only bootstrap peer of two of our daemons (no mDNS, no --peer), which
/// find each other through its provider records and replicate a write; py finds our nodes,
/// reads our value records and lists our provider records; we read py's value records.
@Suite(.serialized, .timeLimit(.minutes(4)))
struct PyKadInteropTests {
    static let script = PyInteropTests.repositoryRoot + "/Tests/Interop/py_kad_peer.py"

    static func startPy(_ node: DaemonHarness, name: String, _ extra: [String] = []) throws -> ChildProcess {
        let py = try ChildProcess(try PyInteropTests.python(), [script, "--timeout", "150"] + extra,
                                  directory: node.directory.path, name: name, stdin: true)
        #expect(ChildProcess.waitUntil(timeout: 30) { PyInteropTests.event(py, "listening") != nil }, "py: \(py.stderr.suffix(2000))")
        return py
    }

    static func address(_ py: ChildProcess) throws -> String {
        let listening = try #require(PyInteropTests.event(py, "listening"))
        let peer = try #require(listening["peer_id"]?.stringValue)
        let address = try #require(listening["addrs"]?.arrayValue?.first?.stringValue)
        return address.contains("/p2p/") ? address : address + "/p2p/" + peer
    }

    /// The newest `name` event answering a command, once it arrives.
    static func result(_ py: ChildProcess, _ name: String, after count: Int, timeout: Double = 30) -> JSON? {
        var found: JSON?
        _ = ChildProcess.waitUntil(timeout: timeout) {
            let events = PyInteropTests.events(py).filter { $0["event"]?.stringValue == name }
            if events.count > count { found = events.last }
            return found != nil
        }
        return found
    }

    static func count(_ py: ChildProcess, _ name: String) -> Int {
        PyInteropTests.events(py).filter { $0["event"]?.stringValue == name }.count
    }

    static func bootstrapped(_ node: DaemonHarness) -> Bool {
        ((try? GossipReplicationTests.call(node, .dht))?["last_bootstrap"]?["outcome"]?.stringValue?.hasPrefix("ok")) == true
    }

    @Test func twoDaemonsFindEachOtherThroughAPyBootstrapAndPyUsesOurDHT() throws {
        let a = DaemonHarness(), b = DaemonHarness()
        let py = try Self.startPy(a, name: "py-kad")
        defer { py.writeStdin("quit\n"); _ = py.waitForExit(timeout: 5); py.signal(SIGKILL) }
        let pyAddress = try Self.address(py)
        let daemonA = try a.start(["--bootstrap", pyAddress, "--dht-mode", "server"])
        let daemonB = try b.start(["--bootstrap", pyAddress, "--dht-mode", "server"])
        defer { daemonA.signal(SIGTERM); daemonB.signal(SIGTERM) }
        let idA = try PyGossipInteropTests.ourID(daemonA), idB = try PyGossipInteropTests.ourID(daemonB)

        // Both find the other only through py's provider records, and a write crosses.
        #expect(ChildProcess.waitUntil(timeout: 60) { DHTDiscoveryTests.topicPeers(a) >= 1 && DHTDiscoveryTests.topicPeers(b) >= 1 },
                "a: \(daemonA.stderr.suffix(2000))\nb: \(daemonB.stderr.suffix(2000))\npy: \(py.stderr.suffix(2000))")
        let peersOfA = try PeerConnectionTests.peers(a).compactMap { $0["peer_id"]?.stringValue }
        #expect(peersOfA.contains(idB), "\(peersOfA)")
        _ = try GossipReplicationTests.call(a, .put(key: "kad/interop", value: "via py's DHT"))
        #expect(ChildProcess.waitUntil(timeout: 20) { GossipReplicationTests.value(b, "kad/interop") == "via py's DHT" })

        // py's find_providers lists ours (the group key as a CIDv1 string).
        let cid = try #require(try GossipReplicationTests.call(a, .dht)["group_key"]?.stringValue)
        // Each daemon provides once its bootstrap lookup is done: ask until both are listed.
        var listed: [String] = []
        var before = 0
        for _ in 0..<20 where !(listed.contains(idA) && listed.contains(idB)) {
            before = Self.count(py, "providers")
            py.writeStdin("find_providers \(cid)\n")
            let providers = Self.result(py, "providers", after: before)
            listed = (providers?["providers"]?.arrayValue ?? []).compactMap { $0["peer_id"]?.stringValue }
            if !(listed.contains(idA) && listed.contains(idB)) { Thread.sleep(forTimeInterval: 1) }
        }
        #expect(listed.contains(idA) && listed.contains(idB), "\(listed)\n\(py.stderr.suffix(2000))")

        // We put, py reads (from the network: fetch_value drops py's own copy first).
        let put = try a.ctl("dht", "put", "/p2p-sync/from-swift", "swift value")
        #expect(put.status == 0, "\(put.stderr)")
        before = Self.count(py, "value")
        py.writeStdin("fetch_value /p2p-sync/from-swift\n")
        let value = try #require(Self.result(py, "value", after: before))
        #expect(value["value"]?.stringValue == "swift value", "\(value)\n\(py.stderr.suffix(2000))")

        // py puts, we read.
        before = Self.count(py, "put")
        py.writeStdin("put_value /p2p-sync/from-py py value\n")
        #expect(Self.result(py, "put", after: before) != nil)
        let got = try b.ctl("--json", "dht", "get", "/p2p-sync/from-py")
        #expect(got.status == 0, "\(got.stderr)")
        #expect(got.stdout.contains("py value"), "\(got.stdout)")
    }

    /// A second py node that knows only our daemon finds our other daemon by FIND_NODE through
    /// us.
    @Test func pyFindsOurPeerThroughUs() throws {
        let a = DaemonHarness(), b = DaemonHarness()
        let daemonA = try a.start(["--dht-mode", "server"])
        let addressA = try PeerConnectionTests.loopbackAddress(daemonA)
        let daemonB = try b.start(["--dht-mode", "server", "--bootstrap", addressA])
        defer { daemonA.signal(SIGTERM); daemonB.signal(SIGTERM) }
        let idB = try PyGossipInteropTests.ourID(daemonB)
        #expect(ChildProcess.waitUntil(timeout: 30) { Self.bootstrapped(b) })
        let py = try Self.startPy(a, name: "py-kad-find", ["--bootstrap", addressA])
        defer { py.writeStdin("quit\n"); _ = py.waitForExit(timeout: 5); py.signal(SIGKILL) }
        let added = try #require(Self.result(py, "peer_added", after: 0))
        #expect(added["added"]?.boolValue == true, "\(added)")
        py.writeStdin("find_peer \(idB)\n")
        let found = try #require(Self.result(py, "found_peer", after: 0))
        let addresses = found["addrs"]?.arrayValue ?? []
        #expect(addresses.contains { $0.stringValue?.contains("/tcp/") == true }, "\(found)\n\(py.stderr.suffix(2000))")
    }
}
