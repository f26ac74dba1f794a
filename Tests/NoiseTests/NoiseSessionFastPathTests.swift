@testable import Noise
import P2PCrypto
import Testing
import TestSupport
import Wire

/// The transport fast path: frames written into the caller's buffer, decrypted in place,
/// plaintext lent out. It must give byte for byte what the array API gives.
@Suite struct NoiseSessionFastPathTests {
    /// The two transport sessions of the spec transcript (NoiseHandshakeTests).
    func sessions() throws -> (initiator: NoiseSession, responder: NoiseSession) {
        var (initiator, responder) = try NoiseHandshakeTests().makePair()
        let m2 = try responder.receivedBytes(initiator.start())
        let m3 = try initiator.receivedBytes(m2.send)
        let done = try responder.receivedBytes(m3.send)
        return (try #require(m3.completion).session, try #require(done.completion).session)
    }

    /// Plaintexts whose frames cover the edge cases: empty, one byte, one full frame, two frames.
    static let messages: [[UInt8]] = [[], [0x61], Array("hello".utf8), [UInt8](repeating: 7, count: 65519), SplitMix64(seed: 5).bytesFrom(70_000)]

    @Test func encryptAppendingMatchesTheSpecTranscript() throws {
        var (initiator, responder) = try sessions()
        var wire: [UInt8] = [0xff]
        try initiator.encrypt(Array("hello".utf8), appendingTo: &wire)
        #expect(wire == [0xff] + Hex.bytes("0015 f6d5904e75bfcf08a979fbf5b43c258cfa459d4b7e"))
        try initiator.encrypt(Array("hello".utf8), appendingTo: &wire)
        #expect(Array(wire[24...]) == Hex.bytes("0015 8a6c9aea62e298599ee81420ae3dfab85e06902546"))
        var out: [UInt8] = []
        try responder.encrypt(Array("world".utf8), appendingTo: &out)
        #expect(out == Hex.bytes("0015 4cfea03ec1707635fa39f4864f86b99079e5a4b0bc"))
    }

    @Test func encryptAppendingEqualsTheArrayAPI() throws {
        let (initiator, _) = try sessions()
        var viaArray = initiator, viaBuffer = initiator
        var wire: [UInt8] = []
        var expected: [UInt8] = []
        for message in Self.messages {
            expected += try viaArray.encrypt(message)
            try message.withUnsafeBytes { try viaBuffer.encrypt($0, appendingTo: &wire) }
        }
        #expect(wire == expected)
        #expect(NoiseSession.wireCount(plaintextCount: 0) == 18)
        #expect(NoiseSession.wireCount(plaintextCount: 70_000) == 70_000 + 36)
    }

    /// Frames are sealed straight into the array's free capacity: a buffer kept with its
    /// capacity takes them in place (same storage, nothing allocated) and holds exactly what
    /// a fresh array gets.
    @Test func encryptIntoAReusedBufferStaysInItsStorage() throws {
        let (initiator, _) = try sessions()
        var viaFresh = initiator, viaReused = initiator
        var reused: [UInt8] = []
        reused.reserveCapacity(200_000)
        let storage = reused.withUnsafeBufferPointer { $0.baseAddress }
        for message in Self.messages {
            let fresh = try viaFresh.encrypt(message)
            reused.removeAll(keepingCapacity: true)
            try message.withUnsafeBytes { try viaReused.encrypt($0, appendingTo: &reused) }
            #expect(reused == fresh)
            #expect(reused.withUnsafeBufferPointer { $0.baseAddress } == storage)
        }
    }

    /// All messages, framed, as one wire; and their plaintext.
    func wire() throws -> (wire: [UInt8], plaintext: [UInt8], receiver: NoiseSession) {
        var (initiator, responder) = try sessions()
        var wire: [UInt8] = []
        for message in Self.messages { try initiator.encrypt(message, appendingTo: &wire) }
        return (wire, Self.messages.flatMap { $0 }, responder)
    }

    @Test func decryptBufferedSplitAcrossTheWire() throws {
        let (wire, plaintext, receiver) = try wire()
        // Every byte of the small frames at the front, then a stride through the big ones.
        let splits = Array(0...60) + Array(stride(from: 61, through: wire.count, by: 997)) + [wire.count]
        for split in splits {
            var session = receiver
            var received: [UInt8] = []
            try wire[..<split].withUnsafeBytes { try session.decrypt($0) { received.append(contentsOf: $0) } }
            try [UInt8]().withUnsafeBytes { try session.decrypt($0) { received.append(contentsOf: $0) } }
            try wire[split...].withUnsafeBytes { try session.decrypt($0) { received.append(contentsOf: $0) } }
            #expect(received == plaintext, "split at \(split)")
            #expect(session.bufferedBytes == 0)
        }
    }

    @Test func decryptInPlaceSplitAtEveryByteOfSmallFrames() throws {
        var (initiator, responder) = try sessions()
        var wire: [UInt8] = []
        let messages: [[UInt8]] = [[], [1], Array("a partial frame straddles".utf8), [2, 3]]
        for message in messages { try initiator.encrypt(message, appendingTo: &wire) }
        for split in 0...wire.count {
            var session = responder
            var received: [[UInt8]] = []
            // The caller's buffer: bytes as they arrive; consumed frames are dropped from its front.
            var buffer = Array(wire[..<split])
            var consumed = try buffer.withUnsafeMutableBytes { try session.decrypt(inPlace: $0) { received.append(Array($0)) } }
            buffer.removeFirst(consumed)
            #expect(buffer.count < 2 || buffer.count < 2 + (Int(buffer[0]) << 8 | Int(buffer[1])), "split at \(split): a whole frame left")
            buffer += wire[split...]
            consumed = try buffer.withUnsafeMutableBytes { try session.decrypt(inPlace: $0) { received.append(Array($0)) } }
            #expect(consumed == buffer.count, "split at \(split)")
            #expect(received == messages, "split at \(split)")

            // The same split through the buffered API: the partial frame is kept inside.
            var buffered = responder
            var plaintext: [UInt8] = []
            try wire[..<split].withUnsafeBytes { try buffered.decrypt($0) { plaintext.append(contentsOf: $0) } }
            try wire[split...].withUnsafeBytes { try buffered.decrypt($0) { plaintext.append(contentsOf: $0) } }
            #expect(plaintext == messages.flatMap { $0 }, "split at \(split)")
            #expect(buffered.bufferedBytes == 0)
        }
    }

    @Test func decryptInPlaceOfNothingConsumesNothing() throws {
        var (_, responder) = try sessions()
        var delivered = 0
        #expect(try responder.decrypt(inPlace: UnsafeMutableRawBufferPointer(start: nil, count: 0)) { _ in delivered += 1 } == 0)
        var one: [UInt8] = [0]
        #expect(try one.withUnsafeMutableBytes { try responder.decrypt(inPlace: $0) { _ in delivered += 1 } } == 0)
        #expect(delivered == 0)
    }

    @Test func arrayDecryptStillWorksAfterTheRewrite() throws {
        let (wire, plaintext, receiver) = try wire()
        var session = receiver
        var received: [UInt8] = []
        var rest = wire[...]
        // Chunks of 4093 bytes: frames straddle most chunk boundaries.
        while !rest.isEmpty {
            received += try session.decrypt(Array(rest.prefix(4093)))
            rest = rest.dropFirst(4093)
        }
        #expect(received == plaintext)
    }

    @Test func tamperedOrShortFramesAreRefused() throws {
        var (initiator, responder) = try sessions()
        var wire: [UInt8] = []
        try initiator.encrypt(Array("tamper".utf8), appendingTo: &wire)
        var tampered = wire
        tampered[5] ^= 1
        var session = responder
        #expect(throws: NoiseError.decryptionFailed(stage: "transport")) {
            _ = try tampered.withUnsafeMutableBytes { try session.decrypt(inPlace: $0) { _ in } }
        }
        var short: [UInt8] = [0x00, 0x0f] + [UInt8](repeating: 0, count: 15)
        #expect(throws: NoiseError.frameTooShort(expected: 16, got: 15)) {
            _ = try short.withUnsafeMutableBytes { try responder.decrypt(inPlace: $0) { _ in } }
        }
    }
}

extension SplitMix64 {
    /// `bytes(_:)` on a copy, so it can be used in a static initialiser.
    func bytesFrom(_ count: Int) -> [UInt8] {
        var copy = self
        return copy.bytes(count)
    }
}
