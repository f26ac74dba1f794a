import Testing
import TestSupport
import Wire
@testable import P2PCrypto

/// Ed25519 identities: RFC 8032 and the libp2p key protobufs (libp2p-wire.md §1.5, §1.6).
struct Ed25519Tests {
    static let specSeed = Hex.bytes("7e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d")
    static let specPublic = "1ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e"
    static let specPrivateProtobuf = "08011240" + "7e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d" + specPublic

    @Test func specSeedGivesTheSpecPublicKeyAndProtobufs() throws {
        let key = try Ed25519PrivateKey(seed: Self.specSeed)
        #expect(key.publicKey.raw.hex == Self.specPublic)
        #expect(key.publicKey.libp2pProtobuf.hex == "08011220" + Self.specPublic)
        #expect(key.libp2pProtobuf.hex == Self.specPrivateProtobuf)
        #expect(key.publicKey.peerID.description == "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq")
    }

    @Test func seedOf0x11GivesTheSpecPeerID() throws {
        let key = try Ed25519PrivateKey(seed: [UInt8](repeating: 0x11, count: 32))
        #expect(key.publicKey.peerID.description == "12D3KooWPqT2nMDSiXUSx5D7fasaxhxKigVhcqfkKqrLghCq9jxz")
    }

    @Test func rfc8032TestOne() throws {
        let key = try Ed25519PrivateKey(seed: Hex.bytes("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))
        #expect(key.publicKey.raw.hex == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        let signature = key.sign([])
        #expect(signature.hex == "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065"
                + "224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
        #expect(key.publicKey.verify(signature: signature, message: []))
    }

    @Test func signVerifyRoundTripAndAnyFlippedBitFails() throws {
        let key = Ed25519PrivateKey.generate()
        let message = Array("libp2p-pubsub:hello".utf8)
        let signature = key.sign(message)
        #expect(signature.count == 64)
        #expect(key.publicKey.verify(signature: signature, message: message))
        for bit in [0, 7, 100, 511] {
            var bad = signature
            bad[bit / 8] ^= 1 << UInt8(bit % 8)
            #expect(!key.publicKey.verify(signature: bad, message: message), "signature bit \(bit)")
        }
        var badMessage = message
        badMessage[3] ^= 0x20
        #expect(!key.publicKey.verify(signature: signature, message: badMessage))
        #expect(!key.publicKey.verify(signature: Array(signature.dropLast()), message: message))
        #expect(!Ed25519PrivateKey.generate().publicKey.verify(signature: signature, message: message))
    }

    @Test func generatedKeysDiffer() {
        #expect(Ed25519PrivateKey.generate().publicKey != Ed25519PrivateKey.generate().publicKey)
    }

    @Test func privateKeyProtobufRoundTrips() throws {
        let key = Ed25519PrivateKey.generate()
        let again = try Ed25519PrivateKey(libp2pProtobuf: key.libp2pProtobuf)
        #expect(again.publicKey == key.publicKey)
        #expect(again.seed == key.seed)
        #expect(again.sign([1, 2, 3]) == key.sign([1, 2, 3]))
    }

    @Test func acceptsTheLegacy96ByteFormAndWritesTheShortOne() throws {
        let legacy = "08011260" + "7e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d" + Self.specPublic + Self.specPublic
        let key = try Ed25519PrivateKey(libp2pProtobuf: Hex.bytes(legacy))
        #expect(key.publicKey.raw.hex == Self.specPublic)
        #expect(key.libp2pProtobuf.hex == Self.specPrivateProtobuf)
    }

    @Test func rejectsMismatchedOrMalformedPrivateKeys() {
        let seed = "7e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d"
        let otherPublic = String(repeating: "ab", count: 32)
        let cases: [(String, String)] = [
            ("08011240" + seed + otherPublic, "does not match"),
            ("08011260" + seed + Self.specPublic + otherPublic, "two copies"),
            ("08011220" + seed, "32 bytes"),
            ("0801", "Data"),
            ("08021240" + seed + Self.specPublic, "Secp256k1"),
            ("", "Type"),
        ]
        for (hex, fragment) in cases {
            do {
                _ = try Ed25519PrivateKey(libp2pProtobuf: Hex.bytes(hex))
                Issue.record("accepted \(hex)")
            } catch {
                #expect(error.description.contains(fragment), "\(error.description)")
            }
        }
    }

    @Test func rejectsWrongSeedLengths() {
        #expect(throws: CryptoError.invalidKeyLength(expected: 32, got: 31)) { try Ed25519PrivateKey(seed: [UInt8](repeating: 0, count: 31)) }
        #expect(throws: CryptoError.invalidKeyLength(expected: 32, got: 0)) { try Ed25519PrivateKey(seed: []) }
    }

    @Test func publicKeyProtobufAndPeerIDRecovery() throws {
        let key = try Ed25519PublicKey(libp2pProtobuf: Hex.bytes("08011220" + Self.specPublic))
        #expect(key.raw.hex == Self.specPublic)
        #expect(try Ed25519PublicKey(peerID: key.peerID) == key)
        #expect(throws: CryptoError.unsupportedKeyType(.secp256k1)) {
            try Ed25519PublicKey(libp2pProtobuf: Hex.bytes("08021220" + Self.specPublic))
        }
        #expect(throws: CryptoError.invalidKeyLength(expected: 32, got: 1)) { try Ed25519PublicKey(libp2pProtobuf: Hex.bytes("0801120100")) }
        #expect(throws: CryptoError.self) { try Ed25519PublicKey(libp2pProtobuf: Hex.bytes("08011220" + Self.specPublic + "00")) }
        #expect(throws: CryptoError.self) { try Ed25519PublicKey(peerID: PeerID("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N")) }
    }
}
