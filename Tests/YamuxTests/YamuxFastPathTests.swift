import Testing
import TestSupport
import Wire
@testable import Yamux

/// The yamux byte path: chunks queued without copying, output swapped out, input decoded
/// from an append-only buffer into data slices.
@Suite struct YamuxFastPathTests {
    /// A client with one open stream whose SYN has been taken.
    func clientWithStream() throws -> (YamuxSession, StreamID) {
        var client = YamuxSession(role: .client)
        let id = try client.openStream()
        _ = client.takeOutput()
        return (client, id)
    }

    /// Moves everything queued on `id` from `client` to a fresh server, returning window
    /// credit as it goes; returns the bytes delivered and the largest data body seen.
    func drain(_ client: inout YamuxSession, _ id: StreamID, first wire: [UInt8]) throws -> (bytes: [UInt8], largestBody: Int) {
        var server = YamuxSession(role: .server)
        var received: [UInt8] = []
        var largest = 0
        var wire = wire
        while !wire.isEmpty {
            for case .data(let s, let body) in try server.receivedBytes(wire) {
                received += body
                largest = max(largest, body.count)
                server.consumed(body.count, on: s)
            }
            _ = try client.receivedBytes(server.takeOutput())
            wire = client.takeOutput()
        }
        return (received, largest)
    }

    /// Chunks queued behind a closed window are framed across their boundaries (frames end
    /// inside chunks, chunks end inside frames) and arrive whole and in order.
    @Test func queuedChunksAreFramedAcrossTheirBoundaries() throws {
        var client = YamuxSession(role: .client)
        let id = try client.openStream()
        let bytes = SplitMix64(seed: 1).bytesFrom(600_000)
        // The first 256 KiB use up the window; the rest waits in the queue as odd chunks.
        try client.write(bytes[..<(256 * 1024)], on: id)
        var rest = bytes[(256 * 1024)...]
        for size in [1, 7, 65_535, 3, 70_000, 100, 1 << 20] where !rest.isEmpty {
            try client.write(rest.prefix(size), on: id)
            rest = rest.dropFirst(size)
        }
        #expect(rest.isEmpty)
        #expect(client.pendingBytes(on: id) == 600_000 - 256 * 1024)
        let (received, largest) = try drain(&client, id, first: client.takeOutput())
        #expect(received == bytes)
        #expect(largest == 64 * 1024)
        #expect(client.pendingBytes(on: id) == 0)
    }

    @Test func aPartlySentChunkIsSlicedAndFinishedLater() throws {
        var client = YamuxSession(role: .client)
        let id = try client.openStream()
        let bytes = SplitMix64(seed: 2).bytesFrom(300 * 1024)
        try client.write(bytes, on: id)
        // The initial 256 KiB window lets four 64 KiB frames out; 44 KiB wait.
        #expect(client.pendingBytes(on: id) == 44 * 1024)
        let (received, _) = try drain(&client, id, first: client.takeOutput())
        #expect(received == bytes)
        #expect(client.pendingBytes(on: id) == 0)
    }

    @Test func takeOutputIntoSwapsOrAppends() throws {
        var (client, id) = try clientWithStream()
        try client.write([1, 2, 3], on: id)
        let frame = YamuxFrame.data([1, 2, 3], streamID: id).encoded()
        #expect(client.outputBytes == frame.count)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1024)
        client.takeOutput(into: &buffer)
        #expect(buffer == frame)
        #expect(client.outputBytes == 0)
        try client.write([4], on: id)
        var prefixed: [UInt8] = [9]
        client.takeOutput(into: &prefixed)
        #expect(prefixed == [9] + YamuxFrame.data([4], streamID: id).encoded())
        var empty: [UInt8] = []
        client.takeOutput(into: &empty)
        #expect(empty.isEmpty)
    }

    /// SYN with data, more data, an empty data frame, a ping, then FIN: every byte a split point.
    @Test func receivedBytesSplitAtEveryByte() throws {
        var wire = YamuxFrame.data(Array("first".utf8), streamID: 1, flags: .syn).encoded()
        wire += YamuxFrame.data(Array("second frame straddles".utf8), streamID: 1).encoded()
        wire += YamuxFrame.data([], streamID: 1).encoded()
        wire += YamuxFrame(kind: .ping, flags: .ack, streamID: 0, length: 9).encoded()
        wire += YamuxFrame(kind: .windowUpdate, flags: .fin, streamID: 1, length: 0).encoded()
        let expected: [YamuxEvent] = [.inboundStream(1), .data(1, Array("first".utf8)[...]),
                                      .data(1, Array("second frame straddles".utf8)[...]), .pong(opaque: 9), .remoteClosedWrite(1)]
        for split in 0...wire.count {
            var server = YamuxSession(role: .server)
            var events: [YamuxEvent] = []
            try wire[..<split].withUnsafeBytes { try server.receivedBytes($0, into: &events) }
            try [UInt8]().withUnsafeBytes { try server.receivedBytes($0, into: &events) }
            try wire[split...].withUnsafeBytes { try server.receivedBytes($0, into: &events) }
            #expect(events == expected, "split at \(split)")
        }
    }

    /// Many frames through small reads: the input buffer is compacted and the data stays right.
    @Test func roundTripThroughSmallReads() throws {
        var (client, id) = try clientWithStream()
        var server = YamuxSession(role: .server)
        _ = try server.receivedBytes(YamuxFrame(kind: .windowUpdate, flags: .syn, streamID: id, length: 0).encoded())
        var random = SplitMix64(seed: 3)
        var sent: [UInt8] = [], received: [UInt8] = []
        var events: [YamuxEvent] = []
        for round in 0..<40 {
            let chunk = random.bytes(1 + Int(random.next() % 50_000))
            sent += chunk
            try client.write(chunk, on: id)
            let wire = client.takeOutput()
            var offset = 0
            while offset < wire.count {
                let n = min(wire.count - offset, 1 + Int(random.next() % 9_000))
                events.removeAll(keepingCapacity: true)
                try wire[offset..<(offset + n)].withUnsafeBytes { try server.receivedBytes($0, into: &events) }
                for case .data(let s, let body) in events {
                    received += body
                    server.consumed(body.count, on: s)
                }
                offset += n
            }
            _ = try client.receivedBytes(server.takeOutput())
            #expect(received == Array(sent[..<received.count]), "round \(round)")
        }
        #expect(received == sent)
    }
}

extension SplitMix64 {
    /// `bytes(_:)` on a copy, for use in expressions.
    func bytesFrom(_ count: Int) -> [UInt8] {
        var copy = self
        return copy.bytes(count)
    }
}
