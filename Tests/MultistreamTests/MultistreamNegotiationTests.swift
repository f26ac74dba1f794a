import Multistream
import Testing
import TestSupport

@Suite struct MultistreamMessageTests {
    /// libp2p-wire.md section 2 vectors.
    @Test(arguments: [
        ("/multistream/1.0.0", "13 2f6d756c746973747265616d2f312e302e30 0a"),
        ("/noise", "07 2f6e6f697365 0a"),
        ("/yamux/1.0.0", "0d 2f79616d75782f312e302e30 0a"),
        ("/mplex/6.7.0", "0d 2f6d706c65782f362e372e30 0a"),
        ("/ipfs/id/1.0.0", "0f 2f697066732f69642f312e302e30 0a"),
        ("na", "03 6e61 0a"),
        ("ls", "03 6c73 0a"),
    ])
    func encodesSpecVectors(token: String, hex: String) throws {
        let bytes = Hex.bytes(hex)
        #expect(MultistreamMessage.encode(token) == bytes)
        let decoded = try #require(try MultistreamMessage.decode(bytes[...]))
        #expect(decoded.token == token && decoded.byteCount == bytes.count)
        for cut in 0..<bytes.count {
            #expect(try MultistreamMessage.decode(bytes[..<cut]) == nil, "prefix of \(cut) bytes")
        }
    }

    @Test func refusesMalformedMessages() {
        #expect(throws: MultistreamError.malformedMessage("message does not end with a newline")) {
            try MultistreamMessage.decode(Hex.bytes("03 6e61 20")[...])
        }
        #expect(throws: MultistreamError.messageTooLong(2000)) { try MultistreamMessage.decode(Hex.bytes("d00f")[...]) }
        #expect(throws: MultistreamError.self) { try MultistreamMessage.decode(Hex.bytes("00")[...]) }
        #expect(throws: MultistreamError.self) { try MultistreamMessage.decode(Hex.bytes("8000")[...]) }  // not minimal
        #expect(throws: MultistreamError.self) { try MultistreamMessage.decode(Hex.bytes("03 ff fe 0a")[...]) }
    }
}

@Suite struct MultistreamNegotiationTests {
    /// Runs a dialer and a listener against each other through an in-memory pump.
    func pump(_ dialerProposals: [String], _ supported: [String], chunk: Int = .max)
        throws -> (dialer: MultistreamNegotiation.Agreement?, listener: MultistreamNegotiation.Agreement?)
    {
        var dialer = MultistreamNegotiation(role: .dialer(proposals: dialerProposals))
        var listener = MultistreamNegotiation(role: .listener(supported: supported))
        var toListener = dialer.start()
        var toDialer = listener.start()
        var dialerResult: MultistreamNegotiation.Agreement?
        var listenerResult: MultistreamNegotiation.Agreement?
        for _ in 0..<1000 where dialerResult == nil || listenerResult == nil {
            if listenerResult == nil, !toListener.isEmpty {
                let n = min(chunk, toListener.count)
                let out = try listener.receivedBytes(Array(toListener.prefix(n)))
                toListener.removeFirst(n)
                toDialer += out.send
                listenerResult = out.agreement
            }
            if dialerResult == nil, !toDialer.isEmpty {
                let n = min(chunk, toDialer.count)
                let out = try dialer.receivedBytes(Array(toDialer.prefix(n)))
                toDialer.removeFirst(n)
                toListener += out.send
                dialerResult = out.agreement
            }
        }
        return (dialerResult, listenerResult)
    }

    @Test func agreesOnTheFirstSupportedProposal() throws {
        for chunk in [1, 2, 3, 7, Int.max] {
            let (d, l) = try pump(["/tls/1.0.0", "/noise"], ["/noise", "/plaintext/2.0.0"], chunk: chunk)
            #expect(d == MultistreamNegotiation.Agreement(protocolID: "/noise", remainder: []))
            #expect(l == MultistreamNegotiation.Agreement(protocolID: "/noise", remainder: []))
        }
    }

    @Test func dialerBytesAreExactlyTheSpecSequence() throws {
        var dialer = MultistreamNegotiation(role: .dialer(proposals: ["/tls/1.0.0", "/noise"]))
        #expect(dialer.start() == MultistreamMessage.encode("/multistream/1.0.0") + MultistreamMessage.encode("/tls/1.0.0"))
        let answer = try dialer.receivedBytes(Hex.bytes("13 2f6d756c746973747265616d2f312e302e30 0a 03 6e61 0a"))
        #expect(answer == .init(send: Hex.bytes("07 2f6e6f697365 0a")))
        let done = try dialer.receivedBytes(Hex.bytes("07 2f6e6f697365 0a 00 01"))
        #expect(done.agreement == .init(protocolID: "/noise", remainder: [0x00, 0x01]))
    }

    @Test func listenerKeepsBytesALazyDialerPipelined() throws {
        var listener = MultistreamNegotiation(role: .listener(supported: ["/noise"]))
        #expect(listener.start() == MultistreamMessage.encode("/multistream/1.0.0"))
        let noiseMessage1: [UInt8] = [0x00, 0x20] + [UInt8](repeating: 0xab, count: 32)
        let input = MultistreamMessage.encode("/multistream/1.0.0") + MultistreamMessage.encode("/noise") + noiseMessage1
        let out = try listener.receivedBytes(input)
        #expect(out.send == MultistreamMessage.encode("/noise"))
        #expect(out.agreement == .init(protocolID: "/noise", remainder: noiseMessage1))
    }

    @Test func failsWhenNothingMatches() {
        #expect(throws: MultistreamError.noCommonProtocol(proposed: ["/a", "/b"])) { try pump(["/a", "/b"], ["/c"]) }
    }

    @Test func answersLsWithTheSpecLayout() throws {
        var listener = MultistreamNegotiation(role: .listener(supported: ["/a", "/bc"]))
        _ = listener.start()
        let out = try listener.receivedBytes(MultistreamMessage.encode("/multistream/1.0.0") + MultistreamMessage.encode("ls"))
        #expect(out.send == Hex.bytes("0a 03 2f61 0a 04 2f6263 0a 0a"))
        #expect(out.agreement == nil)
    }

    @Test func refusesAPeerThatDoesNotSpeakMultistream() {
        var listener = MultistreamNegotiation(role: .listener(supported: ["/noise"]))
        _ = listener.start()
        #expect(throws: MultistreamError.badHeader("/noise")) { try listener.receivedBytes(MultistreamMessage.encode("/noise")) }
        var dialer = MultistreamNegotiation(role: .dialer(proposals: ["/noise"]))
        _ = dialer.start()
        // "G" reads as a 71-byte length; the request line is longer and does not end in a newline there.
        let http = Array("GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.0\r\nAccept: */*\r\nConnection: close\r\n\r\n".utf8)
        #expect(throws: MultistreamError.self) { try dialer.receivedBytes(http) }
    }

    @Test func unexpectedAnswerIsAnError() throws {
        var dialer = MultistreamNegotiation(role: .dialer(proposals: ["/noise"]))
        _ = dialer.start()
        _ = try dialer.receivedBytes(MultistreamMessage.encode("/multistream/1.0.0"))
        #expect(throws: MultistreamError.unexpectedResponse(proposed: "/noise", got: "/yamux/1.0.0")) {
            try dialer.receivedBytes(MultistreamMessage.encode("/yamux/1.0.0"))
        }
    }

    @Test func randomInputNeverTraps() {
        var rng = SeededRandom(seed: 11)
        for _ in 0..<2000 {
            var listener = MultistreamNegotiation(role: .listener(supported: ["/noise"]))
            _ = listener.start()
            var input = MultistreamMessage.encode("/multistream/1.0.0")
            input += rng.bytes(Int.random(in: 0..<64, using: &rng))
            _ = try? listener.receivedBytes(input)
        }
    }
}
