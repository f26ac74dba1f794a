import MDNS
import Testing
import TestSupport

/// The DNS codec against libp2p-wire.md section 9's vectors and against hostile packets.
@Suite struct DNSMessageTests {
    @Test func theQueryMatchesTheSpecVector() throws {
        let query = DNSMessage(questions: [DNSQuestion(name: DNSName("_p2p._udp.local"), type: DNSType.ptr)])
        #expect(try query.encoded() == Hex.bytes("0000 0000 0001 0000 0000 0000 045f703270 045f756470 056c6f63616c 00 000c 0001"))
        #expect(try DNSMessage(decoding: query.encoded()) == query)
    }

    @Test func theResponseMatchesTheSpecVector() throws {
        let name = "abcdefghijklmnopqrstuvwxyz012345"
        let instance = DNSName("\(name)._p2p._udp.local")
        let txt = "dnsaddr=/ip4/192.168.1.10/tcp/4001/p2p/12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq"
        let response = DNSMessage(flags: 0x8400, answers: [DNSRecord(name: DNSName("_p2p._udp.local"), data: .ptr(instance), ttl: 120)],
                                  additionals: [DNSRecord(name: instance, data: .txt([Array(txt.utf8)]), ttl: 120, cacheFlush: true)])
        let bytes = try response.encoded()
        let service = Hex.bytes("045f703270 045f756470 056c6f63616c 00")
        let expectedStart = Hex.bytes("0000 8400 0000 0001 0000 0001") + service + Hex.bytes("000c 0001 00000078 0032 20") + Array(name.utf8) + service
        #expect(Array(bytes.prefix(expectedStart.count)) == expectedStart)
        #expect(bytes.count == 241)
        let tail = Hex.bytes("0010 8001 00000078 005c 5b") + Array(txt.utf8)
        #expect(Array(bytes.suffix(tail.count)) == tail)
        #expect(try DNSMessage(decoding: bytes) == response)
    }

    @Test func followsCompressionPointersAndMasksTheTopClassBits() throws {
        // Answer name at offset 12; the PTR target points back into it (go and zeroconf compress).
        var packet = Hex.bytes("0000 8400 0000 0001 0000 0000")
        packet += Hex.bytes("045f703270 045f756470 056c6f63616c 00")            // offset 12: _p2p._udp.local
        packet += Hex.bytes("000c 8001 00000078 0006") + [3] + Array("abc".utf8) + [0xc0, 12]
        let message = try DNSMessage(decoding: packet)
        #expect(message.answers.first?.data == .ptr(DNSName("abc._p2p._udp.local")))
        #expect(message.answers.first?.cacheFlush == true)
        #expect(message.answers.first?.rrClass == 1)
        let qu = try DNSMessage(decoding: Hex.bytes("0000 0000 0001 0000 0000 0000 00 000c 8001"))
        #expect(qu.questions.first?.unicastResponse == true && qu.questions.first?.rrClass == 1)
    }

    @Test(arguments: [
        // A pointer to itself, a forward pointer, a pointer loop through two names.
        "0000 0000 0001 0000 0000 0000 c00c 000c 0001",
        "0000 0000 0001 0000 0000 0000 c00e 000c 0001 00",
        "0000 0000 0001 0000 0000 0000 01 61 c00c 000c 0001",
        // Truncated: header, name, question, record data, TXT string past its record.
        "0000 00", "0000 0000 0001 0000 0000 0000 05 6162", "0000 0000 0001 0000 0000 0000 00 000c",
        "0000 8400 0000 0001 0000 0000 00 0001 0001 00000078 0004 0a00",
        "0000 8400 0000 0001 0000 0000 00 0010 0001 00000078 0002 05 61",
        // A record that is not 4 bytes; a label type that does not exist.
        "0000 8400 0000 0001 0000 0000 00 0001 0001 00000078 0003 0a0000",
        "0000 0000 0001 0000 0000 0000 41 00 000c 0001",
    ])
    func refusesMalformedPackets(_ hex: String) {
        #expect(throws: DNSError.self) { try DNSMessage(decoding: Hex.bytes(hex)) }
    }

    @Test func refusesOversizeNamesAndThousandsOfRecords() {
        // 5 labels of 63 bytes: over 255.
        var long = Hex.bytes("0000 0000 0001 0000 0000 0000")
        for _ in 0..<5 { long += [63] + [UInt8](repeating: 0x61, count: 63) }
        long += Hex.bytes("00 000c 0001")
        #expect(throws: DNSError.badName("longer than 255 bytes")) { try DNSMessage(decoding: long) }
        // Thousands of (tiny) records announced in the header.
        var many = Hex.bytes("0000 8400 0000 0fa0 0000 0000")
        for _ in 0..<4000 { many += Hex.bytes("00 0001 0001 00000001 0004 0a000001") }
        #expect(throws: DNSError.self) { try DNSMessage(decoding: many) }
        // A chain of pointers, each one step back, longer than the jump limit.
        // (each record's name points at the previous record's name, which is itself a pointer).
        var chain = Hex.bytes("0000 8400 0001 0028 0000 0000") + [1, 0x61, 0] + Hex.bytes("0001 0001")
        for k in 0..<40 {
            let target = k == 0 ? 12 : 19 + 12 * (k - 1)
            chain += [0xc0 | UInt8(target >> 8), UInt8(target & 0xff)] + Hex.bytes("0063 0001 00000001 0000")
        }
        #expect(throws: DNSError.badName("too many compression pointers")) { try DNSMessage(decoding: chain) }
    }

    @Test func theEncoderRefusesWhatDNSCannotCarry() throws {
        let longString = [UInt8](repeating: 0x61, count: 256)
        #expect(throws: DNSError.self) { try DNSMessage(answers: [DNSRecord(name: DNSName("a.local"), data: .txt([longString]), ttl: 1)]).encoded() }
        #expect(throws: DNSError.self) { try DNSMessage(questions: [DNSQuestion(name: DNSName([String(repeating: "x", count: 64)]), type: 1)]).encoded() }
        // An empty TXT record is one empty string.
        #expect(try DNSMessage(answers: [DNSRecord(name: DNSName("a"), data: .txt([]), ttl: 1)]).encoded().suffix(3) == [0, 1, 0])
    }

    @Test func namesCompareWithoutCase() {
        #expect(DNSName("ABC._P2P._udp.LOCAL.") == DNSName("abc._p2p._udp.local"))
        #expect(DNSName("x.abc._p2p._udp.local").hasSuffix(DNSName("_P2P._udp.local")))
    }
}
