import P2PCrypto
import Wire

/// A point in the Kademlia keyspace (libp2p-wire.md section 8.2): the SHA-256 of a key's bytes,
/// for a peer the SHA-256 of its binary peer ID (the multihash, not the public key). Distance is
/// the XOR of two points read as a 256-bit big-endian number.
public struct KadKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    public static let byteCount = 32
    /// Four big-endian words, most significant first: comparisons and XOR without a loop over bytes.
    public let words: (UInt64, UInt64, UInt64, UInt64)

    /// The point of arbitrary key bytes (a record key, a provider key's multihash).
    public init(hashing bytes: [UInt8]) {
        self.init(digest: SHA256.hash(bytes))
    }

    /// The point of a peer.
    public init(peer: PeerID) {
        self.init(hashing: peer.bytes)
    }

    /// A point given by its 32 digest bytes (already hashed).
    public init(digest: [UInt8]) {
        precondition(digest.count == Self.byteCount, "a Kademlia key is 32 bytes, not \(digest.count)")
        func word(_ i: Int) -> UInt64 {
            var w: UInt64 = 0
            for b in digest[(i * 8)..<(i * 8 + 8)] { w = (w << 8) | UInt64(b) }
            return w
        }
        words = (word(0), word(1), word(2), word(3))
    }

    public init(words: (UInt64, UInt64, UInt64, UInt64)) { self.words = words }

    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Self.byteCount)
        for w in [words.0, words.1, words.2, words.3] {
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: w >> UInt64(shift))) }
        }
        return out
    }

    /// XOR distance to `other`, itself a 256-bit number in the same form.
    public func distance(to other: KadKey) -> KadKey {
        KadKey(words: (words.0 ^ other.words.0, words.1 ^ other.words.1, words.2 ^ other.words.2, words.3 ^ other.words.3))
    }

    /// Leading bits shared with `other` (256 when equal): the routing table's bucket index.
    public func commonPrefixLength(with other: KadKey) -> Int {
        let d = distance(to: other).words
        if d.0 != 0 { return d.0.leadingZeroBitCount }
        if d.1 != 0 { return 64 + d.1.leadingZeroBitCount }
        if d.2 != 0 { return 128 + d.2.leadingZeroBitCount }
        return 192 + d.3.leadingZeroBitCount
    }

    public static func == (a: KadKey, b: KadKey) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
    }

    /// Numeric order of the 256-bit values (distances compare this way).
    public static func < (a: KadKey, b: KadKey) -> Bool {
        if a.words.0 != b.words.0 { return a.words.0 < b.words.0 }
        if a.words.1 != b.words.1 { return a.words.1 < b.words.1 }
        if a.words.2 != b.words.2 { return a.words.2 < b.words.2 }
        return a.words.3 < b.words.3
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }

    public var description: String {
        bytes.prefix(6).map { String($0, radix: 16).leftPadded(to: 2) }.joined() + "…"
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
