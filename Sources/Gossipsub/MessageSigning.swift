import P2PCrypto
import Wire

/// StrictSign message authentication (libp2p-wire.md section 7.3): the author signs
/// `"libp2p-pubsub:" ‖ Message without signature and key`, canonically encoded.
public enum MessageSigning {
    public static let prefix = Array("libp2p-pubsub:".utf8)

    /// Fills `from` and `signature` (no `key`: an Ed25519 key is recoverable from the peer ID).
    public static func sign(_ message: PubsubMessage, with identity: Ed25519PrivateKey) -> PubsubMessage {
        var m = message
        m.from = identity.publicKey.peerID.bytes
        m.signature = nil
        m.key = nil
        m.signature = identity.sign(prefix + m.encoded(includingSignature: false))
        return m
    }

    /// Checks a received message under StrictSign; returns its author.
    public static func verify(_ message: PubsubMessage) throws(PubsubError) -> PeerID {
        guard let from = message.from, message.seqno != nil, let signature = message.signature else {
            throw .missingSignatureFields
        }
        let author: PeerID
        do { author = try PeerID(bytes: from) } catch { throw .malformed("from is not a peer ID: \(error)") }
        let keyBytes: [UInt8]
        if let key = message.key {
            // py always sends the key; it must be the author's.
            guard PeerID(publicKey: (try? PublicKeyProtobuf(decoding: key)) ?? PublicKeyProtobuf(type: .rsa, data: []), sha256: SHA256.hash) == author else {
                throw .keyDoesNotMatchAuthor
            }
            keyBytes = key
        } else {
            guard let embedded = author.publicKey else { throw .unsupportedKey("the author's key is not in its peer ID and no key was sent") }
            keyBytes = embedded.encoded()
        }
        // Any libp2p key type: py's default identity (create_new_key_pair) is secp256k1.
        let publicKey: PublicKey
        do { publicKey = try PublicKey(libp2pProtobuf: keyBytes) } catch { throw .unsupportedKey("\(error)") }
        guard publicKey.verify(signature: signature, message: prefix + message.encoded(includingSignature: false)) else {
            throw .badSignature
        }
        return author
    }
}
