import Testing
import TestSupport
@testable import Wire

/// base58btc, base32 and base36 (libp2p-wire.md §1.3).
struct BaseEncodingTests {
    static let peerIDs = [
        "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq",
        "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N",
        "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA",
    ]

    @Test(arguments: peerIDs)
    func base58RoundTripsSpecPeerIDs(text: String) throws {
        #expect(Base58.encode(try Base58.decode(text)) == text)
    }

    @Test func base58KnownValues() throws {
        #expect(Base58.encode(Array("Hello World!".utf8)) == "2NEpo7TZRRrLZSi2U")
        #expect(try Base58.decode("2NEpo7TZRRrLZSi2U") == Array("Hello World!".utf8))
        #expect(try Base58.decode("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N").hex
                == "12209dff3b17d74cf4d38a50d8b6383e92d181a10395a5e73a726dcccbd21bf6f0b9")
    }

    @Test func base58LeadingZerosAreOnes() throws {
        #expect(Base58.encode([]) == "")
        #expect(Base58.encode([0]) == "1")
        #expect(Base58.encode([0, 0, 0, 1]) == "1112")
        #expect(try Base58.decode("1112") == [0, 0, 0, 1])
        #expect(try Base58.decode("") == [])
        #expect(try Base58.decode("111") == [0, 0, 0])
    }

    @Test(arguments: [("0abc", "0", 0), ("abcO", "O", 3), ("zzIz", "I", 2), ("12l", "l", 2), ("ab é", " ", 2), ("abé", "é", 2)])
    func base58RejectsCharactersOutsideTheAlphabet(text: String, bad: Character, offset: Int) {
        #expect(throws: Base58Error.invalidCharacter(bad, offset: offset)) { try Base58.decode(text) }
    }

    @Test func base58RoundTripsRandomBytes() throws {
        var rng = SeededRandom(seed: 58)
        for _ in 0..<500 {
            var bytes = rng.bytes(Int.random(in: 0...40, using: &rng))
            if Bool.random(using: &rng) { bytes.insert(contentsOf: [0, 0], at: 0) }
            #expect(try Base58.decode(Base58.encode(bytes)) == bytes)
        }
    }

    @Test func base32Rfc4648Vectors() throws {
        // RFC 4648 §10, lowercased and unpadded.
        let vectors = [("", ""), ("f", "my"), ("fo", "mzxq"), ("foo", "mzxw6"), ("foob", "mzxw6yq"),
                       ("fooba", "mzxw6ytb"), ("foobar", "mzxw6ytboi")]
        for (plain, encoded) in vectors {
            #expect(Base32.encode(Array(plain.utf8)) == encoded)
            #expect(try Base32.decode(encoded) == Array(plain.utf8))
            #expect(try Base32.decode(encoded.uppercased()) == Array(plain.utf8))
        }
    }

    @Test func base32RejectsBadInput() {
        #expect(throws: Base32Error.invalidCharacter("1", offset: 2)) { try Base32.decode("mz1q") }
        #expect(throws: Base32Error.invalidCharacter("=", offset: 2)) { try Base32.decode("my======") }
        #expect(throws: Base32Error.invalidLength(1)) { try Base32.decode("m") }
        #expect(throws: Base32Error.invalidLength(3)) { try Base32.decode("mzx") }
        #expect(throws: Base32Error.nonZeroPadding) { try Base32.decode("mz") }
    }

    @Test func base32RoundTripsRandomBytes() throws {
        var rng = SeededRandom(seed: 32)
        for n in 0..<64 {
            let bytes = rng.bytes(n)
            #expect(try Base32.decode(Base32.encode(bytes)) == bytes)
        }
    }

    @Test func base36RoundTrips() throws {
        var rng = SeededRandom(seed: 36)
        for n in 0..<40 {
            let bytes = [0] + rng.bytes(n)
            #expect(try Base36.decode(Base36.encode(bytes)) == bytes)
        }
    }
}
