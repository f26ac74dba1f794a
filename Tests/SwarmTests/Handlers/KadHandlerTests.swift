import Kademlia
import Swarm
import Testing
import Wire
import Yamux

/// A stream that writes and reports raw bytes, registered on the kad protocol ID, to play a
/// peer that pipelines requests (as go does) or sends garbage.
private struct RawStreamHandler: StreamHandler {
    static let key = "raw-kad"
    enum Command: Sendable { case send([UInt8]), finish }
    enum Event: Equatable, Sendable { case received([UInt8]), ended(StreamEnd) }

    static func registration(serving: Bool = false) -> ProtocolRegistration {
        ProtocolRegistration(key: key, protocolIDs: [KadHandler.defaultProtocolID], servesInbound: serving) { _, _ in RawStreamHandler() }
    }

    mutating func received(_ bytes: ArraySlice<UInt8>, _ io: inout StreamIO) throws(StreamFailure) {
        io.report(Event.received(Array(bytes)))
    }

    mutating func ended(_ reason: StreamEnd, _ io: inout StreamIO) { io.report(Event.ended(reason)) }

    mutating func command(_ command: any Sendable, _ io: inout StreamIO) throws(StreamFailure) {
        switch command as? Command {
        case .send(let bytes)?: io.write(bytes)
        case .finish?: io.closeWrite()
        case nil: break
        }
    }
}

@Suite struct KadHandlerTests {
    static func registry(serving: Bool = true) -> ProtocolRegistry {
        var registry = ConnectionPair.registry()
        registry.register(KadHandler.registration(serving: serving))
        registry.register(RawStreamHandler.registration())
        return registry
    }

    static let findNode = KadMessage(type: .findNode, key: [1, 2, 3])
    static let answer = KadMessage(type: .findNode, key: [1, 2, 3],
                                   closerPeers: [KadPeer(id: try! PeerID(bytes: [0x12, 0x20] + [UInt8](repeating: 4, count: 32)),
                                                         addresses: [try! Multiaddr("/ip4/10.1.2.3/tcp/4001")], connection: .connected)])

    /// The listener's kad requests, with their streams.
    static func requests(_ pair: ConnectionPair) -> [(StreamID, KadMessage)] {
        pair.handlerEvents(.listener, key: KadHandler.key).compactMap {
            if case .request(let m)? = $0.payload as? KadHandler.Event { ($0.stream, m) } else { nil }
        }
    }

    static func rawReceived(_ pair: ConnectionPair) -> [UInt8] {
        pair.payloads(.dialer, RawStreamHandler.Event.self).flatMap { (event: RawStreamHandler.Event) -> [UInt8] in if case .received(let b) = event { b } else { [] } }
    }

    @Test func aRequestGetsItsResponseAndBothSidesClose() throws {
        var pair = ConnectionPair(registry: Self.registry())
        pair.connect()
        let streamsBefore = pair.machines.map(\.streamCount)
        _ = pair.open(.dialer, KadHandler.key, request: KadHandler.Request(tag: 42, message: Self.findNode))
        pair.run()
        let requests = Self.requests(pair)
        #expect(requests.map(\.1) == [Self.findNode])
        let stream = try #require(requests.first?.0)
        pair.send(.listener, KadHandler.Command.respond(Self.answer), onStream: stream)
        pair.run()
        #expect(pair.payloads(.dialer, KadHandler.Event.self) == [.response(tag: 42, Self.answer)])
        #expect(pair.machines.map(\.streamCount) == streamsBefore)
        #expect(pair.closed == [nil, nil])
    }

    @Test func twoRequestsOnOneInboundStreamAreAnsweredInOrderThenClosed() throws {
        var pair = ConnectionPair(registry: Self.registry())
        pair.connect()
        let opened = pair.open(.dialer, RawStreamHandler.key)
        let raw = try #require(opened)
        let second = KadMessage(type: .getValue, key: [9])
        pair.send(.dialer, RawStreamHandler.Command.send(LengthPrefixedReader.frame(Self.findNode.encoded())
            + LengthPrefixedReader.frame(second.encoded())), onStream: raw)
        pair.send(.dialer, RawStreamHandler.Command.finish, onStream: raw)
        pair.run()
        let requests = Self.requests(pair)
        #expect(requests.map(\.1) == [Self.findNode, second])
        let stream = try #require(requests.first?.0)
        #expect(requests.allSatisfy { $0.0 == stream })
        // The peer's FIN came first, but ours waits for both answers.
        #expect(!pair.payloads(.dialer, RawStreamHandler.Event.self).contains(.ended(.closed)))
        let secondAnswer = KadMessage(type: .getValue, key: [9], record: KadRecord(key: [9], value: [1]))
        pair.send(.listener, KadHandler.Command.respond(Self.answer), onStream: stream)
        pair.run()
        #expect(!pair.payloads(.dialer, RawStreamHandler.Event.self).contains(.ended(.closed)))
        pair.send(.listener, KadHandler.Command.respond(secondAnswer), onStream: stream)
        pair.run()
        var reader = LengthPrefixedReader(maxFrameBytes: KadHandler.maxMessageBytes)
        let frames = try reader.receivedBytes(Self.rawReceived(pair))
        #expect(try frames.map(KadMessage.init(decoding:)) == [Self.answer, secondAnswer])
        #expect(pair.payloads(.dialer, RawStreamHandler.Event.self).last == .ended(.closed))
    }

    @Test func addProviderIsSentWithoutWaitingForAnAnswer() throws {
        var pair = ConnectionPair(registry: Self.registry())
        pair.connect()
        let streamsBefore = pair.machines.map(\.streamCount)
        let add = KadMessage(type: .addProvider, key: [0x12, 0x20] + [UInt8](repeating: 1, count: 32),
                             providerPeers: [KadPeer(id: pair.identities[0].peerID, addresses: [try Multiaddr("/ip4/10.0.0.1/tcp/4001")])])
        _ = pair.open(.dialer, KadHandler.key, request: KadHandler.Request(tag: 5, message: add))
        pair.run()
        #expect(pair.payloads(.dialer, KadHandler.Event.self) == [.sent(tag: 5)])
        #expect(Self.requests(pair).map(\.1) == [add])
        // Nobody owes anything: the stream is gone on both sides.
        #expect(pair.machines.map(\.streamCount) == streamsBefore)
    }

    @Test func anUnansweredRequestFailsAfterTenSeconds() throws {
        var pair = ConnectionPair(registry: Self.registry())
        pair.connect()
        _ = pair.open(.dialer, KadHandler.key, request: KadHandler.Request(tag: 7, message: Self.findNode))
        pair.run()
        #expect(Self.requests(pair).count == 1)
        pair.advance(byMilliseconds: 9_999)
        pair.run()
        #expect(pair.payloads(.dialer, KadHandler.Event.self).isEmpty)
        pair.advance(byMilliseconds: 1)
        pair.run()
        #expect(pair.payloads(.dialer, KadHandler.Event.self) == [.failed(tag: 7, "no answer in 10 s")])
        #expect(pair.closed == [nil, nil])
    }

    @Test func aClientRefusesKadAndTheRequestFails() throws {
        var pair = ConnectionPair(registry: Self.registry())
        pair.machines[1] = Connection(role: .listener, local: pair.identities[1], registry: Self.registry(serving: false),
                                      ephemeral: .generate(), expectedPeer: nil, remoteAddress: nil, listenAddresses: [],
                                      seed: 2, now: pair.now)
        pair.connect()
        #expect(pair.state(.dialer) == .connected)
        _ = pair.open(.dialer, KadHandler.key, request: KadHandler.Request(tag: 3, message: Self.findNode))
        pair.run()
        let events = pair.payloads(.dialer, KadHandler.Event.self)
        #expect(events.count == 1)
        guard case .failed(3, let why)? = events.first else { Issue.record("expected a failure, got \(events)"); return }
        #expect(why.contains("does not serve"))
        #expect(Self.requests(pair).isEmpty)
        #expect(pair.closed == [nil, nil])
    }

    @Test func aGarbageFrameResetsOnlyThatStream() throws {
        var pair = ConnectionPair(registry: Self.registry())
        pair.connect()
        let opened = pair.open(.dialer, RawStreamHandler.key)
        let raw = try #require(opened)
        // A 3-byte frame whose first byte is field 31 with wire type 7: not protobuf.
        pair.send(.dialer, RawStreamHandler.Command.send([0x03, 0xff, 0xff, 0xff]), onStream: raw)
        pair.run()
        #expect(pair.payloads(.dialer, RawStreamHandler.Event.self) == [.ended(.reset)])
        #expect(Self.requests(pair).isEmpty)
        #expect(pair.closed == [nil, nil])
        // A frame over the size limit is refused from its length prefix alone.
        let again = pair.open(.dialer, RawStreamHandler.key)
        pair.send(.dialer, RawStreamHandler.Command.send(Varint.encode(UInt64(KadHandler.maxMessageBytes + 1))), onStream: try #require(again))
        pair.run()
        #expect(pair.payloads(.dialer, RawStreamHandler.Event.self) == [.ended(.reset), .ended(.reset)])
        // The connection still carries requests.
        _ = pair.open(.dialer, KadHandler.key, request: KadHandler.Request(tag: 1, message: Self.findNode))
        pair.run()
        let stream = try #require(Self.requests(pair).first?.0)
        pair.send(.listener, KadHandler.Command.respond(Self.answer), onStream: stream)
        pair.run()
        #expect(pair.payloads(.dialer, KadHandler.Event.self) == [.response(tag: 1, Self.answer)])
    }

    /// The listener plays a server that answers in raw bytes.
    static func rawServerPair() -> ConnectionPair {
        var pair = ConnectionPair(registry: Self.registry())
        var rawServer = ConnectionPair.registry()
        rawServer.register(RawStreamHandler.registration(serving: true))
        pair.machines[1] = Connection(role: .listener, local: pair.identities[1], registry: rawServer,
                                      ephemeral: .generate(), expectedPeer: nil, remoteAddress: nil, listenAddresses: [],
                                      seed: 2, now: pair.now)
        pair.connect()
        return pair
    }

    @Test func aMalformedResponseFailsTheRequestAndResetsOnlyItsStream() throws {
        var pair = Self.rawServerPair()
        _ = pair.open(.dialer, KadHandler.key, request: KadHandler.Request(tag: 8, message: Self.findNode))
        pair.run()
        let stream = try #require(pair.handlerEvents(.listener, key: RawStreamHandler.key).first?.stream)
        pair.send(.listener, RawStreamHandler.Command.send(LengthPrefixedReader.frame([0x08, 0x09])), onStream: stream)  // type 9
        pair.run()
        #expect(pair.payloads(.dialer, KadHandler.Event.self) == [.failed(tag: 8, "\(KadMessageError.unknownMessageType(9))")])
        #expect(pair.payloads(.listener, RawStreamHandler.Event.self).last == .ended(.reset))
        #expect(pair.closed == [nil, nil])
    }

    @Test func aPeerThatClosesWithoutAnsweringFailsTheRequest() throws {
        var pair = Self.rawServerPair()
        _ = pair.open(.dialer, KadHandler.key, request: KadHandler.Request(tag: 4, message: Self.findNode))
        pair.run()
        let stream = try #require(pair.handlerEvents(.listener, key: RawStreamHandler.key).first?.stream)
        // Half an answer, then FIN.
        pair.send(.listener, RawStreamHandler.Command.send([0x05, 0x08]), onStream: stream)
        pair.send(.listener, RawStreamHandler.Command.finish, onStream: stream)
        pair.run()
        #expect(pair.payloads(.dialer, KadHandler.Event.self) == [.failed(tag: 4, "the peer closed the stream without answering")])
        #expect(pair.closed == [nil, nil])
    }

    @Test func anIdleInboundStreamIsResetAfterAMinute() throws {
        var pair = ConnectionPair(registry: Self.registry())
        pair.connect()
        let opened = pair.open(.dialer, RawStreamHandler.key)
        let raw = try #require(opened)
        pair.send(.dialer, RawStreamHandler.Command.send(LengthPrefixedReader.frame(KadMessage(type: .ping).encoded())), onStream: raw)
        pair.run()
        let stream = try #require(Self.requests(pair).first?.0)
        pair.send(.listener, KadHandler.Command.respond(KadMessage(type: .ping)), onStream: stream)
        pair.run()
        pair.advance(byMilliseconds: 59_000)
        pair.run()
        #expect(!pair.payloads(.dialer, RawStreamHandler.Event.self).contains(.ended(.reset)))
        pair.advance(byMilliseconds: 1_000)
        pair.run()
        #expect(pair.payloads(.dialer, RawStreamHandler.Event.self).last == .ended(.reset))
        #expect(pair.closed == [nil, nil])
    }
    /// A peer that pipelines requests and never reads the answers cannot grow our send queue
    /// past `maxQueuedAnswerBytes`: its stream is reset, the connection stays.
    @Test func aPeerThatDoesNotReadItsAnswersIsCutOff() throws {
        var pair = ConnectionPair(registry: Self.registry())
        pair.connect()
        let opened = pair.open(.dialer, RawStreamHandler.key)
        let raw = try #require(opened)
        pair.run()  // negotiated: from here on the dialer reads nothing
        let big = KadMessage(type: .findNode, key: [1], closerPeers: (1...40).map { n in
            KadPeer(id: try! PeerID(bytes: [0x12, 0x20] + [UInt8](repeating: UInt8(n), count: 32)),
                    addresses: (0..<16).map { try! Multiaddr("/ip4/10.0.\(n).\($0)/tcp/4001") })
        })
        var answered = 0
        for _ in 0..<400 {
            pair.send(.dialer, RawStreamHandler.Command.send(LengthPrefixedReader.frame(Self.findNode.encoded())), onStream: raw)
            pair.deliver(to: .listener)  // the dialer never reads
            guard let stream = Self.requests(pair).last?.0, Self.requests(pair).count > answered else { break }
            pair.send(.listener, KadHandler.Command.respond(big), onStream: stream)
            answered += 1
        }
        let notices = pair.events[1].compactMap { if case .notice(let text) = $0 { text } else { nil } }
        #expect(notices.contains { $0.contains("without reading") })
        #expect(answered * big.encoded().count > KadHandler.maxQueuedAnswerBytes)
        #expect(answered < 400)
        #expect(pair.closed == [nil, nil])
    }
}
