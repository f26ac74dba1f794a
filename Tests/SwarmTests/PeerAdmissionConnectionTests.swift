import Identify
import Swarm
import Testing
import TestSupport
import Wire

/// A private group's admission at the connection (issue 14): a peer that is not admitted is
/// closed the moment the handshake names it, before any stream: the outsider gets no identify,
/// no pubsub stream, nothing but the handshake's own bytes.
@Suite struct PeerAdmissionConnectionTests {
    static func refused(_ pair: ConnectionPair, _ side: ConnectionPair.Side) -> [PeerID] {
        pair.events[side.rawValue].compactMap { if case .peerRefused(let peer, _) = $0 { peer } else { nil } }
    }

    @Test(arguments: [ConnectionPair.Side.dialer, .listener])
    func aPeerNotAdmittedGetsNothingPastTheHandshake(refusing side: ConnectionPair.Side) {
        var pair = ConnectionPair()
        let other = ConnectionPair.Side(rawValue: 1 - side.rawValue)!
        pair.machines[side.rawValue].admission = PeerAdmission(admitted: [pair.identities[side.rawValue].peerID], scope: "group test")
        pair.start()
        pair.run()
        pair.advance(byMilliseconds: 0)
        pair.run()
        let outsider = pair.identities[other.rawValue].peerID
        #expect(Self.refused(pair, side) == [outsider])
        #expect(pair.closed[side.rawValue]?.contains("not a member of group test") == true)
        #expect(pair.machines[side.rawValue].streamCount == 0)
        // The outsider never got an identify message or any stream opened by the refusing side.
        #expect(pair.machines[other.rawValue].identified == nil)
        #expect(pair.state(other) != .connected)
        #expect(!pair.events[side.rawValue].contains { if case .secured = $0 { true } else { false } })
    }

    @Test func anAdmittedPeerConnects() {
        var pair = ConnectionPair()
        pair.machines[1].admission = PeerAdmission(admitted: [pair.identities[0].peerID], scope: "group test")
        pair.start()
        pair.run()
        pair.advance(byMilliseconds: 0)
        pair.run()
        #expect(pair.state(.dialer) == .connected && pair.state(.listener) == .connected)
        #expect(Self.refused(pair, .listener).isEmpty)
    }
}
