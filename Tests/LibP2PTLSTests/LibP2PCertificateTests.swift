import CGnuTLS
import Testing
import TestSupport
import Wire
import P2PCrypto
@testable import LibP2PTLS

/// Our certificate (tls.md "Peer Authentication") round-trips through our verifier, and each
/// way a certificate can be wrong is refused with its own error.
struct LibP2PCertificateTests {
    static let now: Int64 = 1_800_000_000
    static let identity = Ed25519PrivateKey.generate()
    static var ourID: PeerID { PublicKey.ed25519(identity.publicKey).peerID }

    static func make(_ adjust: (inout LibP2PCertificate.Profile) -> Void = { _ in }) throws -> LibP2PCertificate {
        var profile = LibP2PCertificate.Profile(now: now)
        adjust(&profile)
        return try LibP2PCertificate(identity: identity, profile: profile)
    }

    static func verify(_ chain: [[UInt8]], now: Int64 = now, expecting expected: PeerID? = nil) throws -> PublicKey {
        try LibP2PTLSVerifier.verify(chain: chain, now: now, expectedPeer: expected)
    }

    @Test func ourCertificateVerifiesToOurPeerID() throws {
        let certificate = try LibP2PCertificate(identity: Self.identity, now: Self.now)
        let key = try Self.verify([certificate.der], expecting: Self.ourID)
        #expect(key == .ed25519(Self.identity.publicKey))
        #expect(key.peerID == Self.ourID)
        #expect(certificate.peerID == Self.ourID)
    }

    @Test func validityRunsFromAnHourBeforeNowForAHundredYears() throws {
        let certificate = try LibP2PCertificate(identity: Self.identity, now: Self.now)
        #expect(certificate.notBefore == Self.now - 3600)
        #expect(certificate.notAfter == Self.now + 100 * 365 * 86_400)
        // What GnuTLS wrote is what we asked for.
        let parsed = try X509Certificate(der: certificate.der)
        let (notBefore, notAfter) = try parsed.validity()
        #expect(notBefore == certificate.notBefore)
        #expect(notAfter == certificate.notAfter)
        // Valid at both ends, inclusive; refused one second outside.
        _ = try Self.verify([certificate.der], now: notBefore)
        _ = try Self.verify([certificate.der], now: notAfter)
        #expect(throws: LibP2PTLSError.notYetValid(notBefore: notBefore, now: notBefore - 1)) {
            try Self.verify([certificate.der], now: notBefore - 1)
        }
        #expect(throws: LibP2PTLSError.expired(notAfter: notAfter, now: notAfter + 1)) {
            try Self.verify([certificate.der], now: notAfter + 1)
        }
    }

    @Test func theExtensionDecodesAndItsSignatureCoversTheCertificateKey() throws {
        let certificate = try LibP2PCertificate(identity: Self.identity, now: Self.now)
        let parsed = try X509Certificate(der: certificate.der)
        let extensions = try parsed.extensions()
        // Only ours, first, and not critical (as go and py mark it).
        #expect(extensions.map(\.oid) == ["1.3.6.1.4.1.53594.1.1"])
        #expect(extensions.first?.critical == false)
        let signedKey = try SignedKey(der: try #require(extensions.first).value)
        #expect(signedKey.publicKey == PublicKey.ed25519(Self.identity.publicKey).libp2pProtobuf)
        #expect(signedKey.publicKey.hex.hasPrefix("08011220"))
        let layout = try CertificateLayout(der: certificate.der)
        // An uncompressed P-256 point in a named-curve SubjectPublicKeyInfo (id-ecPublicKey, prime256v1).
        #expect(layout.subjectPublicKeyInfo.hex.hasPrefix("3059301306072a8648ce3d020106082a8648ce3d03010703420004"))
        let message = Array("libp2p-tls-handshake:".utf8) + layout.subjectPublicKeyInfo
        #expect(Self.identity.publicKey.verify(signature: signedKey.signature, message: message))
        #expect(!Self.identity.publicKey.verify(signature: signedKey.signature, message: layout.subjectPublicKeyInfo))
        // Self-signed with ECDSA-SHA256, v3, no unique IDs.
        #expect(parsed.signatureAlgorithm == GNUTLS_SIGN_ECDSA_SHA256)
        #expect(parsed.version == 3)
        #expect(!layout.hasUniqueIdentifier)
    }

    @Test func eachCertificateHasItsOwnKeyAndSerial() throws {
        let first = try LibP2PCertificate(identity: Self.identity, now: Self.now)
        let second = try LibP2PCertificate(identity: Self.identity, now: Self.now)
        #expect(try CertificateLayout(der: first.der).subjectPublicKeyInfo != CertificateLayout(der: second.der).subjectPublicKeyInfo)
        #expect(first.der != second.der)
    }

    @Test func aTamperedIdentitySignatureIsRefused() throws {
        let certificate = try Self.make { $0.corruptIdentitySignature = true }
        #expect(throws: LibP2PTLSError.identitySignatureInvalid(peer: Self.ourID)) { try Self.verify([certificate.der]) }
    }

    @Test func aCertificateWithoutTheExtensionIsRefused() throws {
        let certificate = try Self.make { $0.includeLibP2PExtension = false }
        #expect(throws: LibP2PTLSError.missingLibP2PExtension) { try Self.verify([certificate.der]) }
        #expect(LibP2PTLSError.missingLibP2PExtension.description
                == "certificate has no libp2p public-key extension (OID 1.3.6.1.4.1.53594.1.1); is the peer a libp2p node?")
    }

    @Test func anExpiredCertificateIsRefused() throws {
        // Made 101 years ago with the public initialiser: its 100 years are over.
        let madeAt = Self.now - 101 * 365 * 86_400
        let certificate = try LibP2PCertificate(identity: Self.identity, now: madeAt)
        #expect(throws: LibP2PTLSError.expired(notAfter: madeAt + 100 * 365 * 86_400, now: Self.now)) {
            try Self.verify([certificate.der])
        }
    }

    @Test func aCertificateFromTheFutureIsRefused() throws {
        let madeAt = Self.now + 7200
        let certificate = try LibP2PCertificate(identity: Self.identity, now: madeAt)
        #expect(throws: LibP2PTLSError.notYetValid(notBefore: madeAt - 3600, now: Self.now)) { try Self.verify([certificate.der]) }
    }

    @Test func anotherPeerThanExpectedIsRefused() throws {
        let certificate = try LibP2PCertificate(identity: Self.identity, now: Self.now)
        let other = PublicKey.ed25519(Ed25519PrivateKey.generate().publicKey).peerID
        #expect(throws: LibP2PTLSError.peerIDMismatch(expected: other, actual: Self.ourID)) {
            try Self.verify([certificate.der], expecting: other)
        }
    }

    @Test func aChainOfOtherThanOneCertificateIsRefused() throws {
        let first = try LibP2PCertificate(identity: Self.identity, now: Self.now)
        let second = try LibP2PCertificate(identity: Self.identity, now: Self.now)
        #expect(throws: LibP2PTLSError.chainLength(2)) { try Self.verify([first.der, second.der]) }
        #expect(throws: LibP2PTLSError.chainLength(0)) { try Self.verify([]) }
    }

    @Test func anUnknownCriticalExtensionIsRefused() throws {
        // 1.3.6.1.4.1.53594.9.9 is unassigned; the value is DER NULL.
        let certificate = try Self.make { $0.extraExtensions = [("1.3.6.1.4.1.53594.9.9", [0x05, 0x00], true)] }
        #expect(throws: LibP2PTLSError.unknownCriticalExtension(oid: "1.3.6.1.4.1.53594.9.9")) { try Self.verify([certificate.der]) }
        // Even a well-known one: basicConstraints (2.5.29.19) cA=FALSE, critical.
        let withBasicConstraints = try Self.make { $0.extraExtensions = [("2.5.29.19", [0x30, 0x00], true)] }
        #expect(throws: LibP2PTLSError.unknownCriticalExtension(oid: "2.5.29.19")) { try Self.verify([withBasicConstraints.der]) }
    }

    @Test func anUnknownNonCriticalExtensionIsIgnored() throws {
        let certificate = try Self.make { $0.extraExtensions = [("1.3.6.1.4.1.53594.9.9", [0x05, 0x00], false)] }
        #expect(try Self.verify([certificate.der]).peerID == Self.ourID)
    }

    @Test func aCriticalLibP2PExtensionIsAccepted() throws {
        // rust-libp2p and js-libp2p mark it critical; tls.md: "MAY be marked critical".
        let certificate = try Self.make { $0.libp2pExtensionCritical = true }
        #expect(try X509Certificate(der: certificate.der).extensions().first?.critical == true)
        #expect(try Self.verify([certificate.der]).peerID == Self.ourID)
    }

    @Test func aSecondLibP2PExtensionIsRefused() throws {
        // GnuTLS replaces an extension set twice, so write a neighbour OID (…53594.1.2, same
        // length) and rename it in the DER to …53594.1.1. The self-signature breaks too, but
        // the duplicate is found first: GnuTLS refuses it when parsing.
        let value = try SignedKey(der: try X509Certificate(der: try Self.make().der).extensions()[0].value).der
        let certificate = try Self.make { $0.extraExtensions = [("1.3.6.1.4.1.53594.1.2", value, false)] }
        var der = certificate.der
        let neighbour: [UInt8] = [0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xa2, 0x5a, 0x01, 0x02]
        let at = try #require(der.indices.first { Array(der[$0..<min($0 + neighbour.count, der.count)]) == neighbour })
        der[at + neighbour.count - 1] = 0x01
        #expect(throws: LibP2PTLSError.malformedCertificate("GnuTLS cannot parse it (GNUTLS_E_X509_DUPLICATE_EXTENSION)")) {
            try Self.verify([der])
        }
    }

    @Test func aMalformedExtensionValueIsRefused() throws {
        let certificate = try Self.make {
            $0.includeLibP2PExtension = false
            $0.extraExtensions = [(LibP2PTLSProtocol.extensionOID, [0x30, 0x03, 0x04, 0x01, 0x00], false)]
        }
        #expect(throws: LibP2PTLSError.malformedSignedKey("expected an element at byte 5, found the end")) { try Self.verify([certificate.der]) }
    }

    @Test func aBrokenSelfSignatureIsRefused() throws {
        var der = try LibP2PCertificate(identity: Self.identity, now: Self.now).der
        // The last byte belongs to the ECDSA signature's s.
        der[der.count - 1] ^= 0x01
        #expect(throws: LibP2PTLSError.selfSignatureInvalid) { try Self.verify([der]) }
    }

    @Test func everySingleBitFlipOfOurCertificateIsRefused() throws {
        let der = try LibP2PCertificate(identity: Self.identity, now: Self.now).der
        for index in der.indices {
            var flipped = der
            flipped[index] ^= 0x01
            #expect(throws: LibP2PTLSError.self, "byte \(index)") { try Self.verify([flipped]) }
        }
    }

    @Test func garbageIsMalformed() throws {
        #expect(throws: LibP2PTLSError.malformedCertificate("GnuTLS cannot parse it (GNUTLS_E_ASN1_TAG_ERROR)")) {
            try Self.verify([[0x30, 0x03, 0x02, 0x01, 0x01]])
        }
        #expect(throws: LibP2PTLSError.certificateTooLarge(16 * 1024 + 1)) {
            try Self.verify([[UInt8](repeating: 0, count: 16 * 1024 + 1)])
        }
    }
}
