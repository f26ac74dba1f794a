import ControlProtocol
import Foundation
import JSON
import Testing
import TestSupport

/// QUIC v1 interop with py-libp2p 0.8.1 (aioquic), both ways (issue 13): connect, identify
/// (agent and protocols), ping, and a gossipsub write each way; a secp256k1 py peer over QUIC.
/// py's side: `py_peer.py --transport quic`, `py_gossip_peer.py --transport quic`.
@Suite(.serialized, .timeLimit(.minutes(4)))
struct PyQUICInteropTests {
    @Test(arguments: ["ed25519", "secp256k1", "rsa"])
    func pyDialsUsOverQUICIdentifiesAndPings(_ keyType: String) throws {
        let node = DaemonHarness()
        let daemon = try node.start(["--log-level", "gossip=debug,swarm=debug,quic=debug,info"])
        let address = try QUICTransportTests.quicAddress(daemon)
        let ourID = QUICTransportTests.peerID(address)
        let py = try ChildProcess(try PyInteropTests.python(),
                                  [PyInteropTests.peerScript, "dial", address, "--transport", "quic", "--key-type", keyType,
                                   "--streams", "20", "--timeout", "60"],
                                  directory: node.directory.path, name: "py-quic-dial-\(keyType)")
        let status = py.waitForExit(timeout: 90)
        #expect(status == 0, "py: \(py.stdout)\n\(py.stderr.suffix(3000))\nours: \(daemon.stderr.suffix(6000))")
        let pyID = try #require(PyInteropTests.event(py, "listening")?["peer_id"]?.stringValue)
        #expect(PyInteropTests.event(py, "connected")?["peer_id"]?.stringValue == ourID)
        let identified = try #require(PyInteropTests.event(py, "identified"), "py printed: \(py.stdout)")
        #expect(identified["agent"]?.stringValue == "p2p-sync/0.1.0")
        #expect(identified["protocols"]?.arrayValue?.contains(.string("/ipfs/ping/1.0.0")) == true)
        #expect(PyInteropTests.events(py).contains { $0["event"]?.stringValue == "ping" && $0["rtt_ms"]?.doubleValue != nil })
        #expect(PyInteropTests.event(py, "streams")?["ok"]?.intValue == 20)
        // Our side verified py's certificate (its key type), identified py, and the connection was QUIC.
        #expect(daemon.stderr.contains("(py-libp2p/0.8.1) via /ip4/127.0.0.1/udp/"), "\(daemon.stderr.suffix(3000))")
        #expect(daemon.stderr.contains(pyID))
    }

    @Test(arguments: ["ed25519", "secp256k1"])
    func weDialPyOverQUICAndBothIdentifyAndPing(_ keyType: String) throws {
        let node = DaemonHarness()
        let dial = try PyInteropTests.dialPyListener(node, ["--transport", "quic", "--key-type", keyType, "--timeout", "60"],
                                                     name: "py-quic-listen-\(keyType)") { $0["rtt_ms"]?.doubleValue != nil }
        defer { dial.py.signal(SIGTERM) }
        let (py, pyID, daemon, row) = (dial.py, dial.pyID, dial.daemon, try #require(dial.row))
        #expect(row["transport"]?.stringValue == "quic")
        #expect(row["agent"]?.stringValue?.hasPrefix("py-libp2p") == true)
        #expect(row["protocols"]?.arrayValue?.contains(.string("/ipfs/ping/1.0.0")) == true)
        let ourID = String(try PeerConnectionTests.loopbackAddress(daemon).split(separator: "/").last!)
        #expect(ChildProcess.waitUntil(timeout: 30) { PyInteropTests.event(py, "identified") != nil }, "py: \(py.stdout)\n\(py.stderr.suffix(2000))")
        #expect(PyInteropTests.event(py, "identified")?["peer_id"]?.stringValue == ourID)
        #expect(PyInteropTests.event(py, "identified")?["agent"]?.stringValue == "p2p-sync/0.1.0")
        let pings = try node.ctl("ping", pyID, "--count", "20")
        #expect(pings.status == 0, "\(pings.stderr)")
        #expect(pings.stdout.contains("20 of 20"))
    }

    @Test func gossipWritesCrossBothWaysOverQUICWhenPyDials() throws {
        let node = DaemonHarness()
        let daemon = try node.start()
        let py = try PyGossipInteropTests.startPy(node, name: "py-quic-gossip-dial", transport: "quic",
                                                  connect: [try QUICTransportTests.quicAddress(daemon)])
        defer { py.signal(SIGTERM) }
        try PyGossipInteropTests.exchange(node, daemon, py, tag: "quic-py-dials")
        #expect(daemon.stderr.contains("via /ip4/127.0.0.1/udp/"), "\(daemon.stderr.suffix(2000))")
    }

    @Test func gossipWritesCrossBothWaysOverQUICWhenWeDial() throws {
        let node = DaemonHarness()
        let py = try PyGossipInteropTests.startPy(node, name: "py-quic-gossip-listen", transport: "quic")
        defer { py.signal(SIGTERM) }
        let daemon = try node.start(["--log-level", "gossip=debug,swarm=debug,quic=debug,info"])
        let pyAddress = try #require(PyGossipInteropTests.pyAddress(py))
        #expect(pyAddress.contains("/quic-v1"))
        let connect = try GossipReplicationTests.call(node, .connect(multiaddr: pyAddress))
        #expect(connect["agent"]?.stringValue?.hasPrefix("py-libp2p") == true)
        try PyGossipInteropTests.exchange(node, daemon, py, tag: "quic-we-dial")
    }
}
