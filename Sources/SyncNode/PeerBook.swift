import JSON
import Wire

/// `peers.json` in the data directory (DESIGN.md section 3): peers this node has been
/// connected to and the addresses to reach them, so that a restarted node reconnects
/// without `--peer`. Written whole (AtomicFile) a moment after it changes.
final class PeerBook {
    struct Record: Equatable {
        var addresses: [Multiaddr]
        var lastSeenMillis: UInt64
    }

    static let maxPeers = 256
    static let maxFileBytes = 4 << 20

    let path: String
    private(set) var records: [PeerID: Record] = [:]
    private(set) var loadError: String?

    init(path: String) {
        self.path = path
        load()
    }

    private func load() {
        guard let bytes = AtomicFile.read(path, limit: PeerBook.maxFileBytes) else { return }
        do {
            let json = try JSONParser.parse(bytes)
            for item in json["peers"]?.arrayValue ?? [] {
                guard let id = item["peer_id"]?.stringValue, let peer = try? PeerID(id) else { continue }
                let addresses = (item["addrs"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap { try? Multiaddr($0) } }
                let seen = UInt64(max(0, item["last_seen_ms"]?.intValue ?? 0))
                if !addresses.isEmpty { records[peer] = Record(addresses: addresses, lastSeenMillis: seen) }
            }
        } catch {
            // A damaged peers.json only costs reconnects: say so and start from nothing.
            loadError = "\(error)"
        }
    }

    /// Remembers where `peer` can be dialed (the address that worked first) and when.
    func saw(_ peer: PeerID, addresses: [Multiaddr], nowMillis: UInt64) {
        let dialable = addresses.map(\.withoutPeerID).filter(DHTService.dialable)
        var unique: [Multiaddr] = []
        for a in dialable where !unique.contains(a) { unique.append(a) }
        guard !unique.isEmpty else { return }
        records[peer] = Record(addresses: Array(unique.prefix(8)), lastSeenMillis: nowMillis)
        if records.count > PeerBook.maxPeers, let oldest = records.min(by: { $0.value.lastSeenMillis < $1.value.lastSeenMillis })?.key {
            records[oldest] = nil
        }
    }

    /// Holds exactly these peers from now on (the DHT's table, whole).
    func replace(with peers: [(PeerID, [Multiaddr])], nowMillis: UInt64) {
        records = [:]
        for (peer, addresses) in peers { saw(peer, addresses: addresses, nowMillis: nowMillis) }
    }

    /// The most recently seen peers first.
    func recent(_ count: Int) -> [(peer: PeerID, record: Record)] {
        records.sorted { $0.value.lastSeenMillis > $1.value.lastSeenMillis }.prefix(count).map { ($0.key, $0.value) }
    }

    /// Writes the file; the error text on failure.
    func save() -> String? {
        let peers: [JSON] = recent(PeerBook.maxPeers).map { entry in
            ["peer_id": .string(entry.peer.description), "addrs": .array(entry.record.addresses.map { .string($0.description) }),
             "last_seen_ms": .int(Int(entry.record.lastSeenMillis))]
        }
        var bytes = JSON.object(["peers": .array(peers)]).encoded()
        bytes.append(0x0a)
        return AtomicFile.write(bytes, to: path, mode: 0o600)
    }
}
