import Testing
import TestSupport
import P2PCrypto
@testable import Wire

/// Peer IDs, libp2p-wire.md §1.6 (the seed-derived row is in P2PCryptoTests).
struct PeerIDTests {
    static let specPublicKey = "080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e"
    static let specPeerID = "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq"
    static let specPeerBytes = "0024080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e"
    static let specCIDBase32 = "bafzaajaiaejcahwr5d5ofrfbis4l5d6uwr57hu5tjodrypfm6yaq6dsc2r2pzyt6"
    static let specCIDBase36 = "k51qzi5uqu5dgy8qsq67hbz73jqkw87l3fgf4a91qb0d9b5173tir7n4vxk1oe"
    static let sha256Multihash = "12209dff3b17d74cf4d38a50d8b6383e92d181a10395a5e73a726dcccbd21bf6f0b9"

    @Test func specEd25519KeyGivesItsPeerID() throws {
        let key = try PublicKeyProtobuf(decoding: Hex.bytes(Self.specPublicKey))
        let peer = PeerID(publicKey: key, sha256: SHA256.hash)
        #expect(peer.bytes.hex == Self.specPeerBytes)
        #expect(peer.description == Self.specPeerID)
        #expect(peer.cidString == Self.specCIDBase32)
    }

    @Test(arguments: [specPeerID, specCIDBase32, specCIDBase36, specCIDBase32.uppercased().replacing("BAFZ", with: "Bafz")])
    func everyTextFormParsesToTheSameBytes(text: String) throws {
        let peer = try PeerID(text)
        #expect(peer.bytes.hex == Self.specPeerBytes)
        #expect(peer.description == Self.specPeerID)
    }

    @Test(arguments: ["QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N",
                      "bafzbeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xqxe"])
    func specExampleStringsGiveTheSameSHA256Multihash(text: String) throws {
        let peer = try PeerID(text)
        #expect(peer.bytes.hex == Self.sha256Multihash)
        #expect(peer.publicKey == nil)
        #expect(peer.description == "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N")
    }

    @Test func specExampleEd25519String() throws {
        let peer = try PeerID("12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA")
        #expect(peer.bytes.hex == "0024080112202ffa35a99d3a3cfbb17bb7c1dc5561b18a8dcca4df38dc613ea859c37eb1336b")
        #expect(peer.publicKey == PublicKeyProtobuf(type: .ed25519,
            data: Hex.bytes("2ffa35a99d3a3cfbb17bb7c1dc5561b18a8dcca4df38dc613ea859c37eb1336b")))
    }

    @Test func tlsSpecVectorKey() throws {
        let key = try PublicKeyProtobuf(decoding: Hex.bytes("08011220a77f1d92fedb59dddaea5a1c4abd1ac2fbde7d7b879ed364501809923d7c11b9"))
        #expect(PeerID(publicKey: key, sha256: SHA256.hash).description == "12D3KooWM6CgA9iBFZmcYAHA6A2qvbAxqfkmrYiRQuz3XEsk4Ksv")
    }

    @Test func keysOver42BytesAreHashedWithSHA256() {
        // Expected values computed independently with Python's hashlib.
        let key = PublicKeyProtobuf(type: .rsa, data: (0..<100).map { UInt8($0) })
        let peer = PeerID(publicKey: key, sha256: SHA256.hash)
        #expect(peer.bytes.hex == "122008cd550eb82c9783a6d4a7fd49e0324036760be8a7999200225f4586c062481a")
        #expect(peer.description == "QmNw1Zu2oeMXzssrcE8WB7HGWEGeQo1KyyZXWMTCmoNxuo")
    }

    @Test func secp256k1SizedKeysAreInlined() throws {
        let key = PublicKeyProtobuf(type: .secp256k1, data: [2] + (0..<32).map { UInt8($0) })
        let peer = PeerID(publicKey: key, sha256: SHA256.hash)
        #expect(peer.description == "16Uiu2HAkuRgsVVjk3drXpeXXvuQrZai9RNup3ToH8wH1wXmuTnRC")
        #expect(try PeerID(peer.description) == peer)
        #expect(peer.publicKey == key)
    }

    @Test func publicKeyIsRecoveredFromIdentityIDs() throws {
        let peer = try PeerID(Self.specPeerID)
        #expect(peer.publicKey?.encoded().hex == Self.specPublicKey)
    }

    @Test func ordersByBytes() throws {
        let a = try PeerID(bytes: Hex.bytes("0002" + "0800"))
        let b = try PeerID(Self.specPeerID)
        let c = try PeerID(bytes: Hex.bytes(Self.sha256Multihash))
        #expect(a < b && b < c)
        #expect([c, a, b].sorted() == [a, b, c])
    }

    @Test(arguments: [
        ("", "empty"),
        ("hello", "multibase prefix \"h\""),
        ("Qm0000", "base58btc alphabet"),
        ("12D3KooW", "digest is 10 bytes but 4 follow"),
        ("12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3p", "digest"),
        ("bafyreiaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "codec 0x71 is not libp2p-key"),
        ("bafzbgiaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "function 0x13"),
        ("bafz!", "base32"),
        ("b", "too short to be a CID"),
        ("f01720024", "multibase prefix \"f\""),
        (String(repeating: "1", count: 200), "longer than any peer ID"),
    ])
    func rejectsGarbageWithAClearMessage(text: String, fragment: String) {
        do {
            let peer = try PeerID(text)
            Issue.record("\"\(text)\" parsed as \(peer)")
        } catch {
            #expect(error.description.contains(fragment), "\(error.description)")
        }
    }

    @Test(arguments: [
        "", "00", "0024", "00250801", "1220", "12210000", "1220" + String(repeating: "00", count: 31),
        "002b" + String(repeating: "00", count: 43), "8000", "1380" + String(repeating: "00", count: 32),
    ])
    func rejectsInvalidMultihashBytes(hex: String) {
        #expect(throws: PeerIDError.self) { try PeerID(bytes: Hex.bytes(hex)) }
    }

    @Test func roundTripsRandomIdentityAndSHA256IDs() throws {
        var rng = SeededRandom(seed: 1_6)
        for _ in 0..<200 {
            let key = PublicKeyProtobuf(type: .ed25519, data: rng.bytes(Int.random(in: 0...80, using: &rng)))
            let peer = PeerID(publicKey: key, sha256: SHA256.hash)
            #expect(try PeerID(peer.description) == peer)
            #expect(try PeerID(peer.cidString) == peer)
            #expect(try PeerID(bytes: peer.bytes) == peer)
        }
    }
}
