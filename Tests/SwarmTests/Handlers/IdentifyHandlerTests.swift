import Identify
import Swarm
import Testing
import Wire

@Suite struct IdentifyHandlerTests {
    @Test func aPushUpdatesThePeersRecord() throws {
        var pair = ConnectionPair()
        pair.connect()
        let newAddress = try Multiaddr("/ip4/192.0.2.7/tcp/4444")
        pair.machines[1].setListenAddresses([newAddress])
        _ = pair.open(.listener, IdentifyHandler.pushKey)
        pair.run()
        #expect(pair.machines[0].identified?.listenAddrs == [newAddress])
        let identified = pair.events[0].compactMap { if case .identified(let m) = $0 { m } else { nil } }
        #expect(identified.count == 2)
        #expect(pair.closed == [nil, nil])
    }
}
