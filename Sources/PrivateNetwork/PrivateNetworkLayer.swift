import P2PCrypto

/// libp2p pnet on one TCP connection (sans-I/O), under everything else: each side sends a
/// random 24-byte nonce, then every byte it sends is XORed with XSalsa20(swarm key, that nonce);
/// the receiver decrypts with the peer's nonce (libp2p-wire.md §10).
///
/// pnet has no handshake and no authentication: with another key the bytes just come out as
/// garbage. So that a wrong key fails at once with a message that says so, rather than as a
/// multistream error or a handshake time-out, the first plaintext bytes are checked against
/// what every libp2p connection begins with, multistream's greeting (both sides send it
/// first), and a peer that sends that greeting in clear has no key at all.
public struct PrivateNetworkLayer: Sendable {
    static let greeting = Array("\u{13}/multistream/1.0.0\n".utf8)

    private let key: SwarmKey
    private var sending: XSalsa20Stream
    private var nonceSent = false
    /// The peer's nonce as it arrives; its stream once all 24 bytes are in.
    private var peerNonce: [UInt8] = []
    private var receiving: XSalsa20Stream?
    /// Decrypted bytes at the front of the caller's input that the connection has not used yet
    /// (they come back, front first, in the next `reveal`).
    private var revealedUnused = 0
    /// Plaintext bytes received so far (the first `greeting.count` are checked).
    private var revealedTotal = 0

    /// `nonce`: 24 random bytes for our direction (from a secure generator: a nonce used twice
    /// with one key lets an observer XOR two plaintexts).
    public init(key: SwarmKey, nonce: [UInt8]) {
        self.key = key
        sending = XSalsa20Stream(key: key.secret, nonce: nonce)
    }

    public var keyIdentifier: String { key.identifier }

    /// Outgoing bytes, encrypted in place; the first bytes sent get our nonce in front.
    public mutating func conceal(_ bytes: inout [UInt8]) {
        guard !bytes.isEmpty else { return }
        bytes.withUnsafeMutableBytes { sending.apply($0) }
        if !nonceSent {
            bytes.insert(contentsOf: sending.nonce, at: 0)
            nonceSent = true
        }
    }

    /// The caller's unused input, lent mutable (what `reveal` returned and the connection did
    /// not use comes first, then new bytes). New bytes are decrypted in place. Returns how many
    /// bytes at the front were the peer's nonce, taken here: the caller drops them, and what
    /// follows is plaintext (none until the nonce is complete).
    public mutating func reveal(_ input: UnsafeMutableRawBufferPointer) throws(PrivateNetworkError) -> Int {
        var taken = 0
        if receiving == nil {
            taken = min(XSalsa20Stream.nonceCount - peerNonce.count, input.count)
            peerNonce += input.prefix(taken)
            if peerNonce.count >= PrivateNetworkLayer.greeting.count,
               Array(peerNonce.prefix(PrivateNetworkLayer.greeting.count)) == PrivateNetworkLayer.greeting {
                throw .peerHasNoKey
            }
            guard peerNonce.count == XSalsa20Stream.nonceCount else { return taken }
            receiving = XSalsa20Stream(key: key.secret, nonce: peerNonce)
        }
        let fresh = UnsafeMutableRawBufferPointer(rebasing: input[(taken + revealedUnused)...])
        receiving!.apply(fresh)
        for (offset, byte) in fresh.enumerated() {
            let position = revealedTotal + offset
            guard position < PrivateNetworkLayer.greeting.count else { break }
            guard byte == PrivateNetworkLayer.greeting[position] else { throw .keyMismatch }
        }
        revealedTotal += fresh.count
        revealedUnused += fresh.count
        return taken
    }

    /// The connection used `count` bytes of the plaintext `reveal` left it.
    public mutating func consumed(_ count: Int) {
        precondition(count <= revealedUnused, "consumed more plaintext than was revealed")
        revealedUnused -= count
    }
}

/// Why a private-network connection failed; each says what to check.
public enum PrivateNetworkError: Error, Equatable, CustomStringConvertible {
    case keyMismatch
    case peerHasNoKey

    public var description: String {
        switch self {
        case .keyMismatch:
            "private network: the peer's bytes do not decrypt with our swarm key (it has another key); give every node the same swarm.key"
        case .peerHasNoKey:
            "private network: the peer speaks libp2p without a swarm key (an open node); give it our swarm.key, or run this node without one"
        }
    }
}
