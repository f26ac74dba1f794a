import Noise
import P2PCrypto
import Swarm
import Testing
import Wire

/// The shape ConnectionFuzz drives (fuzz/Targets/ConnectionFuzz): a hand-driven dialer's
/// handshake, then yamux-level plaintext. Checked here so the fuzz target's deep mode is known
/// to reach the stream handlers.
@Suite struct FuzzShapeTests {
    @Test func aHandDrivenDialerReachesThePingHandlerOfAListener() throws {
        var rng = SplitMix64(seed: 11)
        let listener = LocalIdentity(identity: try Ed25519PrivateKey(seed: rng.bytes(32)),
                                     noiseStatic: try X25519KeyPair(privateKey: rng.bytes(32)), agentVersion: "t")
        let dialerKey = try Ed25519PrivateKey(seed: rng.bytes(32))
        let x = try (0..<3).map { _ in try X25519KeyPair(privateKey: rng.bytes(32)) }
        var connection = Connection(role: .listener, local: listener, registry: ConnectionPair.registry(), ephemeral: x[0],
                                    expectedPeer: nil, remoteAddress: nil, listenAddresses: [], seed: 1, now: 0)
        var toDialer = connection.start(now: 0).send
        var dialer = ConnectionUpgrade(role: .dialer, identity: dialerKey, noiseStatic: x[1], ephemeral: x[2], expectedPeer: nil)
        var toListener = dialer.start()
        var session: NoiseSession?
        for _ in 0..<10 where session == nil {
            toDialer += connection.receivedBytes(toListener, now: 0).send
            let step = try dialer.receivedBytes(toDialer)
            toDialer = []
            toListener = step.send
            session = step.upgraded?.session
        }
        var noise = try #require(session)
        if !toListener.isEmpty { _ = connection.receivedBytes(toListener, now: 0) }
        #expect(connection.remotePeer == dialerKey.publicKey.peerID)
        // SYN stream 1, the ping proposal and a payload.
        func yamux(_ kind: UInt8, _ flags: UInt16, _ length: Int, _ body: [UInt8] = []) -> [UInt8] {
            [0, kind, UInt8(flags >> 8), UInt8(flags & 0xff), 0, 0, 0, 1] + withUnsafeBytes(of: UInt32(length).bigEndian, Array.init) + body
        }
        let body = [0x13] + Array("/multistream/1.0.0\n".utf8) + [0x11] + Array("/ipfs/ping/1.0.0\n".utf8) + [UInt8](repeating: 9, count: 32)
        let out = connection.receivedBytes(try noise.encrypt(yamux(1, 1, 0) + yamux(0, 0, body.count, body)), now: 0)
        #expect(out.close == nil)
        let plaintext = try noise.decrypt(out.send)
        // The echo of our 32 bytes comes back on stream 1.
        #expect(plaintext.count > 32 && Array(plaintext.suffix(32)) == [UInt8](repeating: 9, count: 32))
    }
}
