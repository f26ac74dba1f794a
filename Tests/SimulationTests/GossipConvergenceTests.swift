import Testing

/// Issue 4's simulation: 100 nodes in a random sparse topology, 1,000 writes from random
/// nodes to 50 keys (so they conflict), 10 % of message copies lost: every replica ends
/// identical, and the test prints how many heartbeats that took after the last write.
@Suite struct GossipConvergenceTests {
    @Test func hundredNodesConvergeDespiteLoss() {
        let seed: UInt64 = 1
        var configuration = GossipNetworkSimulation.Configuration()
        configuration.seed = seed
        var sim = GossipNetworkSimulation(configuration)
        sim.start()
        let writes = sim.writeSchedule()
        let lastWrite = writes.last!.at
        sim.scheduleWrites(writes)
        // Mesh formation and the writes.
        sim.run(until: lastWrite + 1)
        // Then in steps of 100 ms until every replica agrees (at most 30 s).
        var elapsed: UInt64 = 0
        while !sim.converged, elapsed < 30_000 {
            elapsed += 100
            sim.run(until: lastWrite + elapsed)
        }
        let heartbeats = (elapsed + 999) / 1000
        let repaired = sim.nodes.map(\.router.counters.iwantAnswered).reduce(0, +)
        print("simulation seed \(seed): \(sim.nodes.count) nodes, average degree \(sim.averageDegree), \(configuration.writes) writes, "
              + "\(sim.lost) message copies lost of \(sim.rpcs) RPCs; converged \(elapsed) ms (\(heartbeats) heartbeat(s)) after the last write; "
              + "\(repaired) messages re-sent on IWANT; \(sim.replicasDiffering()) replicas differ")
        // Plain Bools: the simulation itself is far too large to print in a failure message.
        let converged = sim.converged, lost = sim.lost, keys = sim.nodes[0].replica.count
        #expect(converged)
        #expect(lost > 0)
        #expect(keys == configuration.keys)
    }

    @Test func theSameSeedReplaysTheSameRun() {
        func run() -> (Int, Int, Int) {
            var configuration = GossipNetworkSimulation.Configuration()
            configuration.nodes = 20
            configuration.writes = 100
            configuration.seed = 7
            var sim = GossipNetworkSimulation(configuration)
            sim.start()
            sim.scheduleWrites(sim.writeSchedule())
            sim.run(until: 20_000)
            return (sim.rpcs, sim.lost, sim.delivered)
        }
        #expect(run() == run())
    }
}
