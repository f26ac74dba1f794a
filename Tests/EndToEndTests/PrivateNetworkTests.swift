import ControlProtocol
import Foundation
import JSON
import Testing
import TestSupport

/// Private networks (issue 14, libp2p pnet) with real daemons: `keygen swarm-key`, two nodes
/// with one key replicate, a node with another key and an open node are refused at once with a
/// message and a `doctor` finding that name the key; and with py-libp2p 0.8.1 running spec pnet
/// (Tests/Interop/pnet_xsalsa20.py), both ways.
@Suite(.serialized, .timeLimit(.minutes(4)))
struct PrivateNetworkTests {
    typealias G = GossipReplicationTests

    /// Writes a new key into `node`'s data dir with `p2p-syncctl keygen swarm-key`.
    static func keygen(_ node: DaemonHarness) throws -> String {
        let result = try node.ctl("keygen", "swarm-key", "--data-dir", node.dataDir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("key id"))
        return node.dataDir + "/swarm.key"
    }

    static func copyKey(_ path: String, to node: DaemonHarness) throws {
        try FileManager.default.createDirectory(atPath: node.dataDir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: path, toPath: node.dataDir + "/swarm.key")
    }

    static func doctorLines(_ node: DaemonHarness) throws -> String {
        try node.ctl("doctor").stdout
    }

    @Test func oneKeyReplicatesAnotherKeyAndNoKeyAreRefused() throws {
        let a = DaemonHarness(), b = DaemonHarness(), other = DaemonHarness(), open = DaemonHarness()
        let key = try Self.keygen(a)
        let mode = try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        // A second keygen keeps the key: every node of the group needs the same one.
        let again = try a.ctl("keygen", "swarm-key", "--data-dir", a.dataDir)
        #expect(again.status != 0 && again.stderr.contains("exists"), "\(again)")
        try Self.copyKey(key, to: b)
        _ = try Self.keygen(other)

        let daemonA = try a.start()
        let addressA = try PeerConnectionTests.loopbackAddress(daemonA)
        #expect(daemonA.stdout.contains("private network: swarm key"))
        // QUIC is off with a key: no /quic-v1 address is announced.
        let status = try G.call(a, .status)
        #expect(status["listen_addrs"]?.arrayValue?.contains { $0.stringValue?.contains("quic") == true } == false)
        #expect(status["network"]?["mode"]?.stringValue == "private")
        let keyID = try #require(status["network"]?["swarm_key_id"]?.stringValue)

        _ = try b.start(["--peer", addressA])
        #expect(ChildProcess.waitUntil(timeout: 20) { (try? G.call(a, .status))?["connected_peers"]?.intValue == 1 })
        _ = try G.call(a, .put(key: "private/a", value: "only for the group"))
        #expect(ChildProcess.waitUntil(timeout: 10) { G.value(b, "private/a") == "only for the group" })
        _ = try G.call(b, .put(key: "private/b", value: "back"))
        #expect(ChildProcess.waitUntil(timeout: 10) { G.value(a, "private/b") == "back" })
        #expect(try G.call(b, .status)["network"]?["swarm_key_id"]?.stringValue == keyID)

        // Another key: `connect` fails with the reason, not after a handshake time-out.
        _ = try other.start()
        let refused = try other.ctl("connect", addressA)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("do not decrypt with our swarm key"), "\(refused)")
        // No key at all.
        _ = try open.start()
        let openRefused = try open.ctl("connect", addressA)
        #expect(openRefused.status != 0, "\(openRefused)")
        #expect(ChildProcess.waitUntil(timeout: 10) {
            ((try? G.call(a, .status))?["network"]?["refused_connections"]?.intValue ?? 0) >= 2
        })
        // Nothing of the group's reached them.
        #expect(G.value(other, "private/a") == nil && G.value(open, "private/a") == nil)
        #expect(try G.call(a, .status)["connected_peers"]?.intValue == 1)

        let doctor = try Self.doctorLines(a)
        #expect(doctor.contains("OK   private network: swarm key \(keyID)"), "\(doctor)")
        #expect(doctor.contains("FAIL private network:") && doctor.contains("refused"), "\(doctor)")
        #expect(doctor.contains("same swarm.key"), "\(doctor)")
        // (The open node's own view depends on timing: it may see our close before our bytes, so
        // its doctor is not checked here; Doctor.advice covers the multistream case.)
        // One log line per refusing host per minute, however many attempts.
        let logged = daemonA.stderr.components(separatedBy: "refused the connection").count - 1
        #expect(logged == 1, "\(daemonA.stderr)")
    }

    @Test func aMalformedKeyFileStopsTheDaemonWithTheReason() throws {
        let node = DaemonHarness()
        try FileManager.default.createDirectory(atPath: node.dataDir, withIntermediateDirectories: true)
        try "/key/swarm/psk/1.0.0/\n/base16/\nabcd\n".write(toFile: node.dataDir + "/swarm.key", atomically: true, encoding: .utf8)
        #expect(throws: (any Error).self) { try node.start() }
        let stderr = node.daemon?.stderr ?? ""
        #expect(stderr.contains("cannot use swarm key") && stderr.contains("exactly 32"), "\(stderr)")
        // --no-tcp and a key cannot go together.
        let quicOnly = DaemonHarness()
        _ = try Self.keygen(quicOnly)
        #expect(throws: (any Error).self) { try quicOnly.start(["--no-tcp"]) }
        #expect(quicOnly.daemon?.stderr.contains("TCP only") == true, "\(quicOnly.daemon?.stderr ?? "")")
    }

    @Test func pyLibp2pWithSpecPnetConnectsBothWaysAndAnotherKeyIsRefused() throws {
        let node = DaemonHarness()
        let key = try Self.keygen(node)
        let daemon = try node.start()
        // py dials us.
        let py = try PyGossipInteropTests.startPy(node, name: "py-pnet-dial", connect: [try PeerConnectionTests.loopbackAddress(daemon)],
                                                  extra: ["--swarm-key", key])
        defer { py.signal(SIGTERM) }
        try PyGossipInteropTests.exchange(node, daemon, py, tag: "pnet-py-dials")

        // We dial py.
        let listening = try PyGossipInteropTests.startPy(node, name: "py-pnet-listen", extra: ["--swarm-key", key])
        defer { listening.signal(SIGTERM) }
        let connect = try G.call(node, .connect(multiaddr: try #require(PyGossipInteropTests.pyAddress(listening))))
        #expect(connect["agent"]?.stringValue?.hasPrefix("py-libp2p") == true)

        // py with another key is refused.
        let stranger = DaemonHarness()
        let otherKey = try Self.keygen(stranger)
        let before = try G.call(node, .status)["network"]?["refused_connections"]?.intValue ?? 0
        let refusedPy = try PyGossipInteropTests.startPy(node, name: "py-pnet-other", connect: [try PeerConnectionTests.loopbackAddress(daemon)],
                                                         extra: ["--swarm-key", otherKey])
        defer { refusedPy.signal(SIGTERM) }
        #expect(ChildProcess.waitUntil(timeout: 15) {
            ((try? G.call(node, .status))?["network"]?["refused_connections"]?.intValue ?? 0) > before
        })
        let peers = try G.call(node, .peers)
        let otherID = try #require(PyGossipInteropTests.pyID(refusedPy))
        #expect(!"\(peers)".contains(otherID))
    }
}
