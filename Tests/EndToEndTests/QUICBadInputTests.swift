import ControlProtocol
import Foundation
import JSON
import Testing
import TestSupport

/// Hostile UDP at a daemon's QUIC port (issue 13): 10,000 random datagrams and 10,000 copies
/// (some truncated or corrupted) of a real client Initial from 200 source ports. The daemon
/// answers less than 3x what it got, keeps its memory, logs nothing above debug for it, and
/// its existing QUIC connection keeps replicating.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct QUICBadInputTests {
    static let script = PyInteropTests.repositoryRoot + "/Tests/Interop/quic_flood.py"

    static func residentKilobytes(_ pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return nil }
        return Int(line.split(separator: " ").dropFirst().first ?? "")
    }

    @Test func aFloodOfGarbageAndInitialsLeavesTheDaemonServing() throws {
        let a = DaemonHarness()
        let daemonA = try a.start(["--dht-mode", "off"])
        let addressA = try QUICTransportTests.quicAddress(daemonA)
        let b = DaemonHarness()
        try b.start(["--dht-mode", "off", "--peer", addressA])
        let idA = QUICTransportTests.peerID(addressA)
        #expect(ChildProcess.waitUntil(timeout: 15) { QUICTransportTests.connectedRow(b, idA) != nil })
        let before = try #require(Self.residentKilobytes(daemonA.pid))
        let port = try #require(addressA.split(separator: "/").firstIndex(of: "udp").map { addressA.split(separator: "/")[$0 + 1] })

        let flood = try ChildProcess(try PyInteropTests.python(), [Self.script, "127.0.0.1", String(port)],
                                     directory: a.directory.path, name: "quic-flood")
        #expect(flood.waitForExit(timeout: 90) == 0, "\(flood.stderr.suffix(2000))")
        let report = try #require(PyInteropTests.event(flood, "done"), "\(flood.stdout)")
        let sent = try #require(report["sent_bytes"]?.intValue)
        let received = try #require(report["received_bytes"]?.intValue)
        #expect(received <= 3 * sent, "answered \(received) bytes to \(sent)")

        // Still serving: the QUIC connection to B carries a write both ways.
        #expect(try a.ctl("add", "after-flood", "a").status == 0)
        #expect(ChildProcess.waitUntil(timeout: 10) { (try? b.ctl("get", "after-flood").stdout) == "a\n" })
        #expect(QUICTransportTests.connectedRow(b, idA)?["transport"]?.stringValue == "quic")
        let after = try #require(Self.residentKilobytes(daemonA.pid))
        #expect(after - before < 40_000, "RSS grew from \(before) kB to \(after) kB")
        // Nothing about the flood at info level or above: it is not the user's news.
        let noisy = daemonA.stderr.split(separator: "\n").filter {
            ($0.contains(" INFO ") || $0.contains(" WARN ") || $0.contains(" ERROR ")) && ($0.contains("QUIC") || $0.contains("handshake"))
        }
        #expect(noisy.isEmpty, "\(noisy.prefix(5))")
    }
}
