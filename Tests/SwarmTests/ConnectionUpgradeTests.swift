import Multistream
import Noise
import P2PCrypto
import Swarm
import Testing
import TestSupport
import Wire

@Suite struct ConnectionUpgradeTests {
    struct Side {
        var upgrade: ConnectionUpgrade
        let identity: Ed25519PrivateKey
    }

    func makeSide(_ role: ConnectionUpgrade.Role, expected: PeerID? = nil) -> Side {
        let identity = Ed25519PrivateKey.generate()
        return Side(upgrade: ConnectionUpgrade(role: role, identity: identity, noiseStatic: .generate(),
                                               ephemeral: .generate(), expectedPeer: expected),
                    identity: identity)
    }

    /// Pumps bytes between the two sides, `chunk` bytes at a time, until both are upgraded.
    func pump(_ dialer: inout Side, _ listener: inout Side, chunk: Int = .max)
        throws -> (ConnectionUpgrade.Upgraded, ConnectionUpgrade.Upgraded)
    {
        var toListener = dialer.upgrade.start()
        var toDialer = listener.upgrade.start()
        var d: ConnectionUpgrade.Upgraded?
        var l: ConnectionUpgrade.Upgraded?
        for _ in 0..<10_000 where d == nil || l == nil {
            if l == nil, !toListener.isEmpty {
                let n = min(chunk, toListener.count)
                let out = try listener.upgrade.receivedBytes(Array(toListener.prefix(n)))
                toListener.removeFirst(n)
                toDialer += out.send
                if let u = out.upgraded { l = u }
            }
            if d == nil, !toDialer.isEmpty {
                let n = min(chunk, toDialer.count)
                let out = try dialer.upgrade.receivedBytes(Array(toDialer.prefix(n)))
                toDialer.removeFirst(n)
                toListener += out.send
                if let u = out.upgraded { d = u }
            }
        }
        return (try #require(d), try #require(l))
    }

    @Test(arguments: [1, 5, 64, Int.max])
    func dialerAndListenerAgreeAndLearnEachOther(chunk: Int) throws {
        var listener = makeSide(.listener)
        var dialer = makeSide(.dialer, expected: listener.identity.publicKey.peerID)
        let (d, l) = try pump(&dialer, &listener, chunk: chunk)
        #expect(d.remotePeer == listener.identity.publicKey.peerID)
        #expect(l.remotePeer == dialer.identity.publicKey.peerID)
        // The transport ciphers match: what one encrypts the other decrypts.
        var dSession = d.session
        var lSession = l.session
        #expect(try lSession.decrypt(try dSession.encrypt(Array("ping".utf8))) == Array("ping".utf8))
        #expect(try dSession.decrypt(try lSession.encrypt(Array("pong".utf8))) == Array("pong".utf8))
    }

    @Test func firstBytesAreTheMultistreamHeaderAndNoiseProposal() {
        var dialer = makeSide(.dialer)
        #expect(dialer.upgrade.start() == MultistreamMessage.encode("/multistream/1.0.0") + MultistreamMessage.encode("/noise"))
        var listener = makeSide(.listener)
        #expect(listener.upgrade.start() == MultistreamMessage.encode("/multistream/1.0.0"))
    }

    @Test func aGoStyleTLSProposalGetsNa() throws {
        var listener = makeSide(.listener)
        _ = listener.upgrade.start()
        let out = try listener.upgrade.receivedBytes(MultistreamMessage.encode("/multistream/1.0.0") + MultistreamMessage.encode("/tls/1.0.0"))
        #expect(out.send == MultistreamMessage.encode("na"))
    }

    @Test func aWrongPeerIDFailsTheDial() throws {
        var listener = makeSide(.listener)
        var dialer = makeSide(.dialer, expected: Ed25519PrivateKey.generate().publicKey.peerID)
        #expect(throws: UpgradeError.self) { try pump(&dialer, &listener) }
    }

    @Test func garbageIsRefused() throws {
        var listener = makeSide(.listener)
        _ = listener.upgrade.start()
        #expect(throws: UpgradeError.self) { try listener.upgrade.receivedBytes(Array(repeating: 0x13, count: 40)) }
    }
}
