/// The value of the libp2p Public Key Extension (tls.md "libp2p Public Key Extension"):
///
///     SignedKey ::= SEQUENCE {
///       publicKey OCTET STRING,   -- the libp2p PublicKey protobuf of the identity key
///       signature OCTET STRING    -- Sign(identity, "libp2p-tls-handshake:" ‖ certificate SPKI DER)
///     }
///
/// (An older text of tls.md says BIT STRING; every implementation and the spec's test vectors
/// use OCTET STRING.) go-libp2p adds a third, optional field for private-network cookies, with
/// a different signature prefix; such certificates are refused here as malformed.
struct SignedKey: Equatable {
    var publicKey: [UInt8]
    var signature: [UInt8]

    /// Decodes strict DER: one SEQUENCE of exactly two OCTET STRINGs, nothing after it.
    init(der: [UInt8]) throws(LibP2PTLSError) {
        do throws(DERError) {
            var outer = DERReader(der)
            let sequence = try outer.next(DERReader.sequence, "SignedKey")
            guard outer.isAtEnd else { throw DERError("\(der.count - sequence.whole.upperBound) bytes after the SEQUENCE") }
            var fields = outer.reader(inside: sequence)
            let key = try fields.next(DERReader.octetString, "publicKey")
            let signature = try fields.next(DERReader.octetString, "signature")
            guard fields.isAtEnd else { throw DERError("more than two fields in the SEQUENCE") }
            publicKey = Array(der[key.contents])
            self.signature = Array(der[signature.contents])
        } catch {
            throw .malformedSignedKey(error.message)
        }
    }

    init(publicKey: [UInt8], signature: [UInt8]) {
        self.publicKey = publicKey
        self.signature = signature
    }

    var der: [UInt8] {
        DERReader.encode(DERReader.sequence, DERReader.encode(DERReader.octetString, publicKey)
            + DERReader.encode(DERReader.octetString, signature))
    }

    /// The bytes the identity key signs: the prefix, then the certificate key's SPKI DER.
    static func message(subjectPublicKeyInfo: [UInt8]) -> [UInt8] {
        LibP2PTLSProtocol.signaturePrefix + subjectPublicKeyInfo
    }
}
