import Testing
import TestSupport
import Wire
@testable import LibP2PTLS

/// The test vectors of libp2p specs `tls/tls.md` ("Test vectors"): certificates made by another
/// implementation, valid from 1975-01-01 13:00 UTC to 4096-01-01 13:00 UTC.
struct SpecVectorTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let name: String
        let der: String
        let peerID: String
        var testDescription: String { name }
    }

    /// 2023-11-14, well inside the vectors' validity.
    static let now: Int64 = 1_700_000_000

    static let valid: [Vector] = [
        Vector(name: "Ed25519", der: """
            308201ae30820156a0030201020204499602d2300a06082a8648ce3d040302302031123010060355040a13096c69627032702e696f310a3008\
            06035504051301313020170d3735303130313133303030305a180f34303936303130313133303030305a302031123010060355040a13096c\
            69627032702e696f310a300806035504051301313059301306072a8648ce3d020106082a8648ce3d030107034200040c901d423c831ca85e\
            27c73c263ba132721bb9d7a84c4f0380b2a6756fd601331c8870234dec878504c174144fa4b14b66a651691606d8173e55bd37e381569ea3\
            7c307a3078060a2b0601040183a25a0101046a3068042408011220a77f1d92fedb59dddaea5a1c4abd1ac2fbde7d7b879ed364501809923d\
            7c11b90440d90d2769db992d5e6195dbb08e706b6651e024fda6cfb8846694a435519941cac215a8207792e42849cccc6cd8136c6e4bde92\
            a58c5e08cfd4206eb5fe0bf909300a06082a8648ce3d0403020346003043021f50f6b6c52711a881778718238f650c9fb48943ae6ee6d284\
            27dc6071ae55e702203625f116a7a454db9c56986c82a25682f7248ea1cb764d322ea983ed36a31b77
            """, peerID: "12D3KooWM6CgA9iBFZmcYAHA6A2qvbAxqfkmrYiRQuz3XEsk4Ksv"),
        Vector(name: "ECDSA", der: """
            308201f63082019da0030201020204499602d2300a06082a8648ce3d040302302031123010060355040a13096c69627032702e696f310a3008\
            06035504051301313020170d3735303130313133303030305a180f34303936303130313133303030305a302031123010060355040a13096c\
            69627032702e696f310a300806035504051301313059301306072a8648ce3d020106082a8648ce3d030107034200040c901d423c831ca85e\
            27c73c263ba132721bb9d7a84c4f0380b2a6756fd601331c8870234dec878504c174144fa4b14b66a651691606d8173e55bd37e381569ea3\
            81c23081bf3081bc060a2b0601040183a25a01010481ad3081aa045f0803125b3059301306072a8648ce3d020106082a8648ce3d03010703\
            420004bf30511f909414ebdd3242178fd290f093a551cf75c973155de0bb5a96fedf6cb5d52da7563e794b512f66e60c7f55ba8a3acf3dd7\
            2a801980d205e8a1ad29f2044730450220064ea8124774caf8f50e57f436aa62350ce652418c019df5d98a3ac666c9386a022100aa59d704\
            a931b5f72fb9222cb6cc51f954d04a4e2e5450f8805fe8918f71eaae300a06082a8648ce3d04030203470030440220799395b0b6c1e940a7\
            e4484705f610ab51ed376f19ff9d7c16757cfbf61b8d4302206205c03fbb0f95205c779be86581d3e31c01871ad5d1f3435bcf375cb0e508\
            8a
            """, peerID: "QmfXbAwNjJLXfesgztEHe8HwgVDCMMpZ9Eax1HYq6hn9uE"),
        Vector(name: "Secp256k1", der: """
            308201ba3082015fa0030201020204499602d2300a06082a8648ce3d040302302031123010060355040a13096c69627032702e696f310a3008\
            06035504051301313020170d3735303130313133303030305a180f34303936303130313133303030305a302031123010060355040a13096c\
            69627032702e696f310a300806035504051301313059301306072a8648ce3d020106082a8648ce3d030107034200040c901d423c831ca85e\
            27c73c263ba132721bb9d7a84c4f0380b2a6756fd601331c8870234dec878504c174144fa4b14b66a651691606d8173e55bd37e381569ea3\
            8184308181307f060a2b0601040183a25a01010471306f0425080212210206dc6968726765b820f050263ececf7f71e4955892776c097054\
            2efd689d2382044630440220145e15a991961f0d08cd15425bb95ec93f6ffa03c5a385eedc34ecf464c7a8ab022026b3109b8a3f40ef8331\
            69777eb2aa337cfb6282f188de0666d1bcec2a4690dd300a06082a8648ce3d0403020349003046022100e1a217eeef9ec9204b3f774a08b7\
            0849646b6a1e6b8b27f93dc00ed58545d9fe022100b00dafa549d0f03547878338c7b15e7502888f6d45db387e5ae6b5d46899cef0
            """, peerID: "16Uiu2HAkutTMoTzDw1tCvSRtu6YoixJwS46S1ZFxW8hSx9fWHiPs"),
    ]

    /// "This certificate has a mismatch between the Peer ID that it claims to authenticate vs
    /// the key that was used to sign it": its ECDSA identity's signature does not verify.
    static let invalid = """
        308201f73082019da0030201020204499602d2300a06082a8648ce3d040302302031123010060355040a13096c69627032702e696f310a3008\
        06035504051301313020170d3735303130313133303030305a180f34303936303130313133303030305a302031123010060355040a13096c\
        69627032702e696f310a300806035504051301313059301306072a8648ce3d020106082a8648ce3d030107034200040c901d423c831ca85e\
        27c73c263ba132721bb9d7a84c4f0380b2a6756fd601331c8870234dec878504c174144fa4b14b66a651691606d8173e55bd37e381569ea3\
        81c23081bf3081bc060a2b0601040183a25a01010481ad3081aa045f0803125b3059301306072a8648ce3d020106082a8648ce3d03010703\
        420004bf30511f909414ebdd3242178fd290f093a551cf75c973155de0bb5a96fedf6cb5d52da7563e794b512f66e60c7f55ba8a3acf3dd7\
        2a801980d205e8a1ad29f204473045022100bb6e03577b7cc7a3cd1558df0da2b117dfdcc0399bc2504ebe7de6f65cade72802206de96e2a\
        5be9b6202adba24ee0362e490641ac45c240db71fe955f2c5cf8df6e300a06082a8648ce3d0403020348003045022100e847f267f4371735\
        8f850355bdcabbefb2cfbf8a3c043b203a14788a092fe8db022027c1d04a2d41fd6b57a7e8b3989e470325de4406e52e084e34a3fd56eef0\
        d0df
        """

    @Test(arguments: valid)
    func validVectorVerifiesToItsPeerID(_ vector: Vector) throws {
        let expected = try PeerID(vector.peerID)
        let key = try LibP2PTLSVerifier.verify(chain: [Hex.bytes(vector.der)], now: Self.now, expectedPeer: expected)
        #expect(key.peerID == expected)
        #expect(key.description == vector.name)
    }

    @Test(arguments: valid)
    func validVectorVerifiesWithoutAnExpectedPeer(_ vector: Vector) throws {
        let key = try LibP2PTLSVerifier.verify(chain: [Hex.bytes(vector.der)], now: Self.now, expectedPeer: nil)
        #expect(key.peerID.description == vector.peerID)
    }

    @Test(arguments: valid)
    func validVectorUsesGeneralizedTimeFarInTheFuture(_ vector: Vector) throws {
        // NotAfter is 4096-01-01 13:00:00 UTC in GeneralizedTime; GnuTLS reads it as a 64-bit time.
        let year4095: Int64 = 67_074_220_800 // 4095-07-01
        _ = try LibP2PTLSVerifier.verify(chain: [Hex.bytes(vector.der)], now: year4095, expectedPeer: nil)
        #expect(throws: LibP2PTLSError.expired(notAfter: 67_090_165_200, now: 67_090_165_201)) {
            try LibP2PTLSVerifier.verify(chain: [Hex.bytes(vector.der)], now: 67_090_165_201, expectedPeer: nil)
        }
        // NotBefore is 1975-01-01 13:00:00 UTC.
        #expect(throws: LibP2PTLSError.notYetValid(notBefore: 157_813_200, now: 157_813_199)) {
            try LibP2PTLSVerifier.verify(chain: [Hex.bytes(vector.der)], now: 157_813_199, expectedPeer: nil)
        }
    }

    @Test(arguments: valid)
    func validVectorOfAnotherPeerIsAMismatch(_ vector: Vector) throws {
        let other = try PeerID(Self.valid.first { $0.name != vector.name }!.peerID)
        #expect(throws: LibP2PTLSError.peerIDMismatch(expected: other, actual: try PeerID(vector.peerID))) {
            try LibP2PTLSVerifier.verify(chain: [Hex.bytes(vector.der)], now: Self.now, expectedPeer: other)
        }
    }

    @Test func invalidVectorIsRefusedForItsIdentitySignature() throws {
        // The extension is the ECDSA vector's key (same peer ID) with another signature.
        let peer = try PeerID(Self.valid[1].peerID)
        #expect(throws: LibP2PTLSError.identitySignatureInvalid(peer: peer)) {
            try LibP2PTLSVerifier.verify(chain: [Hex.bytes(Self.invalid)], now: Self.now, expectedPeer: nil)
        }
    }

    @Test(arguments: valid)
    func everySingleBitFlipOfAVectorIsRefused(_ vector: Vector) throws {
        let der = Hex.bytes(vector.der)
        for index in der.indices {
            var flipped = der
            flipped[index] ^= 0x01
            #expect(throws: LibP2PTLSError.self, "byte \(index)") {
                try LibP2PTLSVerifier.verify(chain: [flipped], now: Self.now, expectedPeer: nil)
            }
        }
    }

    @Test(arguments: valid)
    func everyTruncationOfAVectorIsRefused(_ vector: Vector) throws {
        let der = Hex.bytes(vector.der)
        for length in 0..<der.count {
            #expect(throws: LibP2PTLSError.self, "\(length) bytes") {
                try LibP2PTLSVerifier.verify(chain: [Array(der.prefix(length))], now: Self.now, expectedPeer: nil)
            }
        }
        // GnuTLS itself refuses bytes after the certificate (our DER walk would too).
        #expect(throws: LibP2PTLSError.malformedCertificate("GnuTLS cannot parse it (GNUTLS_E_ASN1_DER_ERROR)")) {
            try LibP2PTLSVerifier.verify(chain: [der + [0]], now: Self.now, expectedPeer: nil)
        }
    }
}
