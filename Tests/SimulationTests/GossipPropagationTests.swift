import GossipSimulation
import Testing

/// Issue 11: gossip at internet-like scale, CI-sized. 200 routers on WAN-like links (each
/// link's one-way latency drawn from 20...200 ms, 1 % of message copies lost): every router
/// gets every message, and the copies each router receives per message stay near the mesh
/// degree. `p2p-sync-sim gossip --routers 1000` (perf/run) runs the full size.
@Suite struct GossipPropagationTests {
    @Test(arguments: [UInt64(11)])
    func twoHundredRoutersOnWANLinksGetEveryMessage(seed: UInt64) {
        var configuration = GossipPropagationSimulation.Configuration()
        configuration.routers = 200
        configuration.messages = 10
        configuration.seed = seed
        var sim = GossipPropagationSimulation(configuration)
        let report = sim.run()
        let p = report.percentiles
        print("gossip propagation seed \(seed): \(configuration.routers) routers, average degree \(report.averageDegree), "
              + "mesh \(report.averageMeshSize); p50 \(p?.p50 ?? -1) ms, p99 \(p?.p99 ?? -1) ms, max \(p?.max ?? -1) ms; "
              + "\(report.copiesPerMessage) copies per router per message, \(report.copiesLost) lost, "
              + "\(report.messagesRepairedByIWANT) repaired by IWANT; \(report.missing) of \(report.expectedDeliveries) missing")
        #expect(report.missing == 0, "seed \(seed): \(report.missing) deliveries missing")
        // Each router hears a message from at most its mesh peers (D_high at most) once each,
        // plus the publisher's flood copy and IWANT repairs: more than D_high + 2 on average
        // would mean the mesh is not bounding the traffic.
        let bound = Double(configuration.parameters.dHigh + 2)
        #expect(report.copiesPerMessage <= bound, "seed \(seed): \(report.copiesPerMessage) copies per message, bound \(bound)")
        #expect(report.copiesPerMessage >= 1, "seed \(seed): fewer copies than deliveries")
        // With the mesh at degree D, a message crosses the 200 routers in a few hops of at most 200 ms.
        #expect((p?.max ?? .infinity) < 3000, "seed \(seed): slowest delivery \(p?.max ?? -1) ms")
    }
}
