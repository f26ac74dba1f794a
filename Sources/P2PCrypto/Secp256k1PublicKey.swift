import CSecp256k1
import Wire

/// A secp256k1 public key as libp2p carries it (libp2p-wire.md §1.5): the 33-byte SEC1
/// compressed point. Signatures are ECDSA over SHA-256(message), DER-encoded (go-libp2p
/// `crypto/secp256k1.go`, py-libp2p `crypto/secp256k1.py` via coincurve). Parsing and
/// verification are libsecp256k1's; the key's peer ID inlines it (`16Uiu2HA…`).
public struct Secp256k1PublicKey: Hashable, Sendable {
    /// A compressed point: `02`/`03` ‖ x (32 bytes).
    public static let rawCount = 33
    /// A DER ECDSA signature is at most 72 bytes (two 33-byte INTEGERs and headers);
    /// longer input is refused before libsecp256k1 sees it.
    public static let maximumSignatureCount = 72

    /// The 33-byte compressed point, exactly as received (peer IDs are made from these bytes).
    public let raw: [UInt8]

    /// Checks that `raw` is a compressed point on the curve.
    public init(raw: [UInt8]) throws(CryptoError) {
        guard raw.count == Self.rawCount, raw[0] == 0x02 || raw[0] == 0x03 else {
            throw .malformedPublicKey(.secp256k1, "expected a 33-byte compressed point (02 or 03 then x), got \(raw.count) bytes"
                                      + (raw.isEmpty ? "" : " starting with \(String(raw[0], radix: 16))"))
        }
        guard Self.parse(raw) != nil else {
            throw .malformedPublicKey(.secp256k1, "the 33 bytes are not a point on the curve")
        }
        self.raw = raw
    }

    /// ECDSA verification of a DER signature over SHA-256(`message`). High-S signatures are
    /// normalized first: libsecp256k1 alone accepts only low S, but go's btcec and py's
    /// coincurve do not promise to produce it, and libp2p signatures are not malleability-sensitive
    /// (the signed bytes are fixed, not a transaction id).
    public func verify(signature: [UInt8], message: [UInt8]) -> Bool {
        guard !signature.isEmpty, signature.count <= Self.maximumSignatureCount, var key = Self.parse(raw) else { return false }
        let context = p2p_secp256k1_context_static()!
        var parsed = secp256k1_ecdsa_signature()
        guard secp256k1_ecdsa_signature_parse_der(context, &parsed, signature, signature.count) == 1 else { return false }
        var normalized = secp256k1_ecdsa_signature()
        _ = secp256k1_ecdsa_signature_normalize(context, &normalized, &parsed)
        let digest = SHA256.hash(message)
        return secp256k1_ecdsa_verify(context, &normalized, digest, &key) == 1
    }

    public var protobuf: PublicKeyProtobuf { PublicKeyProtobuf(type: .secp256k1, data: raw) }

    /// The identity-multihash peer ID (`16Uiu2HA…`): the 37-byte key protobuf is inlined.
    public var peerID: PeerID { PeerID(publicKey: protobuf, sha256: SHA256.hash) }

    /// libsecp256k1 asks for its self-test before the static context is used; it aborts the
    /// process if the library is broken. A static `let` runs it once, thread-safely.
    private static let selfTested: Void = secp256k1_selftest()

    /// libsecp256k1's parsed form, or nil when the bytes are not a point.
    private static func parse(_ raw: [UInt8]) -> secp256k1_pubkey? {
        Self.selfTested
        var key = secp256k1_pubkey()
        guard secp256k1_ec_pubkey_parse(p2p_secp256k1_context_static(), &key, raw, raw.count) == 1 else { return nil }
        return key
    }
}
