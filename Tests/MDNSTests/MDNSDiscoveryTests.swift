import MDNS
import Testing
import TestSupport
import Wire

/// Two discovery machines exchanging packets, and packets shaped like rust's and py's.
@Suite struct MDNSDiscoveryTests {
    static let idA = try! PeerID("12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq")
    static let idB = try! PeerID("12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq")

    static func machine(_ id: PeerID, name: String, ip: String) -> MDNSDiscovery {
        MDNSDiscovery(.init(peerID: id, peerName: name, addresses: [try! Multiaddr("/ip4/\(ip)/tcp/4001")]), now: 0)
    }

    @Test func twoNodesFindEachOtherAndAGoodbyeRemovesAPeer() throws {
        var a = Self.machine(Self.idA, name: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", ip: "10.0.0.1")
        var b = Self.machine(Self.idB, name: "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", ip: "10.0.0.2")
        // A starts: an announcement and a query.
        let start = a.tick(now: 0)
        #expect(start.packets.count == 2)
        #expect(a.counters.queriesSent == 1)
        // B hears A's announcement: A is discovered.
        var events: [MDNSDiscovery.Event] = []
        for p in start.packets { events += b.received(p.bytes, from: "10.0.0.1", port: 5353, now: 10).events }
        #expect(events.contains(.discovered(Self.idA, [try Multiaddr("/ip4/10.0.0.1/tcp/4001/p2p/\(Self.idA)")])))
        // B answers A's query; A discovers B through the libp2p and the DNS-SD records.
        let query = start.packets.first { (try? DNSMessage(decoding: $0.bytes))?.isResponse == false }!
        let answer = b.received(query.bytes, from: "10.0.0.1", port: 5353, now: 20)
        #expect(answer.packets.count == 1 && answer.packets[0].unicastTo == nil)
        let found = a.received(answer.packets[0].bytes, from: "10.0.0.2", port: 5353, now: 30).events
        #expect(found == [.discovered(Self.idB, [try Multiaddr("/ip4/10.0.0.2/tcp/4001/p2p/\(Self.idB)")])])
        // The same answer again changes nothing; a goodbye removes B.
        #expect(a.received(answer.packets[0].bytes, from: "10.0.0.2", port: 5353, now: 40).events.isEmpty)
        let goodbye = b.stop()
        #expect(a.received(goodbye.packets[0].bytes, from: "10.0.0.2", port: 5353, now: 50).events == [.departed(Self.idB)])
        #expect(a.known[Self.idB] == nil)
    }

    @Test func recordsExpireAfterTheirTTLAndQueriesBackOff() {
        var a = Self.machine(Self.idA, name: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", ip: "10.0.0.1")
        var b = Self.machine(Self.idB, name: "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", ip: "10.0.0.2")
        let announcement = b.tick(now: 0).packets.first { (try? DNSMessage(decoding: $0.bytes))?.isResponse == true }!
        _ = a.received(announcement.bytes, from: "10.0.0.2", port: 5353, now: 0)
        var queries: [UInt64] = []
        var departed: UInt64?
        var now: UInt64 = 0
        while now <= 200_000 {
            let out = a.tick(now: now)
            if out.packets.contains(where: { (try? DNSMessage(decoding: $0.bytes))?.isResponse == false }) { queries.append(now) }
            if out.events.contains(.departed(Self.idB)) { departed = now }
            now += 100
        }
        #expect(Array(queries.prefix(6)) == [0, 1000, 3000, 7000, 15000, 31000])
        // The interval doubles up to 60 s and stays there.
        let gaps = zip(queries.dropFirst(), queries).map { $0 - $1 }
        #expect(gaps.suffix(2).allSatisfy { $0 == 60_000 }, "\(gaps)")
        #expect(departed == 120_000)
    }

    @Test func readsRustsBarePTRTargetAndPysNumberedDnsaddrKeys() throws {
        var a = Self.machine(Self.idA, name: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", ip: "10.0.0.1")
        // rust: PTR target is a single label; one TXT record per address in Additional.
        let rust = DNSMessage(flags: 0x8400, answers: [DNSRecord(name: DNSName("_p2p._udp.local"), data: .ptr(DNSName(["RuStPeerName"])), ttl: 360)],
                              additionals: [DNSRecord(name: DNSName(["RuStPeerName"]), data: .txt([Array("dnsaddr=/ip4/10.0.0.9/tcp/4001/p2p/\(Self.idB)".utf8)]), ttl: 360, cacheFlush: true),
                                            DNSRecord(name: DNSName(["RuStPeerName"]), data: .txt([Array("dnsaddr=/ip4/10.0.0.10/tcp/4001/p2p/\(Self.idB)".utf8)]), ttl: 360, cacheFlush: true)])
        let events = a.received(try rust.encoded(), from: "10.0.0.9", port: 5353, now: 0).events
        #expect(events == [.discovered(Self.idB, [try Multiaddr("/ip4/10.0.0.9/tcp/4001/p2p/\(Self.idB)"), try Multiaddr("/ip4/10.0.0.10/tcp/4001/p2p/\(Self.idB)")])])
        // py (python-zeroconf): keys dnsaddr, dnsaddr2, ...
        var b = Self.machine(Self.idA, name: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", ip: "10.0.0.1")
        let instance = DNSName("pypeer._p2p._udp.local")
        let py = DNSMessage(flags: 0x8400, answers: [DNSRecord(name: DNSName("_p2p._udp.local"), data: .ptr(instance), ttl: 120),
                                                     DNSRecord(name: instance, data: .txt([Array("dnsaddr=/ip4/10.0.0.7/tcp/4001/p2p/\(Self.idB)".utf8), Array("dnsaddr2=/ip4/10.0.1.7/tcp/4001/p2p/\(Self.idB)".utf8)]), ttl: 120)])
        #expect(b.received(try py.encoded(), from: "10.0.0.7", port: 5353, now: 0).events.count == 1)
        #expect(b.known[Self.idB]?.addresses.count == 2)
    }

    @Test func ourOwnPacketsAreIgnoredButADuplicateIdentityIsReported() throws {
        var a = Self.machine(Self.idA, name: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", ip: "10.0.0.1")
        let own = a.tick(now: 0).packets
        for p in own { #expect(a.received(p.bytes, from: "10.0.0.1", port: 5353, now: 1).events.isEmpty) }
        var twin = Self.machine(Self.idA, name: "tttttttttttttttttttttttttttttttt", ip: "10.0.0.5")
        let twinAnnouncement = twin.tick(now: 0).packets.first { (try? DNSMessage(decoding: $0.bytes))?.isResponse == true }!
        #expect(a.received(twinAnnouncement.bytes, from: "10.0.0.5", port: 5353, now: 2).events == [.duplicateOfSelf(peerName: "tttttttttttttttttttttttttttttttt")])
    }

    @Test func legacyUnicastQueriesGetADirectAnswerWithTheirID() throws {
        var a = Self.machine(Self.idA, name: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", ip: "10.0.0.1")
        var query = try DNSMessage(decoding: MDNSDiscovery.query())
        query.id = 0x1234
        let out = a.received(try query.encoded(), from: "10.0.0.3", port: 40000, now: 0)
        #expect(out.packets.count == 1)
        #expect(out.packets[0].unicastTo?.host == "10.0.0.3" && out.packets[0].unicastTo?.port == 40000)
        let answer = try DNSMessage(decoding: out.packets[0].bytes)
        #expect(answer.id == 0x1234 && answer.questions.count == 2)
        #expect(answer.answers.allSatisfy { $0.ttl <= 10 })
    }
}
