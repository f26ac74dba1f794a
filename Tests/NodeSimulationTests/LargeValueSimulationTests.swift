import SyncStore
@_spi(Fuzzing) @testable import SyncNode
import Testing
import Wire

/// Values too large for a gossip message (issue 15: up to 1 MiB): announced on the topic and
/// fetched by catch-up. A chain of nodes, so that most hear the announcement from a node
/// that is still fetching the value itself and must try again.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct LargeValueSimulationTests {
    @Test(arguments: 1...5 as ClosedRange<UInt64>)
    func aOneMebibyteWriteReachesEveryNodeOfAChainLongBeforeThePeriodicCatchUp(seed: UInt64) throws {
        let (scheduler, nodes) = try SimulatedChain.start(5, seed: seed)
        for (i, node) in nodes.enumerated() {
            #expect(node.core!.peers.connectedPeers.count == (i == 0 || i == nodes.count - 1 ? 1 : 2), "seed \(seed): \(node.address)")
        }

        // One byte short of 1 MiB of two-byte characters, one of 1 MiB exactly, and a small write.
        let big = String(repeating: "é", count: (1 << 19) - 1) + "x"
        let exact = String(repeating: "a", count: 1 << 20)
        var deliveries: [WriteDelivery] = []
        for (key, value) in [("big", big), ("exact", exact), ("small", "s")] {
            nodes[2].core!.engine.stagePut(key: key, value: value) { result in
                if case .success(let write) = result { deliveries.append(write.delivery) }
            }
        }
        scheduler.run(for: .seconds(5))
        #expect(deliveries == [.announced(peers: 2), .announced(peers: 2), .sent(peers: 2)], "seed \(seed)")
        for node in nodes {
            #expect(try node.core!.engine.get(key: "big")?.value == big, "seed \(seed): \(node.address) lacks the big value")
            #expect(try node.core!.engine.get(key: "exact")?.value == exact, "seed \(seed): \(node.address) lacks the 1 MiB value")
            #expect(try node.core!.engine.get(key: "small")?.value == "s", "seed \(seed): \(node.address)")
        }
        // Fetched because of the announcement (the periodic catch-up runs every 30 s), and
        // nothing left wanted or abandoned.
        for node in nodes where node !== nodes[2] {
            let reconcile = node.core!.reconcile
            #expect(reconcile.fetchedAnnounced >= 1, "seed \(seed): \(node.address)")
            #expect(reconcile.wantedCount == 0 && reconcile.abandonedAnnounced == 0, "seed \(seed): \(node.address)")
        }
        for node in nodes { node.core?.stop() }
    }
}

/// A member floods announcements of writes it never serves (issue 15's review): each node
/// tracks at most `ReconcileService.maxWanted` of them, leaves the rest to the periodic
/// catch-up, gives up on the tracked ones after its bounded retries, and ignores (does not
/// fetch or forward) announcements whose version is too far ahead of its clock.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct AnnouncementFloodSimulationTests {
    @Test func aFloodOfAnnouncementsIsCappedAndFutureVersionsAreIgnored() throws {
        let seed: UInt64 = 21
        let (scheduler, nodes) = try SimulatedChain.start(3, seed: seed)

        let flooder = nodes[0].core!
        let origin = flooder.engine.localOrigin
        let now = flooder.engine.wallMillis()
        let flood = 1_500
        for i in 0..<flood {
            let version = Version(hlc: HLC(physicalMillis: now, logical: UInt32(i)), origin: origin)
            let entry = Entry(key: "flood/\(i)", value: String(repeating: "x", count: 100_000), version: version)
            _ = flooder.gossip.publish(WriteMessage.announcement(entry), what: "flood \(i)")
        }
        let ahead = now + 10 * 60 * 1_000
        for i in 0..<10 {
            let entry = Entry(key: "future/\(i)", value: String(repeating: "x", count: 100_000),
                              version: Version(hlc: HLC(physicalMillis: ahead, logical: UInt32(i)), origin: origin))
            _ = flooder.gossip.publish(WriteMessage.announcement(entry), what: "future \(i)")
        }
        scheduler.run(for: .seconds(2))
        let first = nodes[1].core!
        #expect(first.gossip.announcementsReceived == flood + 10)
        #expect(first.reconcile.wantedCount <= ReconcileService.maxWanted)
        #expect(first.reconcile.announcedOverCap == flood - ReconcileService.maxWanted)
        // The future ones were ignored: counted as invalid, not forwarded to the next node.
        #expect(first.gossip.invalidPayloads == 10)
        #expect(nodes[2].core!.gossip.announcementsReceived == flood)
        // The tracked ones are given up after the bounded retries (a second apart at most).
        scheduler.run(for: .seconds(60))
        for node in nodes.dropFirst() {
            #expect(node.core!.reconcile.wantedCount == 0)
            #expect(node.core!.reconcile.abandonedAnnounced + node.core!.reconcile.announcedOverCap == flood)
        }
        for node in nodes { node.core?.stop() }
    }
}

/// Whole nodes in a chain, each dialing the one before it (no DHT, so no other links), started
/// and run for 5 simulated seconds; commits run after every event.
enum SimulatedChain {
    static func start(_ count: Int, seed: UInt64) throws -> (SimulatedScheduler, [SimulatedNode]) {
        let scheduler = SimulatedScheduler()
        var rng = SplitMix64(seed: seed)
        let network = SimulatedStreamNetwork(scheduler: scheduler, conditions: .init(latencyMilliseconds: 1...5, lossRate: 0),
                                             seed: rng.next())
        let sink = LogSink(filter: LogFilter(defaultLevel: .error))
        let nodes = try (0..<count).map { try SimulatedNode(index: $0, seed: seed) }
        for i in 1..<nodes.count { nodes[i].dialing = [nodes[i - 1].multiaddr] }
        for node in nodes { node.dht.enabled = false }
        for node in nodes { try node.start(on: network, sink: sink) }
        scheduler.afterEvent = { for node in nodes { node.core?.engine.commitStaged() } }
        scheduler.run(for: .seconds(5))
        return (scheduler, nodes)
    }
}

/// In a group (issue 14) a gossip message's writes must be its signer's own: a member that
/// publishes a write naming another member as its origin is rejected by its peers (and the
/// write applied nowhere), while its own writes pass.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct GroupGossipSimulationTests {
    @Test func aWriteInAnotherAuthorsNameOverGossipIsRejected() throws {
        let (scheduler, nodes) = try SimulatedChain.start(3, seed: 33)
        // Group mode's gossip rule, with a gate that admits everything else.
        for node in nodes { node.core!.engine.remoteWriteGate = { entries in (entries, []) } }
        let forger = nodes[0].core!, victim = nodes[2].core!
        let now = forger.engine.wallMillis()
        let forged = Entry(key: "stolen", value: "in the victim's name", version: Version(hlc: HLC(physicalMillis: now, logical: 0), origin: victim.engine.localOrigin))
        let own = Entry(key: "own", value: "mine", version: Version(hlc: HLC(physicalMillis: now, logical: 1), origin: forger.engine.localOrigin))
        _ = forger.gossip.publish(WriteMessage.encode([forged]), what: "forged")
        _ = forger.gossip.publish(WriteMessage.encode([own]), what: "own")
        scheduler.run(for: .seconds(2))
        for node in nodes.dropFirst() {
            #expect(try node.core!.engine.get(key: "stolen") == nil)
            #expect(try node.core!.engine.get(key: "own")?.value == "mine")
        }
        #expect(nodes[1].core!.gossip.invalidPayloads == 1)
        for node in nodes { node.core?.stop() }
    }
}
