import Kademlia
import Testing
import TestSupport
import Wire

/// A random peer ID shaped as a sha2-256 multihash: valid, and cheap to make by the thousand.
func randomPeer(_ random: inout SeededRandom) -> PeerID {
    var bytes: [UInt8] = [0x12, 0x20]
    bytes.reserveCapacity(34)
    for _ in 0..<4 {
        let w = random.next()
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: w >> UInt64(shift))) }
    }
    return try! PeerID(bytes: bytes)
}

func address(_ text: String) -> [Multiaddr] { [try! Multiaddr(text)] }

/// Draws peers until `count` fall in `bucket` of `table`.
func peers(inBucket bucket: Int, of table: RoutingTable, count: Int, _ random: inout SeededRandom) -> [PeerID] {
    var out: [PeerID] = []
    while out.count < count {
        let p = randomPeer(&random)
        if table.bucketIndex(of: KadKey(peer: p)) == bucket { out.append(p) }
    }
    return out
}

@Suite struct RoutingTableTests {
    let lan = address("/ip4/192.168.1.1/tcp/4001")

    @Test func placesEachPeerInTheBucketOfItsSharedPrefix() {
        var random = SeededRandom(seed: 1)
        let me = randomPeer(&random)
        var table = RoutingTable(localPeer: me)
        #expect(table.insert(me, addresses: lan, now: 0) == .refused(.isSelf))
        for i in 0..<300 { _ = table.insert(randomPeer(&random), addresses: lan, now: UInt64(i)) }
        for (b, size) in table.bucketSizes.enumerated() { #expect(size <= RoutingTable.bucketSize, "bucket \(b)") }
        #expect(table.bucketSizes.reduce(0, +) == table.count)
        #expect(table.entries.count == table.count)
        // Half of random peers share no leading bit with us: bucket 0 fills.
        #expect(table.bucketSizes[0] == RoutingTable.bucketSize)
        for e in table.entries {
            #expect(table.bucketIndex(of: e.key) == table.localKey.commonPrefixLength(with: KadKey(peer: e.peer)))
        }
        let p = table.entries[0].peer
        #expect(table.insert(p, addresses: lan, now: 999) == .updated)
        #expect(table.entry(for: p)?.lastSeen == 999)
    }

    private func fullBucket() -> (RoutingTable, [PeerID], SeededRandom) {
        var random = SeededRandom(seed: 2)
        var table = RoutingTable(localPeer: randomPeer(&random))
        let ps = peers(inBucket: 0, of: table, count: 23, &random)
        for (i, p) in ps.prefix(20).enumerated() {
            #expect(table.insert(p, addresses: lan, now: UInt64(100 + i)) == .added)
        }
        // The third peer is seen later, so the first is the least recently seen.
        table.seen(ps[2], now: 500)
        return (table, ps, random)
    }

    @Test func fullBucketMakesTheNewcomerWaitAndEvictsAFailedEntry() {
        var (table, ps, _) = fullBucket()
        #expect(table.insert(ps[20], addresses: lan, now: 1000) == .pending(check: ps[0]))
        #expect(table.pendingCandidate(inBucket: 0) == ps[20])
        // One candidate per bucket: a second newcomer is turned away while the check runs.
        #expect(table.insert(ps[21], addresses: lan, now: 1001) == .refused(.bucketFull))
        table.checkResult(ps[0], alive: false, now: 2000)
        #expect(!table.contains(ps[0]))
        #expect(table.contains(ps[20]))
        #expect(table.count == 20)
        #expect(table.pendingCandidate(inBucket: 0) == nil)
    }

    @Test func fullBucketKeepsAnEntryThatIsAlive() {
        var (table, ps, _) = fullBucket()
        #expect(table.insert(ps[20], addresses: lan, now: 1000) == .pending(check: ps[0]))
        table.checkResult(ps[0], alive: true, now: 2000)
        #expect(table.contains(ps[0]))
        #expect(table.entry(for: ps[0])?.lastSeen == 2000)
        #expect(!table.contains(ps[20]))
        #expect(table.pendingCandidate(inBucket: 0) == nil)
        // Now ps[1] is the least recently seen.
        #expect(table.insert(ps[21], addresses: lan, now: 3000) == .pending(check: ps[1]))
    }

    @Test func aCheckNeverReportedStopsBlockingAfterTheTimeOut() {
        var (table, ps, _) = fullBucket()
        #expect(table.insert(ps[20], addresses: lan, now: 1000) == .pending(check: ps[0]))
        #expect(table.insert(ps[21], addresses: lan, now: 1000 + RoutingTable.pendingTimeout) == .pending(check: ps[0]))
        #expect(table.pendingCandidate(inBucket: 0) == ps[21])
    }

    @Test func removingAnEntryPromotesTheCandidate() {
        var (table, ps, _) = fullBucket()
        _ = table.insert(ps[20], addresses: lan, now: 1000)
        table.remove(ps[5])
        #expect(!table.contains(ps[5]))
        #expect(table.contains(ps[20]))
        #expect(table.count == 20)
    }

    @Test func atMostTwoPeersPerSubnetInABucket() {
        var random = SeededRandom(seed: 3)
        var table = RoutingTable(localPeer: randomPeer(&random))
        let b0 = peers(inBucket: 0, of: table, count: 12, &random)
        let b1 = peers(inBucket: 1, of: table, count: 1, &random)
        #expect(table.insert(b0[0], addresses: address("/ip4/203.0.113.1/tcp/1"), now: 0) == .added)
        #expect(table.insert(b0[1], addresses: address("/ip4/203.0.113.2/udp/1/quic-v1"), now: 0) == .added)
        #expect(table.insert(b0[2], addresses: address("/ip4/203.0.113.3/tcp/1"), now: 0)
                == .refused(.subnetFull(.ip4(203, 0, 113))))
        // Judged by the first IP address only.
        #expect(table.insert(b0[2], addresses: address("/ip4/198.51.100.3/tcp/1") + address("/ip4/203.0.113.3/tcp/1"), now: 0) == .added)
        // Another bucket counts on its own.
        #expect(table.insert(b1[0], addresses: address("/ip4/203.0.113.4/tcp/1"), now: 0) == .added)
        // IPv6 groups by /48.
        #expect(table.insert(b0[3], addresses: address("/ip6/2001:db8:1:1::1/tcp/1"), now: 0) == .added)
        #expect(table.insert(b0[4], addresses: address("/ip6/2001:db8:1:2::1/tcp/1"), now: 0) == .added)
        #expect(table.insert(b0[5], addresses: address("/ip6/2001:db8:1:ffff::1/tcp/1"), now: 0)
                == .refused(.subnetFull(.ip6([0x20, 0x01, 0x0d, 0xb8, 0, 1]))))
        #expect(table.insert(b0[5], addresses: address("/ip6/2001:db8:2::1/tcp/1"), now: 0) == .added)
        // An entry cannot move into a crowded group by changing address: its old one stays.
        #expect(table.insert(b0[2], addresses: address("/ip4/203.0.113.9/tcp/1"), now: 5) == .updated)
        #expect(table.entry(for: b0[2])?.addresses == address("/ip4/198.51.100.3/tcp/1") + address("/ip4/203.0.113.3/tcp/1"))
    }

    @Test(arguments: ["/ip4/10.1.2.3/tcp/1", "/ip4/172.20.0.1/tcp/1", "/ip4/192.168.0.9/tcp/1", "/ip4/127.0.0.1/tcp/1",
                      "/ip4/169.254.3.3/tcp/1", "/ip4/100.64.0.1/tcp/1", "/ip6/::1/tcp/1", "/ip6/fd00::1/tcp/1",
                      "/ip6/fe80::1/tcp/1", "/dns4/example.com/tcp/1"])
    func privateLoopbackAndLinkLocalAddressesAreExempt(text: String) {
        var random = SeededRandom(seed: 4)
        var table = RoutingTable(localPeer: randomPeer(&random))
        for p in peers(inBucket: 0, of: table, count: 5, &random) {
            #expect(table.insert(p, addresses: address(text), now: 0) == .added, "\(text)")
        }
    }

    @Test func publicNeighboursOfExemptRangesAreNotExempt() {
        for text in ["/ip4/172.32.0.1/tcp/1", "/ip4/100.128.0.1/tcp/1", "/ip4/11.0.0.1/tcp/1", "/ip6/fe00::1/tcp/1"] {
            #expect(SubnetGroup(firstIPOf: address(text)) != nil, "\(text)")
        }
    }

    @Test(arguments: [UInt64(5), 6, 7])
    func closestMatchesABruteForceSort(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        var table = RoutingTable(localPeer: randomPeer(&random))
        for i in 0..<2000 { _ = table.insert(randomPeer(&random), addresses: lan, now: UInt64(i)) }
        let all = table.entries
        var targets = (0..<40).map { _ in KadKey(digest: random.bytes(32)) }
        targets.append(table.localKey)
        targets.append(contentsOf: all.prefix(5).map(\.key))
        targets.append(contentsOf: all.suffix(5).map(\.key))
        for target in targets {
            let sorted = all.map { ($0.key.distance(to: target), $0.peer) }.sorted { $0.0 < $1.0 }.map(\.1)
            for count in [1, 3, 20, 50, all.count + 5] {
                let expected = sorted.prefix(count)
                #expect(table.closest(to: target, count: count).map(\.peer) == Array(expected), "target \(target), count \(count)")
            }
        }
    }

    @Test func refreshKeysLandInTheirBucket() {
        var random = SeededRandom(seed: 8)
        let table = RoutingTable(localPeer: randomPeer(&random))
        for bucket in [0, 1, 2, 5, 9, 12] {
            let key = table.refreshKey(forBucket: bucket, random: &random)
            #expect((try? PeerID(bytes: key)) != nil)
            #expect(table.bucketIndex(of: KadKey(hashing: key)) == bucket, "bucket \(bucket)")
        }
        for bucket in 0..<RoutingTable.bucketCount {
            #expect(table.bucketIndex(of: table.randomKey(inBucket: bucket, random: &random)) == bucket)
        }
    }

    @Test func staleBucketsRunFromZeroToTheDeepestNonEmptyCappedAtFifteen() {
        var random = SeededRandom(seed: 9)
        var table = RoutingTable(localPeer: randomPeer(&random))
        #expect(table.staleBuckets(now: 0).isEmpty)
        let deep = peers(inBucket: 4, of: table, count: 1, &random)[0]
        _ = table.insert(deep, addresses: lan, now: 0)
        #expect(table.staleBuckets(now: 0) == [0, 1, 2, 3, 4])
        let t: UInt64 = 1_000_000_000_000
        table.markLookup(bucket: 2, now: t)
        #expect(table.staleBuckets(now: t + RoutingTable.refreshInterval - 1) == [0, 1, 3, 4])
        #expect(table.staleBuckets(now: t + RoutingTable.refreshInterval) == [0, 1, 2, 3, 4])
        table.markLookup(key: table.randomKey(inBucket: 3, random: &random), now: t)
        #expect(table.lastLookup(bucket: 3) == t)
        // A peer in bucket 16 (about 2^17 draws): refresh still stops at bucket 15.
        _ = table.insert(peers(inBucket: 16, of: table, count: 1, &random)[0], addresses: lan, now: 0)
        #expect(table.staleBuckets(now: 0).last == RoutingTable.maxRefreshBucket)
    }
}
