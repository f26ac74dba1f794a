import Testing
import TestSupport
import Yamux

@Suite struct YamuxFrameTests {
    /// libp2p-wire.md section 4.1 example frames.
    @Test func encodesTheSpecExamples() throws {
        #expect(YamuxFrame(kind: .windowUpdate, flags: .syn, streamID: 1, length: 0).encoded() == Hex.bytes("00 01 0001 00000001 00000000"))
        #expect(YamuxFrame.data(Array("hello".utf8), streamID: 1).encoded() == Hex.bytes("00 00 0000 00000001 00000005 68656c6c6f"))
        #expect(YamuxFrame(kind: .ping, flags: .syn, streamID: 0, length: 7).encoded() == Hex.bytes("00 02 0001 00000000 00000007"))
        #expect(YamuxFrame(kind: .goAway, streamID: 0, length: 0).encoded() == Hex.bytes("00 03 0000 00000000 00000000"))
    }

    @Test func decodesWhateverTheSplit() throws {
        let wire = Hex.bytes("00 01 0001 00000001 00000000 00 00 0000 00000001 00000005 68656c6c6f")
        let first = try #require(try YamuxFrame.decode(wire[...]))
        #expect(first.frame == YamuxFrame(kind: .windowUpdate, flags: .syn, streamID: 1, length: 0))
        let second = try #require(try YamuxFrame.decode(wire[first.byteCount...]))
        #expect(second.frame.body == Array("hello".utf8))
        for cut in 0..<12 { #expect(try YamuxFrame.decode(wire[..<cut]) == nil) }
        for cut in 12..<(12 + 17) { #expect(try YamuxFrame.decode(wire[12..<cut]) == nil) }
    }

    @Test func refusesBadFrames() {
        #expect(throws: YamuxError.unsupportedVersion(1)) { try YamuxFrame.decode(Hex.bytes("01 00 0000 00000001 00000000")[...]) }
        #expect(throws: YamuxError.unknownFrameType(4)) { try YamuxFrame.decode(Hex.bytes("00 04 0000 00000001 00000000")[...]) }
        #expect(throws: YamuxError.frameTooLarge(0x0020_0000)) { try YamuxFrame.decode(Hex.bytes("00 00 0000 00000001 00200000")[...]) }
    }
}

@Suite struct YamuxSessionTests {
    /// Moves bytes both ways until quiet; returns the events each side saw.
    @discardableResult
    func pump(_ client: inout YamuxSession, _ server: inout YamuxSession, consume: Bool = true) throws -> (client: [YamuxEvent], server: [YamuxEvent]) {
        var clientEvents: [YamuxEvent] = []
        var serverEvents: [YamuxEvent] = []
        for _ in 0..<10_000 {
            let toServer = client.takeOutput()
            let toClient = server.takeOutput()
            if toServer.isEmpty && toClient.isEmpty { break }
            let s = try server.receivedBytes(toServer)
            let c = try client.receivedBytes(toClient)
            if consume {
                for case .data(let id, let b) in s { server.consumed(b.count, on: id) }
                for case .data(let id, let b) in c { client.consumed(b.count, on: id) }
            }
            serverEvents += s
            clientEvents += c
        }
        return (clientEvents, serverEvents)
    }

    @Test func streamsCarryDataBothWaysAndCloseCleanly() throws {
        var client = YamuxSession(role: .client)
        var server = YamuxSession(role: .server)
        let id = try client.openStream()
        #expect(id == 1)
        try client.write(Array("hello".utf8), on: id)
        var (_, s) = try pump(&client, &server)
        #expect(s == [.inboundStream(1), .data(1, Array("hello".utf8)[...])])
        try server.write(Array("world".utf8), on: 1)
        try server.closeWrite(1)
        var (c, _) = try pump(&client, &server)
        #expect(c == [.data(1, Array("world".utf8)[...]), .remoteClosedWrite(1)])
        try client.closeWrite(1)
        (_, s) = try pump(&client, &server)
        #expect(s == [.remoteClosedWrite(1), .streamClosed(1)])
        #expect(client.streamCount == 0 && server.streamCount == 0)
        let serverID = try server.openStream()
        #expect(serverID == 2)
        (c, _) = try pump(&client, &server)
        #expect(c == [.inboundStream(2)])
    }

    @Test func aMegabyteCrossesTheWindowIntactAndNeverExceedsIt() throws {
        var client = YamuxSession(role: .client)
        var server = YamuxSession(role: .server)
        let id = try client.openStream()
        let payload = (0..<1_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var received: [UInt8] = []
        var offset = 0
        var writtenBeforeCredit = 0
        while received.count < payload.count {
            if offset < payload.count {
                let n = min(200_000, payload.count - offset)
                try? client.write(Array(payload[offset..<(offset + n)]), on: id)
                offset += n
            }
            let wire = client.takeOutput()
            // Count data bytes on the wire in this burst: never more than the window.
            var cursor = wire[...]
            var dataBytes = 0
            while let (frame, n) = try YamuxFrame.decode(cursor) {
                dataBytes += frame.body.count
                cursor = cursor.dropFirst(n)
            }
            writtenBeforeCredit = max(writtenBeforeCredit, dataBytes)
            for case .data(_, let b) in try server.receivedBytes(wire) {
                received += b
                server.consumed(b.count, on: id)
            }
            _ = try client.receivedBytes(server.takeOutput())
        }
        #expect(received == payload)
        #expect(writtenBeforeCredit <= 256 * 1024)
    }

    @Test func aPeerThatIgnoresTheWindowIsCutOffWithGoAway() throws {
        var server = YamuxSession(role: .server)
        _ = try server.receivedBytes(YamuxFrame(kind: .windowUpdate, flags: .syn, streamID: 1, length: 0).encoded())
        let big = YamuxFrame.data([UInt8](repeating: 1, count: 200_000), streamID: 1).encoded()
        _ = try server.receivedBytes(big)
        #expect(throws: YamuxError.windowExceeded(stream: 1, sent: 200_000, window: 262_144 - 200_000)) {
            try server.receivedBytes(big)
        }
        #expect(server.takeOutput().suffix(12) == YamuxFrame(kind: .goAway, streamID: 0, length: 1).encoded())
    }

    @Test func aResetWindowUpdateCarriesACodeNotCredit() throws {
        var client = YamuxSession(role: .client)
        var server = YamuxSession(role: .server)
        let id = try client.openStream()
        try pump(&client, &server)
        // go resets with WindowUpdate+RST and an error code in Length.
        let events = try client.receivedBytes(YamuxFrame(kind: .windowUpdate, flags: .rst, streamID: id, length: 0x1005).encoded())
        #expect(events == [.streamReset(id)])
        #expect(throws: YamuxError.unknownStream(id)) { try client.write([1], on: id) }
    }

    @Test func rustStyleSynOnDataAndOverflowingUpdates() throws {
        var server = YamuxSession(role: .server)
        let events = try server.receivedBytes(YamuxFrame.data(Array("hi".utf8), streamID: 1, flags: .syn).encoded())
        #expect(events == [.inboundStream(1), .data(1, Array("hi".utf8)[...])])
        #expect(throws: YamuxError.windowOverflow(stream: 1)) {
            try server.receivedBytes(YamuxFrame(kind: .windowUpdate, streamID: 1, length: UInt32.max).encoded())
        }
    }

    @Test func pingIsAnsweredAndStreamIDsOfTheWrongParityAreRefused() throws {
        var server = YamuxSession(role: .server)
        _ = try server.receivedBytes(YamuxFrame(kind: .ping, flags: .syn, streamID: 0, length: 7).encoded())
        #expect(server.takeOutput() == Hex.bytes("00 02 0002 00000000 00000007"))
        #expect(throws: YamuxError.wrongStreamParity(2)) {
            try server.receivedBytes(YamuxFrame(kind: .windowUpdate, flags: .syn, streamID: 2, length: 0).encoded())
        }
    }

    @Test func tenThousandOpensKeepTheStreamTableBounded() throws {
        var server = YamuxSession(role: .server)
        var burst: [UInt8] = []
        for i in 0..<10_000 { YamuxFrame(kind: .windowUpdate, flags: .syn, streamID: UInt32(2 * i + 1), length: 0).encode(into: &burst) }
        let events = try server.receivedBytes(burst)
        #expect(server.streamCount == 256)
        #expect(server.refusedStreams == 10_000 - 256)
        #expect(events.count == 256)
    }

    @Test func writesBeyondThePendingCapAreRefused() throws {
        var client = YamuxSession(role: .client)
        let id = try client.openStream()
        try client.write([UInt8](repeating: 0, count: 256 * 1024 + (1 << 20)), on: id)
        #expect(throws: YamuxError.self) { try client.write([0], on: id) }
    }

    @Test func randomBytesNeverTrap() {
        var rng = SeededRandom(seed: 3)
        for _ in 0..<2000 {
            var session = YamuxSession(role: .server)
            _ = try? session.receivedBytes(rng.bytes(Int.random(in: 0..<100, using: &rng)))
        }
    }
}
