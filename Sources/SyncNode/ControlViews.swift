#if canImport(Glibc)
import Glibc
#endif
import JSON
import Reactor
import Swarm
import Wire

/// What the control commands show, rendered in one place from the services' state (issue 11:
/// the services keep data, the control side decides how it reads).
extension Node {
    /// `peers`: every connection, every dial target without one, and LAN peers not connected.
    func peersJSON() -> JSON {
        var rows: [JSON] = []
        let connections = peers.allConnections
        for c in connections {
            var row: [String: JSON] = [
                "peer_id": c.remotePeer.map { .string($0.description) } ?? c.expectedPeer.map { .string($0.description) } ?? .null,
                "state": .string(c.syncing && c.state == .connected ? PeerState.syncing.rawValue : c.state.rawValue),
                "address": .string(c.address.description),
                "direction": .string(c.direction.rawValue),
                "transport": .string(c.transport),
            ]
            if let rtt = c.machine.lastRTT { row["rtt_ms"] = .double(Double(rtt / 1000) / 1000) }
            if let peer = c.remotePeer, let clock = core.clock.clocks[peer], let offset = clock.offsetMillis {
                // The peer's clock minus ours: +300000 for a peer five minutes ahead.
                row["clock_offset_ms"] = .double((offset * 10).rounded() / 10)
                row["clock_samples"] = .int(clock.samples.count)
                if clock.refusedOurWrites > 0 { row["refused_our_writes"] = .int(Int(clock.refusedOurWrites)) }
            }
            if let peer = c.remotePeer, engine.clockRefusals(from: peer.bytes) > 0 {
                row["writes_refused_for_clock"] = .int(engine.clockRefusals(from: peer.bytes))
            }
            if let peer = c.remotePeer, let last = reconcileService.last[peer] {
                row["last_sync"] = last.json
                row["in_sync"] = .bool(last.equal)
            }
            if let id = c.machine.identified {
                row["agent"] = id.agentVersion.map(JSON.string) ?? .null
                row["protocol_version"] = id.protocolVersion.map(JSON.string) ?? .null
                row["protocols"] = .array(id.protocols.map(JSON.string))
                row["listen_addrs"] = .array(id.listenAddrs.map { .string($0.description) })
            }
            rows.append(.object(row))
        }
        for target in peers.targets.values.sorted(by: { $0.address.description < $1.address.description })
        where !connections.contains(where: { $0.address == target.address || ($0.remotePeer != nil && $0.remotePeer == target.address.peerID) }) {
            rows.append([
                "peer_id": target.address.peerID.map { .string($0.description) } ?? .null,
                "state": .string(target.lastError == nil ? PeerState.connecting.rawValue : PeerState.failed.rawValue),
                "address": .string(target.address.description),
                "direction": "outbound",
                "last_error": target.lastError.map(JSON.string) ?? .null,
                "retries": .int(target.attempts),
            ])
        }
        for (peer, addresses) in (mdnsService?.found ?? [:]).sorted(by: { $0.key < $1.key }) where !peers.isConnectedOrDialing(peer) {
            rows.append(["peer_id": .string(peer.description), "state": .string(PeerState.peerFound.rawValue),
                         "address": .string(addresses.first?.description ?? ""), "direction": "mdns",
                         "addresses": .array(addresses.map { .string($0.description) })])
        }
        return ["peers": .array(rows)]
    }

    func statusJSON() -> JSON {
        let counts = (try? engine.counts()) ?? (live: 0, tombstones: 0)
        let uptime = reactor.now.duration(since: startedAt)
        return [
            "peer_id": .string(peerID.description),
            "state": .string(state.rawValue),
            "uptime_seconds": .int(Int(uptime.components.seconds)),
            "keys": .int(counts.live),
            "tombstones": .int(counts.tombstones),
            "connections": .int(peers.connectionCount),
            "connected_peers": .int(peers.connectedPeers.count),
            "topic": .string(configuration.topic),
            "listen_addrs": .array(listenAddresses.map { .string($0.description) }),
            "control_clients": .int(control.sessionCount),
            "local_writes": .int(engine.localWrites),
            "commits": .int(engine.commits),
            "remote_applied": .int(engine.remoteApplied),
            "remote_superseded": .int(engine.remoteSuperseded),
            "gossip": gossipStatusJSON(),
            "reconcile": reconcileStatusJSON(),
            "clock": clockStatusJSON(),
            "mdns": mdnsService.map(mdnsStatusJSON) ?? ["enabled": false],
            "dht": dhtStatusJSON(),
            "quic": quicStatusJSON(),
            "network": networkStatusJSON(),
            "group": group.statusJSON,
            "loop": loopStatusJSON(),
            "slow_commits": slowCommitsJSON(),
        ]
    }

    /// The event loop's turns: how many, how many took 10 ms or more (20 ms or more), the
    /// longest, and the slowest few with how long ago they ended.
    func loopStatusJSON() -> JSON {
        let stats = reactor.turnStatistics
        let now = reactor.now
        return [
            "turns": .int(stats.turns),
            "over_10ms": .int(stats.slow),
            "over_20ms": .int(stats.verySlow),
            "longest_ms": .double(stats.longest.milliseconds),
            "slowest": .array(stats.slowest.map {
                ["ms": .double($0.duration.milliseconds), "seconds_ago": .double(now.duration(since: $0.ended).milliseconds / 1000),
                 "events_ms": .double($0.events.milliseconds), "timers_ms": .double($0.timers.milliseconds),
                 "before_sleep_ms": .double($0.beforeSleep.milliseconds)]
            }),
        ]
    }

    /// Open, or a private network (its key's identifier, never the key) and the connections
    /// it refused.
    func networkStatusJSON() -> JSON {
        guard let swarmKey else { return ["mode": "open"] }
        let refusals = peers.privateNetworkRefusals
        var o: [String: JSON] = [
            "mode": "private",
            "swarm_key_id": .string(swarmKey.key.identifier),
            "swarm_key_path": .string(swarmKey.path),
            "refused_connections": .int(refusals.count),
        ]
        if let last = refusals.last {
            o["last_refused"] = .string("\(last.address): \(last.error)")
        }
        return .object(o)
    }

    /// The QUIC transport: its connections and its UDP sockets' counters.
    func quicStatusJSON() -> JSON {
        guard let quic = quicTransport else { return ["enabled": false] }
        var o: [String: JSON] = ["enabled": true]
        let sockets = quic.listeners.map(\.socket)
        o["connections"] = .int(peers.allConnections.filter { $0.transport == "quic" }.count)
        o["handshakes_in_progress"] = .int(quic.listeners.reduce(0) { $0 + $1.halfOpen })
        o["datagrams_received"] = .int(sockets.reduce(0) { $0 + $1.datagramsReceived })
        o["datagrams_sent"] = .int(sockets.reduce(0) { $0 + $1.datagramsSent })
        o["gso_sends"] = .int(sockets.reduce(0) { $0 + $1.gsoSends })
        o["dropped_sends"] = .int(sockets.reduce(0) { $0 + $1.droppedSends })
        o["truncated_datagrams"] = .int(sockets.reduce(0) { $0 + $1.truncatedDatagrams })
        o["initials_refused"] = .int(quic.initialsRefused)
        o["retries_sent"] = .int(quic.retriesSent)
        return .object(o)
    }

    func infoJSON() -> JSON {
        [
            "peer_id": .string(peerID.description),
            "agent_version": .string(ProductVersion.agent),
            "listen_addrs": .array(listenAddresses.map { .string($0.description) }),
            "data_dir": .string(configuration.dataDirectory.path),
            "control_socket": .string(configuration.controlPath),
            "store": .string(configuration.dataDirectory.storePath),
            "pid": .int(Int(getpid())),
            "protocols": .array(peers.registry.servedProtocolIDs.map(JSON.string)),
            "network": swarmKey.map { .string("private (swarm key \($0.key.identifier), \($0.path))") } ?? "open",
            "group": group.group.map { .string("\($0) (role: \(group.role?.rawValue ?? "none yet"))") } ?? "open (no group)",
        ]
    }

    func gossipStatusJSON() -> JSON {
        let c = gossip.counters
        return [
            "topic": .string(gossip.topic),
            "mesh_peers": .array(gossip.meshPeers.map { .string($0.description) }),
            "topic_peers": .int(gossip.topicPeers.count),
            "pubsub_peers": .int(gossip.pubsubPeerCount),
            "queued": .int(gossip.queuedCount),
            "published": .int(c.published),
            "received": .int(c.received),
            "duplicates": .int(c.duplicates),
            "invalid": .int(c.invalid),
            "invalid_payloads": .int(gossip.invalidPayloads),
            "announcements_received": .int(gossip.announcementsReceived),
            "ignored": .int(c.ignored),
            "forwarded": .int(c.forwarded),
            "sent_from_queue": .int(c.sentFromQueue),
            "queue_overflow": .int(c.queueOverflow),
            "ihave_sent": .int(c.ihaveSent),
            "iwant_sent": .int(c.iwantSent),
            "iwant_answered": .int(c.iwantAnswered),
            "heartbeats": .int(gossip.heartbeats),
        ]
    }

    /// Our clock against our peers' (issue 17), and the writes refused for a clock.
    func clockStatusJSON() -> JSON {
        let clock = core.clock
        var o: [String: JSON] = [
            "limit_ms": .int(Int(engine.maxClockSkewMillis)),
            "measured_peers": .int(clock.measuredPeerCount),
            "ahead": .bool(clock.isAhead),
            "local_writes_refused": .int(engine.localClockRefusals),
            "remote_writes_refused": .int(engine.clockRefusals),
            "refused_writes_kept_out": .int(engine.keptRefusedCount),
            "our_writes_refused_by_peers": .int(clock.peersRefusingOurWrites.reduce(0) { $0 + Int($1.clock.refusedOurWrites) }),
        ]
        if let ahead = clock.aheadMillis { o["ahead_of_peers_ms"] = .double((ahead * 10).rounded() / 10) }
        return .object(o)
    }

    /// The slowest commits of 10 ms or more, split (`SyncEngine.CommitTiming`).
    func slowCommitsJSON() -> JSON {
        let now = Instant.now().nanoseconds
        func ms(_ ns: UInt64) -> JSON { .double(Double(ns / 1_000) / 1_000) }
        return .array(engine.slowCommits.map { c in
            ["ms": ms(c.total), "seconds_ago": .double(Double((now &- c.at) / 1_000_000) / 1_000), "sign_ms": ms(c.sign),
             "store_ms": ms(c.store), "index_ms": ms(c.index), "rest_ms": ms(c.rest),
             "local_writes": .int(c.local), "remote_writes": .int(c.remote), "proofs": .int(c.proofs)]
        })
    }

    func reconcileStatusJSON() -> JSON {
        [
            "running": .int(reconcile.runningCount),
            "completed": .int(reconcile.completed),
            "failed": .int(reconcile.failed),
            "announced_wanted": .int(reconcile.wantedCount),
            "announced_fetched": .int(reconcile.fetchedAnnounced),
            "announced_abandoned": .int(reconcile.abandonedAnnounced),
            "announced_over_cap": .int(reconcile.announcedOverCap),
            "interval_seconds": .int(Int(ReconcileService.interval.components.seconds)),
            "peers": .object(Dictionary(uniqueKeysWithValues: reconcile.last.map { ($0.key.description, $0.value.json) })),
        ]
    }

    func mdnsStatusJSON(_ mdns: MDNSService) -> JSON {
        let c = mdns.machine.counters
        return [
            "enabled": .bool(mdns.socket != nil),
            "interfaces": .array(mdns.interfaces.values.filter(\.joined).map { .string($0.interface.name) }.sorted { $0.stringValue! < $1.stringValue! }),
            "interfaces_ipv6": .array(mdns.interfacesV6.filter(\.value.joined).keys.sorted().map(JSON.string)),
            "ipv6_packets_sent": .int(mdns.interfacesV6.values.reduce(0) { $0 + $1.sent }),
            "ipv6_packets_received": .int(mdns.interfacesV6.values.reduce(0) { $0 + $1.received }),
            "queries_sent": .int(c.queriesSent), "queries_answered": .int(c.queriesAnswered),
            "responses_received": .int(c.responsesReceived), "peers_found": .int(c.peersDiscovered),
            "malformed_packets": .int(c.malformedPackets), "known": .int(mdns.machine.known.count),
        ]
    }
}

extension ReconcileService.LastSync {
    var json: JSON {
        var o: [String: JSON] = [
            "at": .string(Timestamp.iso8601(millis: finishedAtMillis)), "ms": .double(milliseconds),
            "entries_sent": .int(entriesSent), "entries_received": .int(entriesReceived),
            "bytes_sent": .int(bytesSent), "bytes_received": .int(bytesReceived), "rounds": .int(rounds), "equal": .bool(equal),
        ]
        if let error { o["error"] = .string(error) }
        return .object(o)
    }
}
