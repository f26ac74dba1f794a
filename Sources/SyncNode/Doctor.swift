#if canImport(Glibc)
import Glibc
#endif
import Swarm
import JSON
import SyncStore
import Wire

/// `p2p-syncctl doctor`: the answers to "why does mDNS find nobody?" and "why don't my nodes
/// sync?", from the daemon's own state. Each finding is a level, what was seen, and a fix.
struct Doctor {
    enum Level: String { case ok, warn, fail }

    struct Finding {
        let level: Level
        let text: String
        var fix: String?

        var json: JSON {
            var o: [String: JSON] = ["level": .string(level.rawValue), "text": .string(text)]
            if let fix { o["fix"] = .string(fix) }
            return .object(o)
        }
    }

    private(set) var findings: [Finding] = []

    mutating func ok(_ text: String) { findings.append(Finding(level: .ok, text: text)) }
    mutating func warn(_ text: String, fix: String) { findings.append(Finding(level: .warn, text: text, fix: fix)) }
    mutating func fail(_ text: String, fix: String) { findings.append(Finding(level: .fail, text: text, fix: fix)) }

    var json: JSON { ["findings": .array(findings.map(\.json))] }

    /// IPv4 routes from /proc/net/route: interface, destination, mask (host byte order).
    static func routes() -> [(interface: String, destination: UInt32, mask: UInt32)] {
        guard let bytes = AtomicFile.read("/proc/net/route", limit: 1 << 20) else { return [] }
        let text = String(decoding: bytes, as: UTF8.self)
        return text.split(separator: "\n").dropFirst().compactMap { line in
            let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard f.count >= 8, let d = UInt32(f[1], radix: 16), let m = UInt32(f[7], radix: 16) else { return nil }
            // The file holds network byte order read as a little-endian number.
            return (String(f[0]), d.byteSwapped, m.byteSwapped)
        }
    }

    /// True when traffic to 224.0.0.251 would be routed out of `interface`.
    static func routesMulticast(_ interface: String, _ routes: [(interface: String, destination: UInt32, mask: UInt32)]) -> Bool {
        let group: UInt32 = 0xE000_00FB
        return routes.contains { $0.interface == interface && group & $0.mask == $0.destination & $0.mask }
    }
}

extension Node {
    func doctorReport() -> JSON {
        var d = Doctor()
        let interfaces = InterfaceAddresses.interfaces().filter { !$0.loopback }
        let routes = Doctor.routes()
        if interfaces.isEmpty {
            d.fail("no network interface with an IPv4 address besides loopback", fix: "connect the machine to a network (or check `ip addr`)")
        }
        for i in interfaces {
            let name = "\(i.name) (\(i.address))"
            if !i.up { d.warn("\(name) is down", fix: "ip link set \(i.name) up"); continue }
            if !i.multicast {
                d.warn("\(name) is not multicast-capable: mDNS cannot use it", fix: "ip link set \(i.name) multicast on")
                continue
            }
            if Doctor.routesMulticast(i.name, routes) {
                d.ok("\(name) is up, multicast-capable, and 224.0.0.0/4 is routed through it")
            } else {
                d.warn("\(name) has no route for 224.0.0.0/4 (nor a default route): other mDNS stacks on this host cannot send through it",
                       fix: "ip route add 224.0.0.0/4 dev \(i.name)")
            }
        }
        if let mdns = mdnsService {
            if let error = mdns.bindError {
                d.fail("mDNS could not bind UDP 5353: \(error)", fix: "another program holds 5353 without SO_REUSEPORT; stop it, or use --peer")
            } else {
                d.ok("mDNS bound UDP 5353 (shared with other responders: SO_REUSEADDR, SO_REUSEPORT)")
                let c = mdns.counters
                for state in mdns.interfaces.values.sorted(by: { $0.interface.name < $1.interface.name }) where !state.interface.loopback {
                    let name = "\(state.interface.name) (\(state.interface.address))"
                    if let error = state.joinError {
                        d.fail("mDNS could not join 224.0.0.251 on \(name): \(error)", fix: "check that \(state.interface.name) is up and multicast-capable")
                    } else if state.joined {
                        if state.sendErrors > 0 {
                            d.fail("mDNS: \(state.sendErrors) sends failed on \(name): \(state.lastSendError ?? "")",
                                   fix: "ip route add 224.0.0.0/4 dev \(state.interface.name); check firewall rules for UDP 5353")
                        } else {
                            d.ok("mDNS on \(name): \(state.sent) packets sent, \(state.received) received from its subnet")
                        }
                        if state.sent > 2 && state.received == 0 {
                            d.warn("mDNS on \(name): nothing received from other hosts",
                                   fix: "no other node on this LAN, or multicast is filtered (Wi-Fi client isolation, IGMP snooping, a firewall dropping UDP 5353)")
                        }
                    }
                }
                d.ok("mDNS: \(c.queriesSent) queries sent, \(c.responsesReceived) responses received, \(c.queriesAnswered) queries answered, \(c.peersDiscovered) peers found")
                if c.malformedPackets > 0 {
                    d.warn("mDNS: \(c.malformedPackets) malformed packets dropped", fix: "a device on the LAN sends broken mDNS; harmless unless peers go missing")
                }
                if let twin = mdns.duplicateOfSelf {
                    d.fail("another host answers mDNS with this node's own peer ID (its mDNS name is \(twin))",
                           fix: "two nodes share one identity.key (a copied data dir?): give one of them a fresh data dir")
                }
            }
        } else {
            d.warn("mDNS is off (--no-mdns): LAN peers are not discovered", fix: "start without --no-mdns, or give peers with --peer / p2p-syncctl connect")
        }
        // Peers found but not connected, and why.
        let found = mdnsService?.found ?? [:]
        for (peer, addresses) in found.sorted(by: { $0.key < $1.key }) where peers.connection(to: peer) == nil {
            let why = peers.lastFailure[peer] ?? "no attempt finished yet"
            d.warn("found \(peer) at \(addresses.first?.description ?? "?") but not connected: \(why)",
                   fix: Doctor.advice(for: why))
        }
        for (peer, why) in peers.lastFailure.sorted(by: { $0.key < $1.key }) where found[peer] == nil && peers.connection(to: peer) == nil {
            d.warn("cannot connect to \(peer): \(why)", fix: Doctor.advice(for: why))
        }
        // Connected peers that do not share our topic.
        for connection in peers.connectedPeers {
            guard let peer = connection.remotePeer else { continue }
            if !gossipService.speaksPubsub(peer) {
                d.warn("\(peer) is connected but speaks no pubsub protocol we know", fix: "it cannot receive writes; check its libp2p stack offers /meshsub/1.1.0")
            } else if !gossipService.topicPeers.contains(peer) {
                let theirs = gossipService.topics(of: peer)
                d.warn("\(peer) is connected but not subscribed to our topic \"\(configuration.topic)\"" + (theirs.isEmpty ? "" : " (its topics: \(theirs.joined(separator: ", ")))"),
                       fix: "start both nodes with the same --topic")
            } else {
                d.ok("\(peer) is connected and on topic \"\(configuration.topic)\"")
            }
        }
        privateNetworkFindings(&d)
        groupFindings(&d)
        clockFindings(&d)
        dhtFindings(&d)
        let g = gossipService.counters
        if g.invalid > 0 || gossipService.invalidPayloads > 0 || g.oversizeDropped > 0 {
            d.warn("gossip: \(g.invalid) messages refused, \(gossipService.invalidPayloads) bad write messages, \(g.oversizeDropped) too large to forward",
                   fix: "see the daemon's log for each refusal; a peer with a wrong clock or an incompatible writer is the usual cause")
        }
        return d.json
    }
}

extension Node {
    /// Issue 17: our clock against our peers', writes refused for a clock, both ways.
    func clockFindings(_ d: inout Doctor) {
        let clock = core.clock
        let limit = ClockError.seconds(engine.maxClockSkewMillis)
        if let ahead = clock.aheadMillis {
            let median = "the median of \(clock.measuredPeerCount) connected peer(s)' clocks"
            if clock.isAhead {
                d.fail("this node's clock is \(ClockService.signed(ahead)) ahead of \(median) (limit \(limit)): local writes (add, del) are refused",
                       fix: "fix this machine's clock: `timedatectl status` should say \"System clock synchronized: yes\"; `timedatectl set-ntp true` turns NTP on")
            } else {
                d.ok("this node's clock is \(ClockService.signed(ahead)) from \(median) (limit \(limit))")
            }
        } else if !peers.connectedPeers.isEmpty {
            d.warn("no peer's clock measured yet (\(ClockHandler.protocolID))", fix: "wait 15 s; a peer that does not speak it (not p2p-sync) is never measured")
        }
        for (peer, c) in clock.peersRefusingOurWrites {
            let offset = c.offsetMillis.map { "your clock is \(ClockService.signed(-$0)) ahead of \(peer)" } ?? "\(peer) finds your versions too far ahead"
            d.fail("peers refuse your writes: \(offset) (its limit \(ClockError.seconds(UInt64(c.peerLimitMillis)))); it refused \(c.refusedOurWrites) of your writes, for good",
                   fix: "fix this machine's clock (timedatectl set-ntp true); writes refused for their clock stay out of that replica: write those keys again once the clock is right")
        }
        for connection in peers.connectedPeers {
            guard let peer = connection.remotePeer, let offset = clock.clocks[peer]?.offsetMillis,
                  offset > Double(engine.maxClockSkewMillis) else { continue }
            d.warn("\(peer)'s clock is \(ClockService.signed(offset)) ahead of this node's (limit \(limit)): its writes are refused here",
                   fix: "fix the clock on \(peer)'s machine (NTP, timedatectl)")
        }
        if engine.clockRefusals > 0 {
            let byOrigin = engine.clockRefusalsByOrigin.sorted { $0.value > $1.value }.map { "\($0.value) from \(Entry.originText($0.key))" }
            d.warn("\(engine.clockRefusals) write(s) refused for good because their versions were more than \(limit) ahead of this node's clock when they arrived (\(byOrigin.joined(separator: ", ")))",
                   fix: "the writers' clocks were wrong; those writes stay out of this replica (so an older write never undoes a later one): rewrite those keys if they matter")
        }
        if engine.keptRefusedCount > 0 {
            d.warn("\(engine.keptRefusedCount) refused write(s) came back once no longer ahead and were kept out (each logged at WARN): this replica and theirs differ on those keys",
                   fix: "write those keys again from a node with a correct clock to make the replicas agree")
        }
    }
}

extension Node {
    /// A private group: this node's role, and what the group refused.
    func groupFindings(_ d: inout Doctor) {
        guard let groupID = group.group, let membership = group.membership else { return }
        switch group.role {
        case .admin?, .writer?:
            d.ok("group \(groupID): this node is \(group.role!.rawValue) among \(membership.roles.count) members")
        case .reader?:
            d.warn("group \(groupID): this node is a reader: its writes are refused", fix: "an admin runs p2p-syncctl members add \(peerID) --role writer")
        case nil where membership.founder == nil:
            d.warn("group \(groupID): the membership has not arrived yet from the admin that invited this node",
                   fix: "check that the admin is running and reachable (p2p-syncctl peers), and that it added this node: p2p-syncctl members add \(peerID)")
        case nil:
            d.fail("group \(groupID): this node is not a member (removed, or never added)", fix: "ask an admin to add it: p2p-syncctl members add \(peerID)")
        }
        if group.refusedConnections > 0 {
            d.warn("group \(groupID): \(group.refusedConnections) connection(s) from non-members refused (p2p-syncctl audit lists them)",
                   fix: "if one of them should be in the group, an admin adds its peer ID with p2p-syncctl members add")
        }
        if engine.groupRefusals > 0 {
            d.warn("group \(groupID): \(engine.groupRefusals) write(s) from peers refused (readers, removed members, or no proof from their author; p2p-syncctl audit)",
                   fix: "nothing to do if these peers are not allowed to write; otherwise change their role")
        }
    }

    /// A private network: its key, and the connections it refused (another key, or none).
    func privateNetworkFindings(_ d: inout Doctor) {
        guard let swarmKey else { return }
        let id = swarmKey.key.identifier
        d.ok("private network: swarm key \(id) (\(swarmKey.path)); only nodes with the same key connect, over TCP (QUIC is off)")
        let refusals = peers.privateNetworkRefusals
        guard let last = refusals.last else { return }
        let ago = Int(reactor.now.duration(since: last.at).components.seconds)
        d.fail("private network: \(refusals.count) connection\(refusals.count == 1 ? "" : "s") refused, the last \(ago) s ago with \(last.address): \(last.error)",
               fix: "every node of the group needs the same swarm.key (key id \(id) here): copy this node's file into the other's data dir, or start it with --swarm-key")
    }
}

extension Doctor {
    static func advice(for reason: String) -> String {
        let r = reason.lowercased()
        if r.contains("private network") {
            return "every node of a private network needs the same swarm.key: copy it from a member into the other's data dir (or --swarm-key), or run both without one"
        }
        if r.contains("multistream") {
            return "the peer's first bytes are not libp2p's multistream greeting: if it runs in a private network (a swarm.key), this node needs the same key"
        }
        if r.contains("refused") { return "nothing listens there: is the peer running, and on that port?" }
        if r.contains("peer id") || r.contains("expected") { return "the address belongs to another node now (a new identity.key?): use its current peer ID" }
        if r.contains("timed out") || r.contains("timeout") { return "packets are dropped on the way: check firewalls for the TCP port" }
        if r.contains("no common") || r.contains("negotiat") || r.contains("na") { return "the peer offers no protocol we speak: it needs /noise and /yamux/1.0.0" }
        if r.contains("unreachable") { return "no route to the peer: check addresses and routes" }
        return "see the daemon's log (p2p-syncd --log-level debug) for details"
    }
}
