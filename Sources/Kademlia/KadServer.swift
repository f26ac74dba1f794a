import Wire

/// Answers one inbound Kademlia request (libp2p-wire.md section 8.1's table), with no I/O: the
/// routing table is reached through the `closestPeers` closure, records through `store`.
///
/// | request | answer |
/// |---|---|
/// | FIND_NODE | `closerPeers`: the k closest we know to `key` |
/// | GET_VALUE | `record` if we hold it, plus `closerPeers` |
/// | PUT_VALUE | echo of the request, once validated and stored |
/// | ADD_PROVIDER | none: entries whose ID is the sender's are stored |
/// | GET_PROVIDERS | `providerPeers` + `closerPeers` |
/// | PING | PING (deprecated: answered, never sent) |
public struct KadServer: Sendable {
    /// Bucket size and answer size, k = 20 in go, rust, py and the spec.
    public static let k = 20

    public enum Answer: Equatable, Sendable {
        case reply(KadMessage)
        /// ADD_PROVIDER: nothing goes back.
        case noReply
        /// The request is not acceptable; the node resets the stream (as go does on a handler
        /// error) and may log the reason.
        case refuse(KadServerRefusal)
    }

    public var store: KadRecordStore

    public init(store: KadRecordStore = KadRecordStore()) { self.store = store }

    /// The answer to `request` from `sender`. `closestPeers(key, count)` is the routing table's
    /// nearest peers to `key` (raw bytes; the table hashes them), closest first.
    public mutating func respond(to request: KadMessage, from sender: PeerID, now: UInt64,
                                 closestPeers: (_ key: [UInt8], _ count: Int) -> [KadPeer]) -> Answer {
        let key = request.key
        // Any key longer than the longest record key we keep is no key of ours: refuse before
        // hashing it for a lookup.
        guard key.count <= store.limits.maxKeyBytes else {
            return .refuse(.store(.keyTooLong(key.count, limit: store.limits.maxKeyBytes)))
        }
        // go excludes the requester from the peers it returns: it knows itself.
        func closer() -> [KadPeer] {
            Array(closestPeers(key, Self.k + 1).lazy.filter { $0.id != sender }.prefix(Self.k))
        }
        switch request.type {
        case .ping:
            return .reply(KadMessage(type: .ping))
        case .findNode:
            return .reply(KadMessage(type: .findNode, key: key, closerPeers: closer()))
        case .getValue:
            guard !key.isEmpty else { return .refuse(.emptyKey(request.type)) }
            return .reply(KadMessage(type: .getValue, key: key, record: store.value(forKey: key, now: now),
                                     closerPeers: closer()))
        case .putValue:
            guard let record = request.record else { return .refuse(.missingRecord) }
            guard record.key == key else { return .refuse(.recordKeyMismatch) }
            do { try store.putValue(record, from: sender, now: now) } catch { return .refuse(.store(error)) }
            return .reply(request)
        case .addProvider:
            guard !key.isEmpty else { return .refuse(.emptyKey(request.type)) }
            // Only the sender may announce itself (go, rust and py all drop the other entries).
            let own = request.providerPeers.filter { $0.id == sender }
            guard let entry = own.first else { return .refuse(.noProviderFromSender(request.providerPeers.count)) }
            do {
                try store.addProvider(key: key, peer: sender, addresses: entry.addresses, from: sender, now: now)
            } catch {
                return .refuse(.store(error))
            }
            return .noReply
        case .getProviders:
            guard !key.isEmpty else { return .refuse(.emptyKey(request.type)) }
            let providers = store.providers(forKey: key, now: now).prefix(Self.k).map {
                KadPeer(id: $0.peer, addresses: $0.addresses)
            }
            return .reply(KadMessage(type: .getProviders, key: key, closerPeers: closer(), providerPeers: Array(providers)))
        }
    }
}

/// Why `KadServer` refused a request.
public enum KadServerRefusal: Error, Equatable, Sendable, CustomStringConvertible {
    case emptyKey(KadMessage.MessageType)
    /// PUT_VALUE without a record.
    case missingRecord
    /// PUT_VALUE whose `record.key` is not its `key` (the spec requires them equal).
    case recordKeyMismatch
    /// ADD_PROVIDER with no provider entry for the sender (`count` entries for others).
    case noProviderFromSender(Int)
    case store(KadStoreRefusal)

    public var description: String {
        switch self {
        case .emptyKey(let type): "\(type) request with an empty key"
        case .missingRecord: "PUT_VALUE request without a record"
        case .recordKeyMismatch: "PUT_VALUE request whose record key differs from the message key"
        case .noProviderFromSender(let n):
            "ADD_PROVIDER request with no entry for its sender (\(n) for other peers, which only they may announce)"
        case .store(let refusal): "\(refusal)"
        }
    }
}
