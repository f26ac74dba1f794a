import ControlProtocol
import JSON
import Kademlia
import Reactor
import Swarm
import Wire

/// The control commands, status and doctor findings of the DHT (issue 12).
extension Node {
    var dht: DHTService { core.dht }

    func handleDHT(_ command: ControlCommand, id: JSON, session: ControlSession) {
        func fail(_ code: ControlError.Code, _ message: String) {
            session.send(.failure(ControlError(code, message, id: id)))
        }
        if !dht.enabled, command != .dht {
            return fail(.unavailable, "the DHT is off (--dht-mode off): restart the daemon without it")
        }
        switch command {
        case .dht:
            session.send(.success(id: id, result: dhtJSON()))
        case .dhtFindPeer(let text):
            let peer: PeerID
            do { peer = try PeerID(text) } catch { return fail(.invalidArgument, "\(error)") }
            dht.findPeer(peer) { result in
                switch result {
                case .success(let addresses):
                    session.send(.success(id: id, result: ["peer_id": .string(peer.description),
                                                           "addrs": .array(addresses.map { .string($0.description) })]))
                case .failure(let error): fail(.notFound, "\(error)")
                }
            }
        case .dhtProviders(let topic):
            let topic = topic ?? configuration.topic
            dht.findProviders(key: DHTService.groupKey(topic: topic)) { providers, lookup in
                let list: [JSON] = providers.sorted { $0.key < $1.key }.map { peer, addresses in
                    ["peer_id": .string(peer.description), "addrs": .array(addresses.map { .string($0.description) }),
                     "connected": .bool(self.peers.connection(to: peer) != nil)]
                }
                let millis = lookup.finished.map { $0.duration(since: lookup.started).milliseconds }
                session.send(.success(id: id, result: ["topic": .string(topic), "key": .string(DHTService.groupCID(topic: topic)),
                                                       "providers": .array(list), "lookup_ms": millis.map(JSON.double) ?? .null,
                                                       "queries": .int(lookup.queries), "answers": .int(lookup.answered)]))
            }
        case .dhtPut(let key, let value):
            dht.putValue(key: Array(key.utf8), value: Array(value.utf8)) { result in
                switch result {
                case .success(let stored): session.send(.success(id: id, result: ["key": .string(key), "stored_at": .int(stored)]))
                case .failure(let error): fail(.unavailable, "\(error)")
                }
            }
        case .dhtGet(let key):
            dht.getValue(key: Array(key.utf8)) { result in
                switch result {
                case .success(let record):
                    session.send(.success(id: id, result: ["key": .string(key), "value": .string(String(decoding: record.value, as: UTF8.self)),
                                                           "time_received": record.timeReceived.map(JSON.string) ?? .null]))
                case .failure(let error): fail(.notFound, "\(error)")
                }
            }
        default:
            break
        }
    }

    /// `connect PEER_ID`: the address comes from the DHT.
    func connectByPeerID(_ peer: PeerID, completion: @escaping (Result<PeerConnection, DHTError>) -> Void) {
        if let existing = peers.connection(to: peer) { return completion(.success(existing)) }
        guard dht.enabled else {
            return completion(.failure(.requestFailed("a peer ID alone needs the DHT, which is off (--dht-mode off): give its multiaddr")))
        }
        dht.findPeer(peer) { [weak self] result in
            guard let self else { return }
            switch result {
            case .success(let addresses):
                let candidates = DHTService.dialOrder(addresses.map(\.withoutPeerID).filter(DHTService.dialable))
                guard !candidates.isEmpty else {
                    return completion(.failure(.requestFailed("the DHT knows \(peer) only at addresses we cannot dial")))
                }
                self.dht.dial(peer, candidates[...]) { outcome in
                    switch outcome {
                    case .success(let connection): completion(.success(connection))
                    case .failure(let error): completion(.failure(error))
                    }
                }
            case .failure(let error):
                completion(.failure(error))
            }
        }
    }

    func dhtJSON() -> JSON {
        guard dht.enabled else { return ["mode": "off"] }
        let now = reactor.now
        var buckets: [JSON] = []
        for (index, size) in dht.table.bucketSizes.enumerated() where size > 0 {
            buckets.append(["bucket": .int(index), "peers": .int(size)])
        }
        var result: [String: JSON] = [
            "mode": .string(dht.serving ? "server" : "client"),
            "protocol": .string(dht.protocolID),
            "routing_table": .int(dht.table.count),
            "buckets": .array(buckets),
            "records": .int(dht.server.store.records.count),
            "provider_keys": .int(dht.server.store.providers.count),
            "group_key": .string(DHTService.groupCID(topic: configuration.topic)),
            "bootstrap_peers": .array(dht.bootstrapPeers.map { .string($0.description) }),
            "lookups": .int(dht.lookupsRun),
            "requests_served": .int(dht.requestsServed),
            "requests_refused": .int(dht.requestsRefused),
        ]
        if let last = dht.lastBootstrap {
            result["last_bootstrap"] = ["seconds_ago": .int(Int(now.duration(since: last.at).components.seconds)), "outcome": .string(last.outcome)]
        }
        if let first = dht.firstGroupPeer {
            result["first_group_peer_ms"] = .double(first.milliseconds)
        }
        if let last = dht.lastGroupLookup {
            result["last_group_lookup"] = ["seconds_ago": .int(Int(now.duration(since: last.at).components.seconds)),
                                           "providers": .int(last.found), "dialed": .int(last.dialed)]
        }
        return .object(result)
    }

    /// The one-line summary `status` shows.
    func dhtStatusJSON() -> JSON {
        guard dht.enabled else { return ["mode": "off"] }
        var result: [String: JSON] = ["mode": .string(dht.serving ? "server" : "client"), "routing_table": .int(dht.table.count)]
        if let last = dht.lastBootstrap { result["bootstrap"] = .string(last.outcome) }
        if let last = dht.lastGroupLookup { result["group_providers"] = .int(last.found) }
        return .object(result)
    }

    func dhtFindings(_ d: inout Doctor) {
        guard dht.enabled else {
            return d.warn("the DHT is off (--dht-mode off): peers beyond the LAN are found only by --peer and connect",
                          fix: "restart without --dht-mode off and with --bootstrap to find group members anywhere")
        }
        let bootstrap = dht.bootstrapPeers
        if dht.table.count > 0 {
            d.ok("DHT (\(dht.serving ? "server" : "client") mode): \(dht.table.count) peer(s) in the routing table")
        } else if bootstrap.isEmpty {
            d.warn("DHT: no bootstrap peer and an empty routing table: only mDNS and --peer find peers",
                   fix: "start with --bootstrap /ip4/HOST/tcp/PORT/p2p/PEER_ID of any node already in the DHT")
        } else {
            for address in bootstrap {
                guard let peer = address.peerID else { continue }
                if let connection = peers.connection(to: peer) {
                    let speaks = connection.machine.identified?.protocols.contains(dht.protocolID) ?? false
                    if !speaks {
                        d.fail("DHT: bootstrap peer \(peer) is connected but does not serve \(dht.protocolID)",
                               fix: "it runs in client mode or speaks another DHT protocol: start it with --dht-mode server, or give both the same --dht-protocol")
                    }
                } else {
                    let why = peers.lastFailure[peer] ?? "no dial has finished yet"
                    d.fail("DHT: bootstrap peer \(address) does not answer: \(why)", fix: Doctor.advice(for: why))
                }
            }
        }
        if let last = dht.lastBootstrap, !last.outcome.hasPrefix("ok") {
            d.warn("DHT: the last bootstrap failed: \(last.outcome)", fix: "check the bootstrap peers above; it is retried every few seconds to 5 minutes")
        }
    }
}
