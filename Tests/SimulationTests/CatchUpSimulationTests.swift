import Testing
import TestSupport

/// Issue 6's simulation: 50 nodes under random partitions, message loss and restarts for
/// several simulated minutes, then healed: every replica ends identical, for 20 seeds.
@Suite struct CatchUpSimulationTests {
    @Test(arguments: Array(UInt64(1)...20))
    func fiftyNodesConvergeAfterPartitionsLossAndRestarts(seed: UInt64) {
        var configuration = GossipNetworkSimulation.Configuration()
        configuration.nodes = 50
        configuration.extraLinksPerNode = 2
        configuration.writes = 150
        configuration.keys = 40
        configuration.writeWindowMillis = 240_000
        configuration.messageLoss = 0.05
        configuration.reconcileIntervalMillis = 30_000
        configuration.seed = seed
        var sim = GossipNetworkSimulation(configuration)
        sim.start()
        sim.scheduleWrites(sim.writeSchedule())
        // The schedule of trouble has its own random source, apart from the network's.
        var random = SeededRandom(seed: seed &* 7919)
        // Four minutes of trouble: every 20 s a partition may start or end, a node may crash.
        var t: UInt64 = 3000
        var partitions = 0, crashes = 0
        while t < 243_000 {
            sim.run(until: t)
            switch random.next() % 4 {
            case 0:
                var a = Set<Int>(), b = Set<Int>()
                for i in 0..<configuration.nodes { if random.next() % 2 == 0 { a.insert(i) } else { b.insert(i) } }
                sim.partition([a, b])
                partitions += 1
            case 1: sim.heal()
            default: break
            }
            if random.next() % 2 == 0 {
                sim.crash(Int(random.next() % UInt64(configuration.nodes)), downMillis: 5000 + random.next() % 30_000)
                crashes += 1
            }
            t += 20_000
        }
        // Heal everything and let the stopped nodes come back; then wait for agreement.
        sim.heal()
        sim.run(until: t + 36_000)
        let healedAt = sim.now
        while !sim.converged, sim.now < healedAt + 600_000 { sim.run(until: sim.now + 5_000) }
        let converged = sim.converged, differing = sim.replicasDiffering()
        print("catch-up simulation seed \(seed): \(partitions) partitions, \(crashes) crashes, \(sim.lost) copies lost, \(sim.dropped) RPCs dropped; "
              + "converged \((sim.now - healedAt) / 1000) s after healing; \(sim.reconciliations) reconciliations, \(sim.reconciledBytes) bytes")
        #expect(converged, "\(differing) replicas differ")
        #expect(partitions > 0 && crashes > 0)
    }
}

