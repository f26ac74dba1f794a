import ControlProtocol
import Foundation
import JSON
import Testing
import TestSupport

/// Issue 12, bad input: a hostile DHT peer (`Tests/Interop/py_kad_hostile.py`, py-libp2p with a
/// hand-made kad handler) as our bootstrap: fresh random peers in every answer, huge answers,
/// garbage, silence; and as a client: a FIND_NODE flood, an oversized record, garbage
/// requests. Every lookup ends, the daemon keeps answering, memory stays bounded.
@Suite(.serialized, .timeLimit(.minutes(4)))
struct DHTBadInputTests {
    static let script = PyInteropTests.repositoryRoot + "/Tests/Interop/py_kad_hostile.py"
    static let stranger = "12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo"

    static func hostile(_ node: DaemonHarness, _ mode: String, _ extra: [String] = []) throws -> ChildProcess {
        let py = try ChildProcess(try PyInteropTests.python(), [script, "--mode", mode, "--timeout", "120", "--quiet"] + extra,
                                  directory: node.directory.path, name: "hostile-\(mode)", stdin: true)
        #expect(ChildProcess.waitUntil(timeout: 30) { PyInteropTests.event(py, "listening") != nil }, "py: \(py.stderr.suffix(2000))")
        return py
    }

    static func rssKiB(_ daemon: ChildProcess) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(daemon.pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    /// Each hostile server mode: find-peer ends (within the lookup's bounds) with "not found",
    /// and status still answers.
    @Test(arguments: ["random-peers", "huge", "garbage", "silent"])
    func aHostileBootstrapPeerCannotHangOrBloatALookup(mode: String) throws {
        let node = DaemonHarness()
        let py = try Self.hostile(node, mode)
        defer { py.writeStdin("quit\n"); _ = py.waitForExit(timeout: 5); py.signal(SIGKILL) }
        let address = try PyKadInteropTests.address(py)
        let daemon = try node.start(["--dht-mode", "server", "--bootstrap", address])
        defer { daemon.signal(SIGTERM) }
        #expect(ChildProcess.waitUntil(timeout: 30) { (try? GossipReplicationTests.call(node, .dht))?["last_bootstrap"] != nil })
        let before = Self.rssKiB(daemon)
        let started = Date()
        let found = try node.ctl(["dht", "find-peer", Self.stranger], timeout: 90)
        let seconds = Date().timeIntervalSince(started)
        #expect(found.status == 1, "\(found.stdout)")
        #expect(found.stderr.contains("not found") || found.stderr.contains("cannot reach"), "\(found.stderr)")
        // The query time-out (10 s) and the lookup's own deadline bound it.
        #expect(seconds < 70, "find-peer took \(seconds) s")
        #expect(try node.ctl("status").status == 0)
        #expect(Self.rssKiB(daemon) < before + 32_768, "RSS \(before) -> \(Self.rssKiB(daemon)) KiB")
    }

    /// As a client the hostile peer floods FIND_NODE, stores an oversized record and sends
    /// garbage requests (each from its own py process, so one's aftermath cannot spoil the
    /// next): refused stream by stream, the connection and the daemon keep working.
    @Test func floodsOversizedRecordsAndGarbageRequestsAreRefusedStreamByStream() throws {
        let node = DaemonHarness()
        let daemon = try node.start(["--dht-mode", "server"])
        defer { daemon.signal(SIGTERM) }
        let address = try PeerConnectionTests.loopbackAddress(daemon)
        let before = Self.rssKiB(daemon)
        func run(_ command: String, _ event: String, timeout: Double = 30) throws -> JSON {
            let py = try Self.hostile(node, "silent")
            defer { py.writeStdin("quit\n"); _ = py.waitForExit(timeout: 5); py.signal(SIGKILL) }
            py.writeStdin(command + "\n")
            return try #require(PyKadInteropTests.result(py, event, after: 0, timeout: timeout), "py: \(py.stderr.suffix(2000))")
        }

        let garbage = try run("garbage_request \(address)", "garbage_request")
        for result in garbage["results"]?.arrayValue ?? [] {
            #expect(result["outcome"]?.stringValue == "reset", "\(result)")
        }
        #expect(garbage["check"]?["outcome"]?.stringValue == "answered", "\(garbage)")
        #expect(garbage["same_connection"]?.boolValue == true, "\(garbage)")

        let flood = try run("flood \(address) 2000 100 10", "flood", timeout: 90)
        // 50 requests a second with a burst of 200: most of a fast flood is refused.
        #expect((flood["answered"]?.intValue ?? 0) >= 200, "\(flood)")
        #expect((flood["reset"]?.intValue ?? 0) > 0, "\(flood)")
        #expect(flood["connected_after"]?.boolValue == true, "\(flood)")

        let put = try run("put_oversized \(address) 300000", "put_oversized")
        #expect(put["outcome"]?.stringValue == "reset", "\(put)")

        let dht = try GossipReplicationTests.call(node, .dht)
        #expect((dht["requests_refused"]?.intValue ?? 0) > 0, "\(dht)")
        #expect(try node.ctl("status").status == 0)
        #expect(Self.rssKiB(daemon) < before + 32_768, "RSS \(before) -> \(Self.rssKiB(daemon)) KiB")
    }
}
