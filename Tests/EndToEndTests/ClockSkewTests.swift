import ControlProtocol
import Foundation
import JSON
import Testing
import TestSupport

/// Issue 17 with real daemons: node B's wall clock is set ahead with Debian's `faketime`
/// package: libfaketime preloaded with `FAKETIME=+300s`, and `FAKETIME_DONT_FAKE_MONOTONIC=1`
/// so that the event loop's monotonic clock stays real and only `CLOCK_REALTIME` moves. The
/// library is preloaded through `env` rather than the `faketime` wrapper, which forks (the
/// harness must see the daemon's own pid). Seen here with libfaketime 0.9.10: preloaded without
/// `FAKETIME_SHARED`, a Swift program's `CommandLine.arguments` comes out empty; with it set
/// to names of no shared memory (as the wrapper sets real ones) the arguments arrive and
/// `CLOCK_REALTIME` is still offset. A is on the machine's clock.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ClockSkewTests {
    typealias G = GossipReplicationTests

    static let library = ["/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1", "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
                          "/usr/lib/faketime/libfaketime.so.1"].first { FileManager.default.fileExists(atPath: $0) }
    static let available = library != nil

    static func skewed(by offset: String) -> [String] {
        ["/usr/bin/env", "LD_PRELOAD=\(library!)", "FAKETIME=\(offset)", "FAKETIME_DONT_FAKE_MONOTONIC=1",
         "FAKETIME_SHARED=/p2p-sync-none /p2p-sync-none"]
    }

    static func clockOffset(_ node: DaemonHarness) -> Double? {
        (try? PeerConnectionTests.peers(node))?.first?["clock_offset_ms"]?.doubleValue
    }

    static func clockStatus(_ node: DaemonHarness) -> JSON { (try? G.call(node, .status))?["clock"] ?? .null }

    /// B five minutes ahead, connected to A: its writes fail with the clock error, `peers` on A
    /// shows B near +300 s, `doctor` on both says what is wrong and what to do.
    @Test(.enabled(if: available, "faketime is not installed (scripts/install-deps installs Debian's faketime): skipped"))
    func aNodeFiveMinutesAheadKnowsItAndRefusesWrites() throws {
        let a = DaemonHarness()
        let daemonA = try a.start(["--max-clock-skew", "2"])
        let b = DaemonHarness()
        b.launcher = Self.skewed(by: "+300s")
        _ = try b.start(["--max-clock-skew", "2", "--peer", try PeerConnectionTests.loopbackAddress(daemonA)])

        #expect(ChildProcess.waitUntil(timeout: 20) { Self.clockOffset(a) != nil && Self.clockOffset(b) != nil })
        // libfaketime moved B's CLOCK_REALTIME: A measures B five minutes ahead, B measures A behind.
        let seenOnA = try #require(Self.clockOffset(a)), seenOnB = try #require(Self.clockOffset(b))
        print("clock offsets measured: B as seen from A \(seenOnA) ms, A as seen from B \(seenOnB) ms")
        #expect(abs(seenOnA - 300_000) < 2_000)
        #expect(abs(seenOnB + 300_000) < 2_000)
        let peersOnA = try a.ctl("peers")
        #expect(peersOnA.stdout.contains("clock +300."), "\(peersOnA.stdout)")

        let add = try b.ctl("add", "skewed", "from-b")
        #expect(add.status == 1)
        #expect(add.stderr.contains("clock is +300."), "\(add.stderr)")
        #expect(add.stderr.contains("timedatectl"))
        #expect(try b.ctl("del", "skewed").status == 1)
        #expect(Self.clockStatus(b)["ahead"]?.boolValue == true)
        #expect(Self.clockStatus(b)["local_writes_refused"]?.intValue == 2)
        // Reads go on.
        #expect(try b.ctl("list").status == 0)
        #expect(try b.ctl("status").stdout.contains("AHEAD OF PEERS +300."))

        let doctorB = try b.ctl("doctor").stdout
        #expect(doctorB.contains("FAIL this node's clock is +300."), "\(doctorB)")
        let doctorA = try a.ctl("doctor").stdout
        #expect(doctorA.contains("clock is +300.") && doctorA.contains("its writes are refused here"), "\(doctorA)")
        // A, behind, writes as usual.
        #expect(try a.ctl("add", "k", "from-a").status == 0)
    }

    /// B, 6 s ahead, writes before it has a peer to compare with, then meets A. A refuses the
    /// write for good; A writes the same key; once A's clock has passed B's version (the guard
    /// window of the 2 s limit), catch-up offers B's write again: it stays out, with a WARN and
    /// a counter, and A's later write is not undone. B learns that A refused its write.
    @Test(.enabled(if: available, "faketime is not installed (scripts/install-deps installs Debian's faketime): skipped"))
    func aWriteRefusedForItsClockNeverUndoesALaterOne() throws {
        let a = DaemonHarness()
        let daemonA = try a.start(["--max-clock-skew", "2"])
        let b = DaemonHarness()
        b.launcher = Self.skewed(by: "+6s")
        _ = try b.start(["--max-clock-skew", "2"])
        let written = Date()
        #expect(try b.ctl("add", "k", "from-b").status == 0)  // no peer yet: nothing to compare with

        let addressA = try PeerConnectionTests.loopbackAddress(daemonA)
        #expect(try b.ctl("connect", addressA).status == 0)
        #expect(ChildProcess.waitUntil(timeout: 20) { (Self.clockStatus(a)["remote_writes_refused"]?.intValue ?? 0) == 1 },
                "\(Self.clockStatus(a))")
        #expect(try a.ctl("add", "k", "from-a").status == 0)
        #expect(G.value(a, "k") == "from-a")

        // Past B's version minus the limit: B's write would now pass the clock check.
        Thread.sleep(forTimeInterval: max(0, 6 - Date().timeIntervalSince(written)))
        let peerA = try #require(addressA.split(separator: "/").last.map(String.init))
        _ = try b.ctl("disconnect", peerA)
        #expect(try b.ctl("connect", addressA).status == 0)  // catch-up on connect offers B's write again
        #expect(ChildProcess.waitUntil(timeout: 20) { (Self.clockStatus(a)["refused_writes_kept_out"]?.intValue ?? 0) == 1 },
                "\(Self.clockStatus(a))")
        #expect(G.value(a, "k") == "from-a")
        let doctorA = try a.ctl("doctor").stdout
        #expect(doctorA.contains("refused for good") && doctorA.contains("kept out"), "\(doctorA)")
        #expect(daemonA.stderr.contains("WARN") && daemonA.stderr.contains("stays refused"), "\(daemonA.stderr.suffix(2000))")

        // B hears of it through the clock exchange (every 15 s, and at connect).
        #expect(ChildProcess.waitUntil(timeout: 20) { (Self.clockStatus(b)["our_writes_refused_by_peers"]?.intValue ?? 0) == 1 },
                "\(Self.clockStatus(b))")
        let doctorB = try b.ctl("doctor").stdout
        #expect(doctorB.contains("peers refuse your writes: your clock is +6."), "\(doctorB)")
        print("after the guard window: A holds k = \(G.value(a, "k") ?? "-"), B holds k = \(G.value(b, "k") ?? "-"); A clock status \(Self.clockStatus(a).encodedString); B clock status \(Self.clockStatus(b).encodedString)")
    }
}
