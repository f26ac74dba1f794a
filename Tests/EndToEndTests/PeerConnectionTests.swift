import ControlProtocol
import Foundation
import JSON
import Testing
import TestSupport

/// Two real daemons on loopback connect, authenticate and identify each other.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct PeerConnectionTests {
    /// The daemon's `/ip4/127.0.0.1/tcp/N/p2p/ID` line.
    static func loopbackAddress(_ daemon: ChildProcess) throws -> String {
        let line = try #require(daemon.stdout.split(separator: "\n").first { $0.hasPrefix("listening on /ip4/127.0.0.1/") })
        return String(line.dropFirst("listening on ".count))
    }

    static func peers(_ node: DaemonHarness) throws -> [JSON] {
        guard case .success(_, let result) = try node.client().call(.peers) else { return [] }
        return result["peers"]?.arrayValue ?? []
    }

    @Test func twoDaemonsConnectWithPeerAndSeeEachOther() throws {
        let a = DaemonHarness()
        let daemonA = try a.start()
        let addressA = try Self.loopbackAddress(daemonA)
        let b = DaemonHarness()
        let daemonB = try b.start(["--peer", addressA])
        let idA = String(addressA.split(separator: "/").last!)
        let idB = String(try Self.loopbackAddress(daemonB).split(separator: "/").last!)

        func connectedWithRTT(_ node: DaemonHarness, to peer: String) -> Bool {
            guard let rows = try? Self.peers(node) else { return false }
            return rows.contains { row in
                row["peer_id"]?.stringValue == peer && row["state"]?.stringValue == "Connected"
                    && row["agent"]?.stringValue == "p2p-sync/0.1.0" && row["rtt_ms"]?.doubleValue != nil
            }
        }
        #expect(ChildProcess.waitUntil(timeout: 15) { connectedWithRTT(b, to: idA) }, "B: \(daemonB.stderr)")
        #expect(ChildProcess.waitUntil(timeout: 15) { connectedWithRTT(a, to: idB) }, "A: \(daemonA.stderr)")
        let text = try b.ctl("peers").stdout
        #expect(text.contains(idA) && text.contains("Connected") && text.contains("p2p-sync/0.1.0"))
        #expect(try b.ctl("status").stdout.contains("connected peers: 1"))

        // disconnect, then connect again at run time.
        #expect(try b.ctl("disconnect", idA).status == 0)
        #expect(ChildProcess.waitUntil(timeout: 10) { !connectedWithRTT(a, to: idB) })
        let connect = try b.ctl("connect", addressA)
        #expect(connect.status == 0, "\(connect.stderr)")
        #expect(ChildProcess.waitUntil(timeout: 15) { connectedWithRTT(a, to: idB) })
    }

    @Test func dialingTheWrongPeerIDFails() throws {
        let a = DaemonHarness()
        let addressA = try Self.loopbackAddress(try a.start())
        let b = DaemonHarness()
        try b.start()
        let wrong = addressA.split(separator: "/").dropLast().joined(separator: "/") + "/12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq"
        let result = try b.ctl("connect", "/" + wrong)
        #expect(result.status == 1)
        #expect(result.stderr.contains("12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq"))
    }

    @Test func aPeerThatComesBackIsRedialed() throws {
        let a = DaemonHarness()
        let daemonA = try a.start()
        let addressA = try Self.loopbackAddress(daemonA)
        let port = addressA.split(separator: "/")[3]
        let b = DaemonHarness()
        try b.start(["--peer", addressA])
        let idA = String(addressA.split(separator: "/").last!)
        func connected() -> Bool { (try? Self.peers(b))?.contains { $0["peer_id"]?.stringValue == idA && $0["state"]?.stringValue == "Connected" } ?? false }
        #expect(ChildProcess.waitUntil(timeout: 15) { connected() })
        daemonA.signal(SIGTERM)
        _ = daemonA.waitForExit()
        #expect(ChildProcess.waitUntil(timeout: 10) { !connected() })
        try a.start(["--port", String(port)])
        #expect(ChildProcess.waitUntil(timeout: 30) { connected() })
    }
}
