import Testing
import TestSupport
@testable import Wire

/// Multiaddr text and binary forms, libp2p-wire.md §1.4.
struct MultiaddrTests {
    static let vectors: [(String, String)] = [
        ("/ip4/192.0.2.42/tcp/443", "04c000022a0601bb"),
        ("/ip4/127.0.0.1/tcp/4001", "047f000001060fa1"),
        ("/ip6/::1/udp/4001/quic-v1", "2900000000000000000000000000000001" + "91020fa1" + "cd03"),
        ("/dns4/example.com/tcp/443", "360b6578616d706c652e636f6d0601bb"),
        ("/dnsaddr/bootstrap.libp2p.io", "3813626f6f7473747261702e6c69627032702e696f"),
        ("/p2p/QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N",
         "a503221220" + "9dff3b17d74cf4d38a50d8b6383e92d181a10395a5e73a726dcccbd21bf6f0b9"),
        ("/ip4/1.2.3.4/udp/4242/quic-v1/p2p/12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq",
         "0401020304" + "91021092" + "cd03" + "a50326"
         + "0024080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e"),
        ("/ip4/192.0.2.0/tcp/5002/p2p/QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N/p2p-circuit/p2p/12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq",
         "04c0000200" + "06138a" + "a503221220" + "9dff3b17d74cf4d38a50d8b6383e92d181a10395a5e73a726dcccbd21bf6f0b9"
         + "a202" + "a50326" + "0024080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e"),
        ("/dns/example.com/tcp/443/tls/ws", "350b6578616d706c652e636f6d0601bb" + "c003" + "dd03"),
        ("/dns6/h/tcp/1/wss/noise/quic", "370168060001" + "de03" + "c603" + "cc03"),
    ]

    @Test(arguments: vectors)
    func textToBinaryAndBack(text: String, hex: String) throws {
        let addr = try Multiaddr(text)
        #expect(addr.bytes.hex == hex)
        #expect(addr.description == text)
        let decoded = try Multiaddr(bytes: Hex.bytes(hex))
        #expect(decoded == addr)
        #expect(decoded.description == text)
    }

    @Test func p2pTakesTheIpfsAliasAndCIDsButPrintsBase58() throws {
        let canonical = "/ip4/1.2.3.4/tcp/1/p2p/12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq"
        let cid = "/ip4/1.2.3.4/tcp/1/p2p/bafzaajaiaejcahwr5d5ofrfbis4l5d6uwr57hu5tjodrypfm6yaq6dsc2r2pzyt6"
        let alias = "/ip4/1.2.3.4/tcp/1/ipfs/12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq"
        for text in [cid, alias] {
            let addr = try Multiaddr(text)
            #expect(addr.description == canonical)
            #expect(addr.bytes == (try Multiaddr(canonical)).bytes)
        }
        // The binary value is the multihash, never the CID bytes (§1.4, py multiaddr's bug).
        #expect(try Multiaddr(cid).bytes.hex.contains("a503260024"))
    }

    @Test func peerIDIsTheTrailingP2PComponent() throws {
        let addr = try Multiaddr("/ip4/1.2.3.4/tcp/1/p2p/12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq")
        #expect(addr.peerID?.description == "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq")
        #expect(addr.withoutPeerID.description == "/ip4/1.2.3.4/tcp/1")
        #expect(try Multiaddr("/ip4/1.2.3.4/tcp/1").peerID == nil)
        let relayed = try Multiaddr("/p2p/12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq/p2p-circuit")
        #expect(relayed.peerID == nil)
    }

    @Test func appendingAddsAComponent() throws {
        let peer = try PeerID("12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq")
        let addr = try Multiaddr("/ip4/10.0.0.1/tcp/4001").appending(.p2p(peer))
        #expect(addr.description == "/ip4/10.0.0.1/tcp/4001/p2p/\(peer)")
        #expect(addr.peerID == peer)
    }

    @Test(arguments: [
        ("/ip6/::", "::"), ("/ip6/0:0:0:0:0:0:0:1", "::1"), ("/ip6/2001:DB8::1", "2001:db8::1"),
        ("/ip6/2001:0db8:0000:0000:0000:0000:0002:0001", "2001:db8::2:1"),
        ("/ip6/2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),       // a single zero group stays
        ("/ip6/2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),                 // the longest run wins
        ("/ip6/2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),           // the first of equal runs wins
        ("/ip6/1::", "1::"), ("/ip6/1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"), ("/ip6/::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"),
        ("/ip6/fe80::1:2", "fe80::1:2"),
        ("/ip6/::ffff:1.2.3.4", "::ffff:1.2.3.4"), ("/ip6/::FFFF:0102:0304", "::ffff:1.2.3.4"),
        ("/ip6/64:ff9b::192.0.2.33", "64:ff9b::c000:221"), ("/ip6/1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"),
    ])
    func ip6TextIsNormalisedPerRFC5952(input: String, canonical: String) throws {
        let addr = try Multiaddr(input)
        #expect(addr.description == "/ip6/" + canonical)
        #expect(try Multiaddr(addr.description) == addr)
    }

    @Test(arguments: [
        "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "1::2::3", ":::", ":1::", "1:::2", "::1:", "1:2:3:4:5:6:7:8::",
        "12345::", "g::", "::1.2.3", "1.2.3.4::", "::1.2.3.4:5", "::256.0.0.1", "fe80::1%eth0", "",
        "1:2:3:4:5:6:7:1.2.3.4",
    ])
    func invalidIPv6IsRejected(text: String) {
        #expect(throws: MultiaddrError.invalidText("/ip6/\(text)",
            .invalidValue(protocol: "ip6", value: text, expected: "an IPv6 address"))) { try Multiaddr("/ip6/\(text)") }
    }

    @Test(arguments: ["300.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1..2.3", "a.b.c.d", "1.2.3.-4", ""])
    func invalidIPv4IsRejected(text: String) {
        #expect(throws: MultiaddrError.invalidText("/ip4/\(text)/tcp/1",
            .invalidValue(protocol: "ip4", value: text, expected: "an IPv4 address"))) { try Multiaddr("/ip4/\(text)/tcp/1") }
    }

    @Test func errorMessagesSayWhatWasWrong() {
        func message(_ text: String) -> String {
            do { _ = try Multiaddr(text); return "parsed" } catch { return error.description }
        }
        #expect(message("/ip4/300.1.1.1/tcp/1") == "invalid multiaddr \"/ip4/300.1.1.1/tcp/1\": \"300.1.1.1\" is not an IPv4 address")
        #expect(message("/ip4/1.2.3.4/tcp/70000") == "invalid multiaddr \"/ip4/1.2.3.4/tcp/70000\": \"70000\" is not a port number (0-65535)")
        #expect(message("/ip4/1.2.3.4/tcp") == "invalid multiaddr \"/ip4/1.2.3.4/tcp\": /tcp must be followed by a value")
        #expect(message("/ip4/1.2.3.4/sctp/5") == "invalid multiaddr \"/ip4/1.2.3.4/sctp/5\": \"sctp\" is not a multiaddr protocol this node knows")
        #expect(message("ip4/1.2.3.4").hasSuffix("it must start with \"/\""))
        #expect(message("/p2p/QmNotAPeer").contains("is not a peer ID"))
    }

    @Test(arguments: [
        ("", MultiaddrProblem.empty),
        ("/", .emptySegment),
        ("ip4/1.2.3.4", .missingLeadingSlash),
        ("/ip4/1.2.3.4/", .emptySegment),
        ("/ip4/1.2.3.4//tcp/1", .emptySegment),
        ("/ip4/1.2.3.4/tcp/70000", .invalidValue(protocol: "tcp", value: "70000", expected: "a port number (0-65535)")),
        ("/ip4/1.2.3.4/tcp/+1", .invalidValue(protocol: "tcp", value: "+1", expected: "a port number (0-65535)")),
        ("/ip4/1.2.3.4/udp/", .invalidValue(protocol: "udp", value: "", expected: "a port number (0-65535)")),
        ("/ip4/1.2.3.4/tcp", .missingValue(protocol: "tcp")),
        ("/ip4", .missingValue(protocol: "ip4")),
        ("/dns4//tcp/1", .invalidValue(protocol: "dns4", value: "", expected: "a valid /dns4 value (it is empty)")),
        ("/ip4/1.2.3.4/sctp/5", .unknownProtocolName("sctp")),
        ("/ip4/1.2.3.4/tcp/1/garbage", .unknownProtocolName("garbage")),
        ("/quic-v1/extra", .unknownProtocolName("extra")),
    ])
    func badTextIsRejected(text: String, problem: MultiaddrProblem) {
        #expect(throws: MultiaddrError.invalidText(text, problem)) { try Multiaddr(text) }
    }

    @Test(arguments: [
        ("", MultiaddrProblem.empty),
        ("04010203", .truncatedValue(protocol: "ip4", needed: 4, available: 3)),
        ("047f00000106", .truncatedValue(protocol: "tcp", needed: 2, available: 0)),
        ("9102", .truncatedValue(protocol: "udp", needed: 2, available: 0)),
        ("91", .truncatedVarint),
        ("360b6578", .truncatedValue(protocol: "dns4", needed: 11, available: 2)),
        ("36", .truncatedVarint),
        ("8000", .invalidVarint(.notMinimal)),
        ("36ffffffffffffffffff", .invalidVarint(.overflow)),
        ("ff01", .unknownProtocolCode(255)),
        ("047f0000010601bb00", .unknownProtocolCode(0)),        // trailing garbage
        ("3600", .invalidValue(protocol: "dns4", value: "(empty)", expected: "a valid /dns4 value (non-empty UTF-8 without \"/\")")),
        ("36012f", .invalidValue(protocol: "dns4", value: "2f", expected: "a valid /dns4 value (non-empty UTF-8 without \"/\")")),
        ("3601ff", .invalidValue(protocol: "dns4", value: "ff", expected: "a valid /dns4 value (non-empty UTF-8 without \"/\")")),
    ])
    func badBinaryIsRejected(hex: String, problem: MultiaddrProblem) {
        #expect(throws: MultiaddrError.invalidBinary(hex: PeerID.hexPreview(Hex.bytes(hex)), problem)) {
            try Multiaddr(bytes: Hex.bytes(hex))
        }
    }

    @Test func badP2PBinaryValueNamesThePeerIDProblem() {
        #expect {
            try Multiaddr(bytes: Hex.bytes("a503021300"))
        } throws: { error in
            (error as? MultiaddrError)?.description.contains("multihash function 0x13") == true
        }
    }

    @Test(arguments: vectors)
    func everyTruncationOfTheBinaryFormThrowsOrIsAPrefix(text: String, hex: String) {
        let bytes = Hex.bytes(hex)
        for cut in 0..<bytes.count {
            // A cut may land on a component boundary and decode to fewer components; anything
            // else must throw. Either way it must not trap.
            if let addr = try? Multiaddr(bytes: Array(bytes[..<cut])) {
                #expect(bytes.starts(with: addr.bytes) && addr.bytes.count == cut)
            }
        }
    }

    @Test func randomBytesNeverTrap() {
        var rng = SeededRandom(seed: 4)
        let prefixes = [[0x04], [0x06], [0x29], [0x36], [0xa5, 0x03], [0x91, 0x02], [0xcd, 0x03]] as [[UInt8]]
        for _ in 0..<3000 {
            let bytes = prefixes.randomElement(using: &rng)! + rng.bytes(Int.random(in: 0...40, using: &rng))
            if let addr = try? Multiaddr(bytes: bytes) { #expect(addr.bytes == bytes) }
        }
    }

    @Test func roundTripsRandomAddresses() throws {
        var rng = SeededRandom(seed: 0x4dd7)
        let peers = [try PeerID("12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq"),
                     try PeerID("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N")]
        func randomComponent() -> MultiaddrComponent {
            switch Int.random(in: 0..<12, using: &rng) {
            case 0: return .ip4(rng.bytes(4))
            case 1:
                // Bias towards zero groups so `::` compression gets exercised.
                return .ip6((0..<8).flatMap { _ in Bool.random(using: &rng) ? [0, 0] : rng.bytes(2) })
            case 2: return .tcp(UInt16.random(in: 0...65535, using: &rng))
            case 3: return .udp(UInt16.random(in: 0...65535, using: &rng))
            case 4: return .dns("host\(rng.next() % 1000).example")
            case 5: return .dnsaddr("bootstrap.libp2p.io")
            case 6: return .p2p(peers.randomElement(using: &rng)!)
            case 7: return .p2pCircuit
            case 8: return .quicV1
            case 9: return .ip6zone("eth\(rng.next() % 10)")
            case 10: return .webtransport
            default: return .noise
            }
        }
        for _ in 0..<1000 {
            let addr = Multiaddr(components: (0..<Int.random(in: 1...6, using: &rng)).map { _ in randomComponent() })
            #expect(try Multiaddr(addr.description) == addr, "\(addr)")
            #expect(try Multiaddr(bytes: addr.bytes) == addr, "\(addr)")
        }
    }
}
