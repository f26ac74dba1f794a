import Testing
import Yamux

/// A reader that keeps up gets its window doubled at each update, up to `maxReceiveWindow`, so
/// a bulk stream is not stalled by a 256 KiB window on every round trip.
@Suite struct YamuxWindowGrowthTests {
    /// Moves `total` bytes client to server, one flight per round trip; returns bytes per round.
    func flights(total: Int, configuration: YamuxConfiguration) throws -> [Int] {
        var client = YamuxSession(role: .client, configuration: configuration)
        var server = YamuxSession(role: .server, configuration: configuration)
        let id = try client.openStream()
        var written = 0
        var rounds: [Int] = []
        var delivered = 0
        while delivered < total {
            // The writer queues all it may (the window plus 1 MiB), as a bulk sender does.
            while written < total {
                let n = min(64 * 1024, total - written)
                do { try client.write([UInt8](repeating: 1, count: n), on: id) } catch { break }
                written += n
            }
            var round = 0
            for case .data(let stream, let bytes) in try server.receivedBytes(client.takeOutput()) {
                server.consumed(bytes.count, on: stream)
                round += bytes.count
            }
            _ = try client.receivedBytes(server.takeOutput())
            delivered += round
            rounds.append(round)
            if rounds.count > 1000 { Issue.record("stalled at \(delivered) of \(total)"); break }
        }
        return rounds
    }

    @Test func theWindowDoublesUpToTheMaximum() throws {
        let grown = try flights(total: 64 << 20, configuration: YamuxConfiguration())
        var fixed = YamuxConfiguration()
        fixed.maxReceiveWindow = fixed.initialWindow
        let flat = try flights(total: 64 << 20, configuration: fixed)
        #expect(grown.reduce(0, +) == 64 << 20)
        #expect(flat.reduce(0, +) == 64 << 20)
        // The first flight is the spec's 256 KiB either way; then growth sends far more per trip.
        #expect(grown.first == 256 * 1024 && flat.first == 256 * 1024)
        #expect(flat.dropFirst().allSatisfy { $0 <= 256 * 1024 })
        #expect(grown.max()! > 8 << 20 && grown.max()! <= 16 << 20 + 8 << 20)
        #expect(grown.count * 5 < flat.count, "rounds: \(grown.count) grown, \(flat.count) fixed")
    }
}
