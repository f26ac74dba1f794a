/// The byte ranges of one DER certificate that the libp2p checks need raw (RFC 5280 §4.1):
///
///     Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
///     TBSCertificate ::= SEQUENCE { [0] version, serialNumber, signature, issuer, validity,
///                                   subject, subjectPublicKeyInfo, [1] issuerUniqueID OPTIONAL,
///                                   [2] subjectUniqueID OPTIONAL, [3] extensions OPTIONAL }
///
/// GnuTLS parses the same certificate for everything else; this walk exists because the
/// self-signature covers the exact `tbsCertificate` bytes and the identity signature the exact
/// SubjectPublicKeyInfo bytes, which GnuTLS only offers re-encoded, and because the unique IDs
/// are easiest to see as tags.
struct CertificateLayout {
    /// The whole `tbsCertificate` TLV: what the self-signature signs.
    let tbsCertificate: [UInt8]
    /// The whole `subjectPublicKeyInfo` TLV: what the identity key signs after the prefix.
    let subjectPublicKeyInfo: [UInt8]
    /// The `signatureValue` bits (the BIT STRING without its unused-bits byte).
    let signature: [UInt8]
    /// True when `issuerUniqueID` or `subjectUniqueID` is present.
    let hasUniqueIdentifier: Bool

    init(der: [UInt8]) throws(DERError) {
        var outer = DERReader(der)
        let certificate = try outer.next(DERReader.sequence, "Certificate")
        guard outer.isAtEnd else { throw DERError("\(der.count - certificate.whole.upperBound) bytes after the certificate") }
        var fields = outer.reader(inside: certificate)
        let tbs = try fields.next(DERReader.sequence, "tbsCertificate")
        _ = try fields.next(DERReader.sequence, "signatureAlgorithm")
        let signatureValue = try fields.next(DERReader.bitString, "signatureValue")
        guard fields.isAtEnd else { throw DERError("more than three fields in Certificate") }
        // A BIT STRING's first content byte counts the unused bits; signatures use whole bytes.
        guard !signatureValue.contents.isEmpty, der[signatureValue.contents.lowerBound] == 0 else {
            throw DERError("signatureValue is empty or not a whole number of bytes")
        }
        signature = Array(der[(signatureValue.contents.lowerBound + 1)..<signatureValue.contents.upperBound])
        tbsCertificate = Array(der[tbs.whole])

        var tbsFields = fields.reader(inside: tbs)
        if tbsFields.peekTag() == 0xa0 { _ = try tbsFields.next() }     // [0] EXPLICIT version
        _ = try tbsFields.next(DERReader.integer, "serialNumber")
        _ = try tbsFields.next(DERReader.sequence, "signature")
        _ = try tbsFields.next(DERReader.sequence, "issuer")
        _ = try tbsFields.next(DERReader.sequence, "validity")
        _ = try tbsFields.next(DERReader.sequence, "subject")
        let spki = try tbsFields.next(DERReader.sequence, "subjectPublicKeyInfo")
        subjectPublicKeyInfo = Array(der[spki.whole])
        var unique = false
        while !tbsFields.isAtEnd {
            let element = try tbsFields.next()
            // [1] and [2] IMPLICIT BIT STRING: primitive 0x81 / 0x82 (0xa1 / 0xa2 if constructed).
            if [0x81, 0x82, 0xa1, 0xa2].contains(element.tag) { unique = true }
        }
        hasUniqueIdentifier = unique
    }
}
