import Wire

/// The records a DHT server holds for others (libp2p-wire.md section 8.3): value records from
/// PUT_VALUE and provider records from ADD_PROVIDER, with their expiry, bounds and per-peer
/// rate limits. A value type with no clock: every call takes `now`, nanoseconds since the Unix
/// epoch (the stored record's `timeReceived` is printed from it).
///
/// Values: newest wins (a PUT replaces what is stored under the key; we keep no validator, like
/// rust's `StoreInserts::Unfiltered` and py's default), kept `recordTTL`. Providers: key to
/// peers with addresses, each kept `providerTTL` from its last ADD_PROVIDER.
public struct KadRecordStore: Sendable {
    /// 48 h: go `MaxRecordAge`, rust `record_ttl`, py.
    public static let recordTTL: UInt64 = 48 * 3600 * 1_000_000_000
    /// 48 h: go, rust and the spec.
    public static let providerTTL: UInt64 = 48 * 3600 * 1_000_000_000
    /// 22 h: how often a node should re-announce what it provides (go and the spec; rust 12 h).
    /// Exported for the node; the store itself only expires.
    public static let providerRepublishInterval: UInt64 = 22 * 3600 * 1_000_000_000

    /// Every bound, with its unit. The defaults hold worst-case about 64 MiB of values plus
    /// 10,000 × 64 provider entries of at most 16 addresses: a few hundred MiB only under a
    /// concerted attack, a few MiB in practice.
    public struct Limits: Sendable {
        /// Value records held (rust's MemoryStore default is 1024; we hold more, smaller ones).
        public var maxRecords = 4096
        /// Bytes of one value: 64 KiB (rust's MemoryStore allows 65 KiB; larger could not be
        /// served to rust peers anyway, whose messages stop at 16 KiB).
        public var maxValueBytes = 65_536
        /// Bytes of all values together: 64 MiB.
        public var maxTotalValueBytes = 64 << 20
        /// Bytes of a record key.
        public var maxKeyBytes = 256
        /// Bytes of a provider key: go refuses longer (`80`, a multihash with room to spare).
        public var maxProviderKeyBytes = 80
        /// Keys with providers (rust's default is 1024 provided keys per node *it* publishes;
        /// what others announce to us needs more).
        public var maxProviderKeys = 10_000
        /// Providers per key (rust `max_providers_per_key` is 20); when full, the one that
        /// expires soonest gives way, so a squatter cannot hold a key for 48 h unchallenged.
        public var maxProvidersPerKey = 64
        /// Addresses kept per provider.
        public var maxAddressesPerProvider = 16

        public init() {}
    }

    public struct StoredRecord: Equatable, Sendable {
        /// As we serve it: `timeReceived` is ours.
        public var record: KadRecord
        public var expiresAt: UInt64
    }

    public struct Provider: Equatable, Sendable {
        public var peer: PeerID
        public var addresses: [Multiaddr]
        public var expiresAt: UInt64
    }

    public let limits: Limits
    public private(set) var records: [[UInt8]: StoredRecord] = [:]
    public private(set) var providers: [[UInt8]: [Provider]] = [:]
    /// Sum of the stored values' sizes.
    public private(set) var totalValueBytes = 0
    private var putLimiter: KadRateLimiter
    private var providerLimiter: KadRateLimiter

    /// Rate limits default to 10 requests a second per peer with a burst of 50, for PUT_VALUE
    /// and ADD_PROVIDER separately (a node republishing many provider records at once sends
    /// them in a burst, then nothing for 22 h).
    public init(limits: Limits = Limits(), putLimiter: KadRateLimiter = KadRateLimiter(),
                providerLimiter: KadRateLimiter = KadRateLimiter()) {
        self.limits = limits
        self.putLimiter = putLimiter
        self.providerLimiter = providerLimiter
    }

    // MARK: Values

    /// Stores `record` under its key, replacing any older value. `sender` nil is our own node
    /// (not rate limited).
    public mutating func putValue(_ record: KadRecord, from sender: PeerID?, now: UInt64) throws(KadStoreRefusal) {
        guard !record.key.isEmpty else { throw .emptyKey }
        guard record.key.count <= limits.maxKeyBytes else { throw .keyTooLong(record.key.count, limit: limits.maxKeyBytes) }
        guard record.value.count <= limits.maxValueBytes else {
            throw .valueTooLarge(record.value.count, limit: limits.maxValueBytes)
        }
        // The token is taken before any work that may scan the store (expiring to make room),
        // so no peer makes us scan faster than its rate; requests refused for their own shape
        // above cost nothing.
        if let sender, !putLimiter.allow(sender, now: now) { throw .rateLimited(sender, what: "PUT_VALUE") }
        let old = records[record.key]
        if old == nil, records.count >= limits.maxRecords {
            // Expired records still count until `expire`; drop them before refusing.
            expireValues(now: now)
            guard records.count < limits.maxRecords else { throw .tooManyRecords(limit: limits.maxRecords) }
        }
        let total = totalValueBytes - (old?.record.value.count ?? 0) + record.value.count
        guard total <= limits.maxTotalValueBytes else { throw .storeFull(limit: limits.maxTotalValueBytes) }
        var stored = record
        stored.timeReceived = KadTimestamp.rfc3339(nanoseconds: now)
        records[record.key] = StoredRecord(record: stored, expiresAt: now &+ Self.recordTTL)
        totalValueBytes = total
    }

    /// The live record under `key`, with the `timeReceived` we gave it.
    public func value(forKey key: [UInt8], now: UInt64) -> KadRecord? {
        guard let stored = records[key], stored.expiresAt > now else { return nil }
        return stored.record
    }

    // MARK: Providers

    /// Records that `peer` provides `key`, reachable at `addresses` (a refresh when known).
    /// `sender` nil is our own node. The server checks that `peer` is the sender.
    public mutating func addProvider(key: [UInt8], peer: PeerID, addresses: [Multiaddr], from sender: PeerID?,
                                     now: UInt64) throws(KadStoreRefusal) {
        guard !key.isEmpty else { throw .emptyKey }
        guard key.count <= limits.maxProviderKeyBytes else { throw .keyTooLong(key.count, limit: limits.maxProviderKeyBytes) }
        // As for values: the token first, then any scan.
        if let sender, !providerLimiter.allow(sender, now: now) { throw .rateLimited(sender, what: "ADD_PROVIDER") }
        if providers[key] == nil, providers.count >= limits.maxProviderKeys {
            expireProviders(now: now)
            guard providers.count < limits.maxProviderKeys else { throw .tooManyProviderKeys(limit: limits.maxProviderKeys) }
        }
        let entry = Provider(peer: peer, addresses: Array(addresses.prefix(limits.maxAddressesPerProvider)),
                             expiresAt: now &+ Self.providerTTL)
        var list = providers[key, default: []].filter { $0.expiresAt > now }
        if let i = list.firstIndex(where: { $0.peer == peer }) {
            list[i] = entry
        } else {
            if list.count >= limits.maxProvidersPerKey,
               let soonest = list.indices.min(by: { list[$0].expiresAt < list[$1].expiresAt }) {
                list.remove(at: soonest)
            }
            list.append(entry)
        }
        providers[key] = list
    }

    /// The live providers of `key`, in the order they first announced themselves.
    public func providers(forKey key: [UInt8], now: UInt64) -> [Provider] {
        (providers[key] ?? []).filter { $0.expiresAt > now }
    }

    // MARK: Expiry

    /// Drops every value and provider entry whose time is up. The node calls it now and then
    /// (say every few minutes); reads already hide expired entries.
    public mutating func expire(now: UInt64) {
        expireValues(now: now)
        expireProviders(now: now)
    }

    private mutating func expireValues(now: UInt64) {
        for (key, stored) in records where stored.expiresAt <= now {
            records[key] = nil
            totalValueBytes -= stored.record.value.count
        }
    }

    private mutating func expireProviders(now: UInt64) {
        for (key, list) in providers {
            let live = list.filter { $0.expiresAt > now }
            providers[key] = live.isEmpty ? nil : live
        }
    }
}
