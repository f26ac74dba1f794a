import Gossipsub
import Swarm
import Testing

@Suite struct PubsubHandlerTests {
    @Test func bothDirectionsAgreeAndRPCsArriveInOrder() throws {
        var pair = ConnectionPair()
        pair.chunk = 13
        pair.connect()
        let ready = pair.payloads(.listener, PubsubHandler.Event.self).filter { if case .ready(.meshsub11) = $0 { true } else { false } }
        #expect(ready.count == 2, "one per direction")
        let rpcs = (0..<50).map { PubsubRPC(subscriptions: [.init(subscribe: true, topic: "topic-\($0)")]) }
        for rpc in rpcs {
            let sent = pair.send(.dialer, PubsubHandler.Send(rpc), to: PubsubHandler.key)
            #expect(sent)
        }
        pair.run()
        let received = pair.payloads(.listener, PubsubHandler.Event.self).compactMap { if case .rpc(let r) = $0 { r } else { nil } }
        #expect(received == rpcs)
    }

    @Test func rpcsSentBeforeTheAgreementWait() throws {
        var pair = ConnectionPair()
        pair.start()
        // Run until the dialer is secured but its pubsub stream not yet agreed.
        while pair.machines[0].remotePeer == nil { pair.deliver(to: .listener); pair.deliver(to: .dialer) }
        let early = PubsubRPC(subscriptions: [.init(subscribe: true, topic: "early")])
        let sent = pair.send(.dialer, PubsubHandler.Send(early), to: PubsubHandler.key)
        #expect(sent)
        pair.run()
        let received = pair.payloads(.listener, PubsubHandler.Event.self).compactMap { if case .rpc(let r) = $0 { r } else { nil } }
        #expect(received == [early])
    }

    @Test func anOversizedRPCClosesTheConnection() throws {
        var pair = ConnectionPair()
        pair.connect()
        let huge = PubsubRPC(publish: [PubsubMessage(from: nil, data: [UInt8](repeating: 1, count: PubsubHandler.maxRPCBytes),
                                                     seqno: nil, topic: "t")])
        let sent = pair.send(.dialer, PubsubHandler.Send(huge), to: PubsubHandler.key)
        #expect(sent)
        pair.run()
        #expect(pair.closed[1]?.contains("bad pubsub RPC") == true)
        #expect(pair.state(.listener) == .disconnected)
    }
}
