import Foundation
import JSON
import Testing
import TestSupport
import Yamux

/// Peers that misbehave on the libp2p port: each bad connection is refused and logged, and a
/// well-behaved peer connected at the same time keeps working.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct PeerBadInputTests {
    /// A daemon with a well-behaved second daemon connected to it.
    func network() throws -> (target: DaemonHarness, targetDaemon: ChildProcess, port: UInt16, friend: DaemonHarness, targetID: String) {
        let target = DaemonHarness()
        let daemon = try target.start(["--log-level", "debug"])
        let address = try PeerConnectionTests.loopbackAddress(daemon)
        let port = UInt16(address.split(separator: "/")[3])!
        let friend = DaemonHarness()
        try friend.start(["--peer", address])
        let id = String(address.split(separator: "/").last!)
        #expect(ChildProcess.waitUntil(timeout: 15) { Self.friendConnected(friend, to: id) })
        return (target, daemon, port, friend, id)
    }

    static func friendConnected(_ friend: DaemonHarness, to id: String) -> Bool {
        (try? PeerConnectionTests.peers(friend))?.contains { $0["peer_id"]?.stringValue == id && $0["state"]?.stringValue == "Connected" } ?? false
    }

    /// The friend can still ping the target.
    func friendStillWorks(_ net: (target: DaemonHarness, targetDaemon: ChildProcess, port: UInt16, friend: DaemonHarness, targetID: String)) throws {
        let ping = try net.friend.ctl("ping", net.targetID, "--count", "3")
        #expect(ping.status == 0 && ping.stdout.contains("3 of 3"), "\(ping.stdout) \(ping.stderr)")
        #expect(net.targetDaemon.isRunning)
    }

    @Test func garbageBeforeAndAfterTheHeaderIsRefused() throws {
        let net = try network()
        var rng = SeededRandom(seed: 42)
        for _ in 0..<20 {
            let peer = try RawPeer(port: net.port)
            peer.send(rng.bytes(Int.random(in: 1..<4000, using: &rng)))
            #expect(peer.waitForClose(timeout: 12))
        }
        let afterHeader = try RawPeer(port: net.port)
        afterHeader.send([0x13] + Array("/multistream/1.0.0\n".utf8) + Array(repeating: 0xee, count: 100))
        #expect(afterHeader.waitForClose(timeout: 5))
        #expect(net.targetDaemon.stderr.contains("failed"))
        try friendStillWorks(net)
    }

    @Test func aNoiseHandshakeWithABadSignatureIsRefused() throws {
        let net = try network()
        let peer = try RawPeer(port: net.port)
        // Our side of the upgrade completes (the listener verifies only on message 3), then the
        // daemon must drop the connection.
        try? peer.upgrade(badSignature: true)
        #expect(peer.waitForClose(timeout: 5))
        #expect(net.targetDaemon.stderr.contains("identity signature"))
        try friendStillWorks(net)
    }

    @Test func aStalledHandshakeTimesOut() throws {
        let net = try network()
        let peer = try RawPeer(port: net.port)
        // The header, /noise, and half a Noise frame; then silence.
        peer.send([0x13] + Array("/multistream/1.0.0\n".utf8) + [0x07] + Array("/noise\n".utf8) + [0x00, 0x20, 0x01, 0x02])
        #expect(peer.waitForClose(timeout: 20))
        #expect(net.targetDaemon.stderr.contains("handshake timed out"))
        try friendStillWorks(net)
    }

    @Test func badYamuxFramesCloseOnlyThatConnection() throws {
        let net = try network()
        let unknownType = try RawPeer(port: net.port)
        try unknownType.upgrade()
        try unknownType.sendEncrypted([0x00, 0x07, 0x00, 0x00, 0, 0, 0, 1, 0, 0, 0, 0])
        #expect(unknownType.waitForClose(timeout: 5))

        let overflow = try RawPeer(port: net.port)
        try overflow.upgrade()
        try overflow.sendEncrypted(YamuxFrame(kind: .windowUpdate, flags: .syn, streamID: 1, length: 0).encoded()
            + YamuxFrame(kind: .windowUpdate, streamID: 1, length: UInt32.max).encoded())
        #expect(overflow.waitForClose(timeout: 5))
        #expect(net.targetDaemon.stderr.contains("overflows"))
        try friendStillWorks(net)
    }

    @Test func tenThousandStreamOpensAreRefusedPastTheLimit() throws {
        let net = try network()
        let flood = try RawPeer(port: net.port)
        try flood.upgrade()
        var frames: [UInt8] = []
        for i in 0..<10_000 { YamuxFrame(kind: .windowUpdate, flags: .syn, streamID: UInt32(2 * i + 1), length: 0).encode(into: &frames) }
        try flood.sendEncrypted(frames)
        // Drain what the daemon answers (RSTs, multistream headers) for a moment.
        for _ in 0..<20 { if flood.receive(timeout: 0.1) == nil { break } }
        try friendStillWorks(net)
        let rss = try String(contentsOfFile: "/proc/\(net.targetDaemon.pid)/status", encoding: .utf8)
            .split(separator: "\n").first { $0.hasPrefix("VmRSS") }
        #expect(rss != nil)
        let kib = Int(rss!.split(separator: " ").dropFirst().first { Int($0) != nil } ?? "0") ?? 0
        // Bounded: 256 streams' state, not 10,000 (a generous bound; the idle daemon is ~15 MiB).
        #expect(kib < 200_000, "RSS \(kib) KiB")
    }
}
