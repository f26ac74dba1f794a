import Kademlia
import Wire

/// What the node does with the DHT: announce and find its group, find a peer's addresses,
/// put and get value records. Each is a lookup (DHTService) and a few requests after it.
extension DHTService {
    /// Announces us as a provider of the group key to the k peers closest to it (and to our
    /// own store when we serve), then again every 22 hours.
    func provideGroup() {
        let me = KadPeer(id: local, addresses: peers.listenAddresses.map(\.withoutPeerID), connection: .connected)
        if serving { try? server.store.addProvider(key: groupKey, peer: local, addresses: me.addresses, from: nil, now: wallNanos()) }
        lookup(.findNode, key: groupKey) { [weak self] result in
            guard let self else { return }
            var sent = 0
            let message = KadMessage(type: .addProvider, key: self.groupKey, providerPeers: [me])
            for candidate in result.closest {
                self.request(message, to: candidate.peer, addresses: candidate.addresses) { _ in }
                sent += 1
            }
            self.logger.debug("DHT: provided the group key to \(sent) peer(s)")
        }
        scheduleRepublish()
    }

    /// Looks up the group's providers and dials those we are not connected to.
    func findGroup() {
        findProviders(key: groupKey) { [weak self] providers, _ in
            guard let self else { return }
            var dialed = 0
            for (peer, addresses) in providers where peer != self.local {
                self.groupMembersFound.insert(peer)
                if self.peers.connection(to: peer) != nil { self.noteGroupMemberConnected(peer) }
                guard !self.peers.isConnectedOrDialing(peer) else { continue }
                let candidates = DHTService.dialOrder(addresses.map(\.withoutPeerID).filter(DHTService.dialable))
                guard !candidates.isEmpty else { continue }
                dialed += 1
                self.dial(peer, candidates[...]) { [weak self] result in
                    if case .success = result { self?.noteGroupMemberConnected(peer) }
                }
            }
            self.lastGroupLookup = (self.loop.now, providers.count, dialed)
            // Found someone: the next lookup in 5 minutes. Found nobody yet: soon again, less
            // and less often (15 s doubling to 5 minutes) while the group stays empty.
            let others = providers.keys.filter { $0 != self.local }.count
            if others > 0 {
                self.lonelyDelay = DHTService.lonelyLookupInterval
                self.scheduleGroupLookup(after: DHTService.groupLookupInterval)
            } else {
                self.scheduleGroupLookup(after: self.lonelyDelay)
                self.lonelyDelay = min(self.lonelyDelay * 2, DHTService.groupLookupInterval)
            }
            self.logger.debug("DHT: \(providers.count) group provider(s) found, \(dialed) dialed")
        }
    }

    /// The providers of `key`: our own store's and those a GET_PROVIDERS lookup collects.
    func findProviders(key: [UInt8], completion: @escaping ([PeerID: [Multiaddr]], LookupResult) -> Void) {
        var found: [PeerID: [Multiaddr]] = [:]
        for provider in server.store.providers(forKey: key, now: wallNanos()) where provider.peer != local {
            found[provider.peer] = provider.addresses
        }
        lookup(.getProviders, key: key) { [local] result in
            for (peer, addresses) in result.providers where found[peer] == nil && peer != local { found[peer] = addresses }
            completion(found, result)
        }
    }

    /// A peer's addresses: from a connection, the table, or an iterative FIND_NODE that stops
    /// as soon as an answer names the peer with addresses.
    func findPeer(_ peer: PeerID, completion: @escaping (Result<[Multiaddr], DHTError>) -> Void) {
        if let connection = peers.connection(to: peer) {
            return completion(.success([connection.address.withoutPeerID] + (connection.machine.identified?.listenAddrs ?? [])))
        }
        let known = table.entry(for: peer)?.addresses ?? []
        if !known.isEmpty { return completion(.success(known)) }
        var found: [Multiaddr] = []
        lookup(.findNode, key: peer.bytes, enough: { _ in !found.isEmpty }, observe: { message in
            for p in message.closerPeers where p.id == peer && !p.addresses.isEmpty { found = p.addresses }
        }) { result in
            if !found.isEmpty { return completion(.success(found)) }
            completion(.failure(.requestFailed("\(peer) not found: \(result.queries) peer(s) asked, \(result.answered) answered, \(result.failed) failed, \(result.timedOut) did not answer in time")))
        }
    }

    /// PUT_VALUE to the k closest peers that answer (and to our own store when we serve).
    func putValue(key: [UInt8], value: [UInt8], completion: @escaping (Result<Int, DHTError>) -> Void) {
        let record = KadRecord(key: key, value: value, timeReceived: nil)
        if serving {
            if case .refuse(let why) = server.respond(to: KadMessage(type: .putValue, key: key, record: record), from: local,
                                                      now: wallNanos(), closestPeers: { _, _ in [] }) {
                return completion(.failure(.requestFailed("\(why)")))
            }
        }
        lookup(.findNode, key: key) { [weak self] result in
            guard let self else { return }
            let targets = result.closest
            guard !targets.isEmpty else {
                return completion(self.serving ? .success(0) : .failure(.requestFailed("no DHT peer answered")))
            }
            var pending = targets.count
            var stored = 0
            for candidate in targets {
                self.request(KadMessage(type: .putValue, key: key, record: record), to: candidate.peer,
                             addresses: candidate.addresses) { outcome in
                    if case .success(let reply?) = outcome, reply.record?.value == value { stored += 1 }
                    pending -= 1
                    if pending == 0 { completion(.success(stored)) }
                }
            }
        }
    }

    /// GET_VALUE from the closest peers; the newest record (by `timeReceived`) wins.
    func getValue(key: [UInt8], completion: @escaping (Result<KadRecord, DHTError>) -> Void) {
        var records: [KadRecord] = []
        if let own = server.store.value(forKey: key, now: wallNanos()) { records.append(own) }
        lookup(.getValue, key: key) { result in
            records += result.records
            guard let best = DHTService.newest(records) else {
                return completion(.failure(.requestFailed("no value for this key: \(result.answered) peer(s) answered, \(result.failed) failed")))
            }
            completion(.success(best))
        }
    }

    private func scheduleRepublish() {
        if let timer = republishTimer { loop.cancel(timer) }
        republishTimer = loop.after(DHTService.republishInterval) { [weak self] in self?.provideGroup() }
    }
}

extension DHTService {
    /// Newest wins: the record with the latest `timeReceived` (RFC 3339 UTC text of one width
    /// sorts as time does); records without one lose to any with one, the first found among equals.
    static func newest(_ records: [KadRecord]) -> KadRecord? {
        records.reduce(nil as KadRecord?) { best, record in
            guard let best else { return record }
            return (record.timeReceived ?? "") > (best.timeReceived ?? "") ? record : best
        }
    }
}

extension DHTService {
    /// The first group member the DHT found (a provider of our group key that is not one of
    /// our bootstrap peers) is connected, whoever dialed: perf/run reports the time from start.
    func noteGroupMemberConnected(_ peer: PeerID) {
        guard firstGroupPeer == nil, let started = startedAt, groupMembersFound.contains(peer),
              !bootstrapPeers.contains(where: { $0.peerID == peer }) else { return }
        firstGroupPeer = loop.now.duration(since: started)
        logger.info("DHT: first group member found through the DHT is connected: \(peer), \(firstGroupPeer!) after start")
    }
}
