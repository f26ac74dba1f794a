import Identify
import Testing
import TestSupport
import Wire

@Suite struct IdentifyTests {
    let sample = IdentifyMessage(
        protocolVersion: "ipfs/0.1.0", agentVersion: "p2p-sync/0.1.0", publicKey: Hex.bytes("080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e"),
        listenAddrs: [try! Multiaddr("/ip4/127.0.0.1/tcp/4001")], observedAddr: try! Multiaddr("/ip4/192.0.2.42/tcp/443"),
        protocols: ["/ipfs/id/1.0.0", "/ipfs/ping/1.0.0"])

    @Test func encodesFieldsInNumberOrderByteForByte() throws {
        let expected = Hex.bytes("0a24 080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e")
            + Hex.bytes("1208 047f000001060fa1")
            + [0x1a, 14] + Array("/ipfs/id/1.0.0".utf8) + [0x1a, 16] + Array("/ipfs/ping/1.0.0".utf8)
            + Hex.bytes("2208 04c000022a0601bb")
            + [0x2a, 10] + Array("ipfs/0.1.0".utf8) + [0x32, 14] + Array("p2p-sync/0.1.0".utf8)
        #expect(sample.encoded() == expected)
        #expect(try IdentifyMessage(decoding: expected) == sample)
    }

    @Test func theReaderAcceptsAnySplitAndGoStyleTwoPartMessages() throws {
        let wire = IdentifyResponder.response(sample)
        for cut in 0...wire.count {
            var reader = IdentifyReader()
            try reader.receivedBytes(Array(wire[..<cut]))
            try reader.receivedBytes(Array(wire[cut...]))
            #expect(try reader.receivedEndOfStream() == sample)
        }
        let record = IdentifyMessage(signedPeerRecord: [1, 2, 3])
        var reader = IdentifyReader()
        try reader.receivedBytes(wire + IdentifyResponder.response(record))
        var merged = sample
        merged.signedPeerRecord = [1, 2, 3]
        #expect(try reader.receivedEndOfStream() == merged)
    }

    @Test func unknownFieldsAreSkippedAndBadInputRefused() throws {
        var w = ProtobufWriter()
        w.stringField(6, "go-libp2p/0.36")
        w.bytesField(9, [9, 9])
        w.varintField(10, 5)
        #expect(try IdentifyMessage(decoding: w.bytes).agentVersion == "go-libp2p/0.36")
        var reader = IdentifyReader()
        try reader.receivedBytes([0x05, 0x0a])
        #expect(throws: IdentifyError.self) { try reader.receivedEndOfStream() }
        var big = IdentifyReader()
        try big.receivedBytes(Varint.encode(9000))
        #expect(throws: IdentifyError.tooLarge(9000)) { try big.receivedEndOfStream() }
        #expect(throws: IdentifyError.self) { try IdentifyMessage(decoding: [0x32, 0x02, 0xff, 0xfe]) }
    }

    @Test func ourMessageStaysUnderRustsLimit() throws {
        var message = sample
        message.listenAddrs = (0..<300).map { try! Multiaddr("/ip4/10.0.\($0 / 250).\($0 % 250)/tcp/4001") }
        message.protocols = (0..<30).map { "/p2p-sync/protocol-\($0)/1.0.0" }
        let wire = IdentifyResponder.response(message)
        #expect(wire.count <= 4096 + 2)
        var reader = IdentifyReader()
        try reader.receivedBytes(wire)
        #expect(try reader.receivedEndOfStream().protocols.count == 30)
    }

    @Test func randomBytesNeverTrap() {
        var rng = SeededRandom(seed: 8)
        for _ in 0..<2000 {
            var reader = IdentifyReader()
            try? reader.receivedBytes(rng.bytes(Int.random(in: 0..<80, using: &rng)))
            _ = try? reader.receivedEndOfStream()
        }
    }
}
