import Ping
import Testing
import TestSupport

@Suite struct PingTests {
    @Test func theResponderEchoesWhole32ByteChunksWhateverTheSplit() {
        var rng = SeededRandom(seed: 1)
        let input = rng.bytes(96 + 7)
        for cut in 0...input.count {
            var responder = PingResponder()
            let out = responder.receivedBytes(Array(input[..<cut])) + responder.receivedBytes(Array(input[cut...]))
            #expect(out == Array(input[..<96]))
        }
    }

    @Test func theInitiatorMeasuresTheRoundTrip() throws {
        let payload = [UInt8](repeating: 0x5a, count: 32)
        var ping = PingInitiator(payload: payload, now: 1_000)
        #expect(ping.request() == payload)
        #expect(try ping.receivedBytes(Array(payload[..<10]), now: 2_000) == nil)
        #expect(try ping.receivedBytes(Array(payload[10...]), now: 5_000) == PingResult(rttNanoseconds: 4_000))
        #expect(!ping.timedOut(now: 5_000))
        #expect(ping.timedOut(now: 1_000 + 10_000_000_001))
    }

    @Test func aWrongEchoIsAnError() {
        var ping = PingInitiator(payload: [UInt8](repeating: 1, count: 32), now: 0)
        #expect(throws: PingError.mismatch) { try ping.receivedBytes([UInt8](repeating: 2, count: 32), now: 1) }
    }
}

import Perf

@Suite struct PerfProtocolTests {
    @Test func theServerCountsTheUploadAndReadsTheHeaderWhateverTheSplit() throws {
        let wire = PerfProtocol.header(downloadBytes: 0x0102_0304) + [UInt8](repeating: 7, count: 100)
        #expect(Array(wire.prefix(8)) == [0, 0, 0, 0, 1, 2, 3, 4])
        for cut in 0...wire.count {
            var server = PerfServer()
            server.receivedBytes(Array(wire[..<cut]))
            server.receivedBytes(Array(wire[cut...]))
            #expect(server.uploadedBytes == 100)
            #expect(try server.receivedEndOfStream() == 0x0102_0304)
        }
        var short = PerfServer()
        short.receivedBytes([0, 0, 1])
        #expect(throws: PerfError.truncatedHeader) { try short.receivedEndOfStream() }
        var greedy = PerfServer()
        greedy.receivedBytes(PerfProtocol.header(downloadBytes: UInt64.max))
        #expect(throws: PerfError.downloadTooLarge(UInt64.max)) { try greedy.receivedEndOfStream() }
    }
}
