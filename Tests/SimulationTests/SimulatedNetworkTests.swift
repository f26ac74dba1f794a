import NetworkSimulation
import Testing

/// The simulated network itself: latency, ordering, loss, partitions, nodes going down.
@Suite struct SimulatedNetworkTests {
    enum Tick: Equatable { case tick }
    typealias Net = SimulatedNetwork<Int, Tick>

    /// Every event up to `until`, as (time, description).
    static func drain(_ net: inout Net, until: UInt64) -> [(UInt64, String)] {
        var seen: [(UInt64, String)] = []
        while let event = net.next(until: until) {
            switch event {
            case .delivery(let from, let to, let n): seen.append((net.now, "\(from)->\(to):\(n)"))
            case .timer(let node, _): seen.append((net.now, "timer@\(node)"))
            case .scheduled: seen.append((net.now, "scheduled"))
            }
        }
        return seen
    }

    @Test func deliversAfterTheLinkLatencyInSendingOrder() {
        var net = Net(nodeCount: 3, seed: 1)
        net.link(0, 1, LinkProfile(latencyMillis: 20))
        net.link(1, 2, LinkProfile(latencyMillis: 80))
        #expect(net.send(1, from: 0, to: 1) == .inFlight(arrivesAt: 20))
        #expect(net.send(2, from: 0, to: 1) == .inFlight(arrivesAt: 20))
        #expect(net.send(3, from: 2, to: 1) == .inFlight(arrivesAt: 80))
        #expect(net.send(4, from: 0, to: 2) == .unreachable)
        let events = Self.drain(&net, until: 100)
        #expect(events.map(\.0) == [20, 20, 80])
        #expect(events.map(\.1) == ["0->1:1", "0->1:2", "2->1:3"])
        #expect(net.now == 100)
    }

    @Test func orderedLinksNeverReorderButJitteryOnesDo() {
        func arrivals(ordered: Bool) -> [Int] {
            var net = Net(nodeCount: 2, seed: 7)
            net.link(0, 1, LinkProfile(latencyMillis: 10, jitterMillis: 50, ordered: ordered))
            for n in 0..<200 { net.send(n, from: 0, to: 1) }
            return Self.drain(&net, until: 1000).map { Int($0.1.split(separator: ":")[1])! }
        }
        #expect(arrivals(ordered: true) == Array(0..<200))
        let unordered = arrivals(ordered: false)
        #expect(unordered.sorted() == Array(0..<200) && unordered != Array(0..<200))
    }

    @Test func lossIsDrawnPerMessage() {
        var net = Net(nodeCount: 2, seed: 3)
        net.link(0, 1, LinkProfile(latencyMillis: 1, loss: 0.1))
        for n in 0..<10_000 { net.send(n, from: 0, to: 1) }
        #expect((800...1200).contains(net.counters.lost), "\(net.counters.lost) of 10000 lost at 10 %")
        #expect(Self.drain(&net, until: 10).count == 10_000 - net.counters.lost)
    }

    @Test func aPartitionLosesWhatIsInFlightEvenIfHealedBeforeArrival() {
        var net = Net(nodeCount: 4, seed: 1)
        for (a, b) in [(0, 1), (1, 2), (2, 3)] { net.link(a, b, LinkProfile(latencyMillis: 50)) }
        net.send(1, from: 1, to: 2)
        net.send(2, from: 0, to: 1)
        let cut = net.partition([[0, 1], [2, 3]])
        #expect(cut.map { [$0.0, $0.1] } == [[1, 2]])
        #expect(!net.isConnected(1, 2) && net.isConnected(0, 1))
        #expect(net.send(3, from: 2, to: 1) == .unreachable)
        #expect(net.heal().map { [$0.0, $0.1] } == [[1, 2]])
        net.send(4, from: 2, to: 1)
        #expect(Self.drain(&net, until: 200).map(\.1) == ["0->1:2", "2->1:4"])
        #expect(net.counters.droppedInFlight == 1 && net.counters.unreachable == 1)
    }

    @Test func aNodeThatWentDownLosesItsTrafficAndItsTimers() {
        var net = Net(nodeCount: 2, seed: 1)
        net.link(0, 1, LinkProfile(latencyMillis: 30))
        net.schedule(.tick, for: 1, at: 100)
        net.schedule(.tick, at: 100)
        net.send(1, from: 0, to: 1)
        let first = net.takeDown(1), second = net.takeDown(1)
        #expect(first && !second)
        #expect(net.send(2, from: 0, to: 1) == .unreachable)
        let up = net.bringUp(1)
        #expect(up)
        net.schedule(.tick, for: 1, at: 150)
        // The old incarnation's timer and the in-flight message are gone; the script's timer fires.
        #expect(Self.drain(&net, until: 200).map(\.1) == ["scheduled", "timer@1"])
        #expect(net.counters.timersDropped == 1 && net.counters.droppedInFlight == 1)
    }

    @Test func theSameSeedGivesTheSameRun() {
        func run() -> [(UInt64, String)] {
            var net = Net(nodeCount: 2, seed: 42)
            net.link(0, 1, LinkProfile(latencyMillis: 5, jitterMillis: 100, loss: 0.2))
            for n in 0..<100 { net.send(n, from: n % 2, to: 1 - n % 2) }
            return Self.drain(&net, until: 1000)
        }
        #expect(run().map(\.1) == run().map(\.1) && run().map(\.0) == run().map(\.0))
    }
}
