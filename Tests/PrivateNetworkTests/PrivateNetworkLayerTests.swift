import P2PCrypto
import PrivateNetwork
import Testing
import TestSupport
import Wire

/// The pnet layer on its own: nonces go first and arrive in any pieces, bytes come out as
/// they went in, and a peer with another key or none is named at its first bytes.
@Suite struct PrivateNetworkLayerTests {
    static let greeting = Array("\u{13}/multistream/1.0.0\n".utf8)

    static func layer(_ key: SwarmKey, seed: UInt64) -> PrivateNetworkLayer {
        var random = SplitMix64(seed: seed)
        return PrivateNetworkLayer(key: key, nonce: random.bytes(24))
    }

    /// Feeds `wire` to `receiver` in pieces of `piece` bytes the way a socket ring would: the
    /// unused plaintext stays in front and comes back with the next bytes; the "connection"
    /// uses all but the last `keep` plaintext bytes each time. Returns the plaintext used.
    static func receive(_ wire: [UInt8], by receiver: inout PrivateNetworkLayer, piece: Int, keep: Int = 0) throws(PrivateNetworkError) -> [UInt8] {
        var ring: [UInt8] = []
        var used: [UInt8] = []
        var at = 0
        while at < wire.count {
            let n = min(piece, wire.count - at)
            ring += wire[at..<(at + n)]
            at += n
            let last = at == wire.count
            var failure: PrivateNetworkError?
            let nonce = ring.withUnsafeMutableBytes { buffer -> Int in
                do throws(PrivateNetworkError) { return try receiver.reveal(buffer) } catch { failure = error; return 0 }
            }
            if let failure { throw failure }
            let plaintext = ring.count - nonce
            let take = last ? plaintext : max(0, plaintext - keep)
            used += ring[nonce..<(nonce + take)]
            receiver.consumed(take)
            ring.removeFirst(nonce + take)
        }
        return used
    }

    @Test func bytesArriveAsSentInAnyPieces() throws {
        let key = SwarmKey.generate()
        var random = SplitMix64(seed: 9)
        let message = Self.greeting + random.bytes(3_000)
        for piece in [1, 2, 23, 24, 25, 64, 100, 4_000] {
            for keep in [0, 5] {
                var sender = Self.layer(key, seed: 1), receiver = Self.layer(key, seed: 2)
                // Sent in three writes: the nonce goes once, in front of the first.
                var wire: [UInt8] = []
                for part in [message[..<10], message[10..<1000], message[1000...]] {
                    var bytes = Array(part)
                    sender.conceal(&bytes)
                    wire += bytes
                }
                #expect(wire.count == message.count + 24)
                #expect(try Self.receive(wire, by: &receiver, piece: piece, keep: keep) == message, "piece \(piece), keep \(keep)")
            }
        }
    }

    @Test func theWireHidesTheGreeting() {
        var sender = Self.layer(SwarmKey.generate(), seed: 1)
        var bytes = Self.greeting
        sender.conceal(&bytes)
        #expect(!bytes.indices.contains { Array(bytes[$0...].prefix(Self.greeting.count)) == Self.greeting })
    }

    @Test func anotherKeyIsNamedAtTheFirstByte() {
        var sender = Self.layer(SwarmKey.generate(), seed: 1), receiver = Self.layer(SwarmKey.generate(), seed: 2)
        var bytes = Self.greeting
        sender.conceal(&bytes)
        // The nonce alone says nothing; the first byte after it does.
        #expect(throws: Never.self) { try Self.receive(Array(bytes.prefix(24)), by: &receiver, piece: 24) }
        #expect(throws: PrivateNetworkError.keyMismatch) { try Self.receive(Array(bytes[24...].prefix(1)), by: &receiver, piece: 1) }
    }

    @Test func anOpenPeerIsNamedByItsClearGreeting() {
        var receiver = Self.layer(SwarmKey.generate(), seed: 2)
        // An open node's dialer: multistream's greeting in clear, then its proposal.
        let clear = Self.greeting + Array("\u{07}/noise\n".utf8)
        #expect(throws: PrivateNetworkError.peerHasNoKey) { try Self.receive(clear, by: &receiver, piece: 3) }
        // An open listener sends only the greeting, then waits: still named, not waited on.
        var listenerSide = Self.layer(SwarmKey.generate(), seed: 3)
        #expect(throws: PrivateNetworkError.peerHasNoKey) { try Self.receive(Self.greeting, by: &listenerSide, piece: 20) }
    }
}
