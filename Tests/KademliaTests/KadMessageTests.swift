import Kademlia
import Testing
import TestSupport
import Wire

@Suite struct KadMessageTests {
    /// py-libp2p 0.8.1 on the wire (libp2p-wire.md section 17): PUT_VALUE has no `type` field.
    @Test func pyPutValueVectorDecodesAndReencodesByteForByte() throws {
        let bytes = Hex.bytes("12016b1a060a016b120176")
        let message = try KadMessage(decoding: bytes)
        #expect(message == KadMessage(type: .putValue, key: Array("k".utf8), record: KadRecord(key: Array("k".utf8), value: Array("v".utf8))))
        #expect(message.encoded() == bytes)
    }

    static let everyField = Hex.bytes("""
        0804 12026162
        1a1f 0a026162 120378797a 2a14323032362d30312d30315430303a30303a30305a
        4230 0a2212200101010101010101010101010101010101010101010101010101010101010101 12080401020304060fa1 1801
        4a26 0a2212200202020202020202020202020202020202020202020202020202020202020202 1802
        """)

    static let everyFieldMessage = KadMessage(
        type: .findNode, key: Array("ab".utf8),
        record: KadRecord(key: Array("ab".utf8), value: Array("xyz".utf8), timeReceived: "2026-01-01T00:00:00Z"),
        closerPeers: [KadPeer(id: KadTestPeers.id(1), addresses: [try! Multiaddr("/ip4/1.2.3.4/tcp/4001")], connection: .connected)],
        providerPeers: [KadPeer(id: KadTestPeers.id(2), connection: .canConnect)])

    @Test func aHandBuiltMessageWithEveryFieldDecodesAndEncodes() throws {
        #expect(try KadMessage(decoding: Self.everyField) == Self.everyFieldMessage)
        #expect(Self.everyFieldMessage.encoded() == Self.everyField)
    }

    /// clusterLevelRaw (10), senderRecord (11, py), Record.author (3) and Peer.signedRecord (4, py)
    /// are read past.
    @Test func unknownAndUnusedFieldsAreSkipped() throws {
        let bytes = Hex.bytes("""
            0804 5007 12026162
            1a27 1a06617574686f72 0a026162 120378797a 2a14323032362d30312d30315430303a30303a30305a
            4234 0a2212200101010101010101010101010101010101010101010101010101010101010101 2202dead 12080401020304060fa1 1801
            4a26 0a2212200202020202020202020202020202020202020202020202020202020202020202 1802
            5a03010203
            """)
        #expect(try KadMessage(decoding: bytes) == Self.everyFieldMessage)
    }

    @Test func anEmptyMessageIsAPutValueAndEncodesToNothing() throws {
        #expect(try KadMessage(decoding: []) == KadMessage(type: .putValue))
        #expect(KadMessage(type: .putValue).encoded() == [])
        #expect(KadMessage(type: .ping).encoded() == [0x08, 0x05])
    }

    @Test(arguments: [KadMessage.MessageType.putValue, .getValue, .addProvider, .getProviders, .findNode, .ping])
    func everyTypeRoundTrips(_ type: KadMessage.MessageType) throws {
        let message = KadMessage(type: type, key: [1, 2, 3], record: type == .putValue ? KadRecord(key: [1, 2, 3], value: [9]) : nil,
                                 closerPeers: (1...3).map { KadTestPeers.peer($0, addresses: 2, connection: .canConnect) },
                                 providerPeers: type == .addProvider ? [KadTestPeers.peer(9, addresses: 3)] : [])
        #expect(try KadMessage(decoding: message.encoded()) == message)
    }

    @Test func anUnknownTypeIsATypedError() {
        #expect(throws: KadMessageError.unknownMessageType(6)) { try KadMessage(decoding: [0x08, 0x06]) }
    }

    @Test func wrongWireTypesAndBrokenProtobufAreErrors() {
        #expect(throws: KadMessageError.wrongWireType(field: 2, in: "Message")) { try KadMessage(decoding: [0x10, 0x01]) }
        #expect(throws: KadMessageError.wrongWireType(field: 1, in: "Message")) { try KadMessage(decoding: [0x0a, 0x00]) }
        #expect(throws: KadMessageError.self) { try KadMessage(decoding: [0x12, 0x05, 0x61]) }
        // A record whose timeReceived is not UTF-8.
        #expect(throws: KadMessageError.timeReceivedNotUTF8) { try KadMessage(decoding: [0x1a, 0x03, 0x2a, 0x01, 0xff]) }
        // Every truncation of a valid message either fails or decodes to something else: never traps.
        for n in 0..<Self.everyField.count { _ = try? KadMessage(decoding: Array(Self.everyField.prefix(n))) }
    }

    @Test func anEmptyTimeReceivedIsAbsent() throws {
        let message = try KadMessage(decoding: [0x1a, 0x02, 0x2a, 0x00])
        #expect(message.record == KadRecord(key: [], value: []))
        #expect(message.record?.encoded() == [])
    }

    @Test func peersWithBadIDsAreSkippedAndBadAddressesDropped() throws {
        var w = ProtobufWriter()
        var bad = ProtobufWriter()
        bad.bytesField(1, [0x12, 0x03, 1, 2, 3])  // sha2-256 with a 3-byte digest
        w.bytesField(8, bad.bytes)
        w.bytesField(8, ProtobufWriter().bytes)  // no ID at all
        var good = ProtobufWriter()
        good.bytesField(1, KadTestPeers.id(5).bytes)
        good.bytesField(2, [0xff, 0xff, 0x03])  // not a multiaddr
        good.bytesField(2, KadTestPeers.address(1).bytes)
        good.varintField(3, 9)  // unknown connection type: read as NOT_CONNECTED
        w.bytesField(8, good.bytes)
        let message = try KadMessage(decoding: w.bytes)
        #expect(message.closerPeers == [KadPeer(id: KadTestPeers.id(5), addresses: [KadTestPeers.address(1)])])
    }

    @Test func decodingKeepsAtMostTheBoundedNumberOfPeersAndAddresses() throws {
        let many = KadMessage(type: .findNode, key: [1],
                              closerPeers: (0..<100).map { KadTestPeers.peer(UInt8($0), addresses: 1) },
                              providerPeers: [KadTestPeers.peer(200, addresses: 40)])
        let decoded = try KadMessage(decoding: many.encoded())
        #expect(decoded.closerPeers == Array(many.closerPeers.prefix(KadMessage.maxPeersPerList)))
        #expect(decoded.providerPeers.first?.addresses == Array(many.providerPeers[0].addresses.prefix(KadMessage.maxAddressesPerPeer)))
    }

    @Test func encodingWithABudgetTrimsAddressesThenFarPeersThenProviders() throws {
        // 20 peers with 16 addresses each: about 6 KiB. A 16 KiB budget leaves it whole.
        let twenty = KadMessage(type: .getProviders, key: [7], closerPeers: (1...20).map { KadTestPeers.peer($0, addresses: 16) },
                                providerPeers: (30...35).map { KadTestPeers.peer($0, addresses: 16) })
        #expect(twenty.encoded(maxBytes: 16 * 1024) == twenty.encoded())
        #expect(twenty.encodedSize == twenty.encoded().count)

        // Cut to 2 KiB: addresses go first, down to what fits.
        let small = try KadMessage(decoding: twenty.encoded(maxBytes: 2048))
        #expect(small.encoded().count <= 2048)
        #expect(small.closerPeers.map(\.id) == twenty.closerPeers.map(\.id))
        #expect(small.closerPeers.allSatisfy { $0.addresses.count < 16 && !$0.addresses.isEmpty })
        #expect(small.closerPeers[0].addresses == Array(twenty.closerPeers[0].addresses.prefix(small.closerPeers[0].addresses.count)))

        // Cut to 600 bytes: one address each and the farthest closer peers dropped, providers kept.
        let tiny = try KadMessage(decoding: twenty.encoded(maxBytes: 600))
        #expect(tiny.encoded().count <= 600)
        #expect(tiny.providerPeers.map(\.id) == twenty.providerPeers.map(\.id))
        #expect(tiny.closerPeers.count < 20)
        #expect(tiny.closerPeers.map(\.id) == Array(twenty.closerPeers.map(\.id).prefix(tiny.closerPeers.count)))

        // A record over the budget is sent whole, without peers.
        let big = KadMessage(type: .getValue, key: [1], record: KadRecord(key: [1], value: [UInt8](repeating: 7, count: 20_000)),
                             closerPeers: [KadTestPeers.peer(1)])
        let bigDecoded = try KadMessage(decoding: big.encoded(maxBytes: 16 * 1024))
        #expect(bigDecoded.record == big.record)
        #expect(bigDecoded.closerPeers.isEmpty)
    }

    @Test func splitAtEveryByteEachHalfDecodesOrFailsCleanly() {
        // Not a stream format (frames are whole), but a decoder given any prefix must not trap.
        let bytes = Self.everyFieldMessage.encoded()
        for i in 0...bytes.count {
            _ = try? KadMessage(decoding: Array(bytes[..<i]))
            _ = try? KadMessage(decoding: Array(bytes[i...]))
        }
    }
}
