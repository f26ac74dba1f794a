import DHTSimulation
import Testing

/// Kademlia lookups on a simulated WAN, CI-sized: 1,000 DHT servers join (bootstrap peers and
/// a self-lookup), then 20 % go silent without leaving anyone's table, and 50 lookups of
/// random keys from live nodes must still find the true 20 closest live nodes (mean recall
/// at least 0.95; seen 0.982 to 0.995). `p2p-sync-sim dht --nodes 10000` runs the full size
/// with bucket refresh.
@Suite struct DHTSimulationTests {
    @Test(arguments: (UInt64(1)...20).map { $0 })
    func lookupsFindTheClosestLiveNodesWithAFifthGone(seed: UInt64) {
        var configuration = DHTLookupSimulation.Configuration()
        configuration.nodes = 1000
        configuration.gonePercent = 20
        configuration.lookups = 50
        // Self-lookup on join only: bucket refresh multiplies the run time by ten (12 s instead
        // of 0.9 s in release for 1,000 nodes), too slow for a debug run of 20 seeds in CI.
        // `p2p-sync-sim dht` runs the full join (self-lookup, refresh, one periodic refresh).
        configuration.refreshOnJoin = false
        configuration.refreshRounds = 0
        configuration.seed = seed
        var sim = DHTLookupSimulation(configuration)
        let report = sim.run()
        let rounds = report.rounds.sorted()
        print("dht seed \(seed): mean recall \(report.meanRecall), min \(report.minRecall), rounds median \(rounds[rounds.count / 2]) "
              + "max \(rounds.last ?? -1), queries max \(report.queries.max() ?? -1), table \(report.averageTableSize), "
              + "\(report.goneInTables) of entries gone")
        #expect(report.recalls.count == configuration.lookups, "seed \(seed)")
        #expect(report.meanRecall >= 0.95, "seed \(seed): mean recall \(report.meanRecall)")
        // Hop depth: a peer named in an answer usually shares at least one more leading bit
        // with the target than the peer that named it (it came from that peer's bucket for the
        // target), so a chain from any seed to the closest nodes of 1,000 is at most about
        // log2(1000) ≈ 10 long. Seen: median 4, at most 8 over these 20 seeds.
        #expect((rounds.last ?? .infinity) <= 10, "seed \(seed): \(rounds.last ?? -1) rounds")
    }
}
