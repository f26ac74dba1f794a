import Swarm
import Testing

@Suite struct PerfHandlerTests {
    @Test(arguments: [(0, 0), (1, 0), (3 << 20, 1 << 20), (100_000, 5 << 20)])
    func uploadAndDownloadArriveWhole(upload: Int, download: Int) throws {
        var pair = ConnectionPair()
        pair.connect()
        _ = pair.open(.dialer, PerfHandler.key, request: PerfHandler.Request(token: 3, upload: upload, download: download))
        pair.run()
        let events = pair.payloads(.dialer, PerfHandler.Event.self)
        #expect(events.count == 1)
        let measurement = try #require(try events.first?.outcome.get())
        #expect(measurement.uploadBytes == upload)
        #expect(measurement.downloadBytes == download)
        // Everything was moved, both sides closed the stream, nothing is left over.
        #expect(pair.machines[0].streamCount == pair.machines[1].streamCount)
        #expect(pair.inFlight == [[], []])
    }

    @Test func aServerThatWantsTooMuchIsReset() throws {
        var pair = ConnectionPair()
        pair.connect()
        let tooMuch = Int(1 << 30) + 1
        _ = pair.open(.dialer, PerfHandler.key, request: PerfHandler.Request(token: 4, upload: 10, download: tooMuch))
        pair.run()
        let events = pair.payloads(.dialer, PerfHandler.Event.self)
        #expect(events.count == 1)
        #expect(events.first.map { if case .failure = $0.outcome { true } else { false } } == true)
        #expect(pair.closed == [nil, nil])
    }
}
