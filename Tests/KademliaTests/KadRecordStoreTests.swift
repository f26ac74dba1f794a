import Kademlia
import Testing
import TestSupport
import Wire

@Suite struct KadRecordStoreTests {
    static let second: UInt64 = 1_000_000_000
    /// 2026-11-25T12:00:00Z in nanoseconds since the epoch.
    static let t0: UInt64 = 1_795_608_000 * second
    let alice = KadTestPeers.id(1)
    let bob = KadTestPeers.id(2)

    @Test func aPutIsServedWithOurTimeReceivedAndTheNewestWins() throws {
        var store = KadRecordStore()
        try store.putValue(KadRecord(key: [1], value: [10], timeReceived: "1999-01-01T00:00:00Z"), from: alice, now: Self.t0)
        #expect(store.value(forKey: [1], now: Self.t0) == KadRecord(key: [1], value: [10], timeReceived: "2026-11-25T12:00:00Z"))
        try store.putValue(KadRecord(key: [1], value: [11, 12]), from: bob, now: Self.t0 + 500_000_000)
        #expect(store.value(forKey: [1], now: Self.t0 + Self.second)
            == KadRecord(key: [1], value: [11, 12], timeReceived: "2026-11-25T12:00:00.5Z"))
        #expect(store.totalValueBytes == 2)
    }

    @Test func valuesExpireAfter48Hours() throws {
        var store = KadRecordStore()
        try store.putValue(KadRecord(key: [1], value: [10]), from: nil, now: Self.t0)
        #expect(store.value(forKey: [1], now: Self.t0 + KadRecordStore.recordTTL - 1) != nil)
        #expect(store.value(forKey: [1], now: Self.t0 + KadRecordStore.recordTTL) == nil)
        store.expire(now: Self.t0 + KadRecordStore.recordTTL)
        #expect(store.records.isEmpty)
        #expect(store.totalValueBytes == 0)
    }

    @Test func sizeLimitsAreTypedRefusals() throws {
        var limits = KadRecordStore.Limits()
        limits.maxRecords = 2
        limits.maxTotalValueBytes = 100_000
        var store = KadRecordStore(limits: limits)
        #expect(throws: KadStoreRefusal.emptyKey) { try store.putValue(KadRecord(key: [], value: [1]), from: nil, now: Self.t0) }
        #expect(throws: KadStoreRefusal.keyTooLong(257, limit: 256)) {
            try store.putValue(KadRecord(key: [UInt8](repeating: 1, count: 257), value: [1]), from: nil, now: Self.t0)
        }
        #expect(throws: KadStoreRefusal.valueTooLarge(65_537, limit: 65_536)) {
            try store.putValue(KadRecord(key: [1], value: [UInt8](repeating: 1, count: 65_537)), from: nil, now: Self.t0)
        }
        try store.putValue(KadRecord(key: [1], value: [UInt8](repeating: 1, count: 60_000)), from: nil, now: Self.t0)
        #expect(throws: KadStoreRefusal.storeFull(limit: 100_000)) {
            try store.putValue(KadRecord(key: [2], value: [UInt8](repeating: 1, count: 60_000)), from: nil, now: Self.t0)
        }
        // Replacing a value frees its bytes first.
        try store.putValue(KadRecord(key: [1], value: [UInt8](repeating: 2, count: 65_536)), from: nil, now: Self.t0)
        try store.putValue(KadRecord(key: [2], value: [2]), from: nil, now: Self.t0)
        #expect(throws: KadStoreRefusal.tooManyRecords(limit: 2)) {
            try store.putValue(KadRecord(key: [3], value: [3]), from: nil, now: Self.t0)
        }
        // An expired record makes room even before `expire` runs.
        try store.putValue(KadRecord(key: [3], value: [3]), from: nil, now: Self.t0 + KadRecordStore.recordTTL)
        #expect(store.records.count == 1)
        #expect(store.totalValueBytes == 1)
    }

    @Test func putsAreRateLimitedPerPeer() throws {
        var store = KadRecordStore()
        for i in 0..<50 { try store.putValue(KadRecord(key: [UInt8(i)], value: [1]), from: alice, now: Self.t0) }
        #expect(throws: KadStoreRefusal.rateLimited(alice, what: "PUT_VALUE")) {
            try store.putValue(KadRecord(key: [99], value: [1]), from: alice, now: Self.t0)
        }
        // Another peer has its own bucket, and our own node has none.
        try store.putValue(KadRecord(key: [100], value: [1]), from: bob, now: Self.t0)
        try store.putValue(KadRecord(key: [101], value: [1]), from: nil, now: Self.t0)
        // 10 a second: after 100 ms one more token.
        try store.putValue(KadRecord(key: [99], value: [1]), from: alice, now: Self.t0 + Self.second / 10)
        #expect(throws: KadStoreRefusal.self) { try store.putValue(KadRecord(key: [98], value: [1]), from: alice, now: Self.t0 + Self.second / 10) }
    }

    @Test func theRateLimiterTableStaysBounded() {
        var limiter = KadRateLimiter(ratePerSecond: 10, burst: 2, maxTrackedPeers: 4)
        for n in 1...10 {
            let allowed = limiter.allow(KadTestPeers.id(UInt8(n)), now: Self.t0)
            #expect(allowed)
        }
        #expect(limiter.trackedPeers == 4)
        // Ties go to the smallest ID, so 7 to 10 are tracked: peer 10 has its second token, then none.
        let second = limiter.allow(KadTestPeers.id(10), now: Self.t0)
        let third = limiter.allow(KadTestPeers.id(10), now: Self.t0)
        #expect(second && !third)
        // Idle buckets are pruned first.
        let later = limiter.allow(KadTestPeers.id(11), now: Self.t0 + Self.second)
        #expect(later)
        #expect(limiter.trackedPeers == 1)
    }

    @Test func providersAreKeptPerKeyRefreshedAndExpired() throws {
        var store = KadRecordStore()
        let key = [UInt8](repeating: 0xaa, count: 34)
        try store.addProvider(key: key, peer: alice, addresses: [KadTestPeers.address(1)], from: alice, now: Self.t0)
        try store.addProvider(key: key, peer: bob, addresses: [], from: bob, now: Self.t0 + Self.second)
        try store.addProvider(key: key, peer: alice, addresses: [KadTestPeers.address(2)], from: alice, now: Self.t0 + 2 * Self.second)
        let providers = store.providers(forKey: key, now: Self.t0 + 3 * Self.second)
        #expect(providers.map(\.peer) == [alice, bob])
        #expect(providers[0].addresses == [KadTestPeers.address(2)])
        #expect(store.providers(forKey: key, now: Self.t0 + Self.second + KadRecordStore.providerTTL).map(\.peer) == [alice])
        store.expire(now: Self.t0 + 2 * Self.second + KadRecordStore.providerTTL)
        #expect(store.providers.isEmpty)
        #expect(KadRecordStore.providerRepublishInterval < KadRecordStore.providerTTL)
    }

    @Test func providerBoundsHold() throws {
        var limits = KadRecordStore.Limits()
        limits.maxProviderKeys = 2
        limits.maxProvidersPerKey = 3
        limits.maxAddressesPerProvider = 2
        var store = KadRecordStore(limits: limits)
        #expect(throws: KadStoreRefusal.keyTooLong(81, limit: 80)) {
            try store.addProvider(key: [UInt8](repeating: 1, count: 81), peer: alice, addresses: [], from: alice, now: Self.t0)
        }
        for n in 1...4 {
            try store.addProvider(key: [1], peer: KadTestPeers.id(UInt8(n)), addresses: (0..<5).map(KadTestPeers.address),
                                  from: nil, now: Self.t0 + UInt64(n))
        }
        // The fourth pushed out the one that expires soonest, the first.
        let providers = store.providers(forKey: [1], now: Self.t0 + 10)
        #expect(providers.map(\.peer) == [KadTestPeers.id(2), KadTestPeers.id(3), KadTestPeers.id(4)])
        #expect(providers.allSatisfy { $0.addresses.count == 2 })
        try store.addProvider(key: [2], peer: alice, addresses: [], from: nil, now: Self.t0)
        #expect(throws: KadStoreRefusal.tooManyProviderKeys(limit: 2)) {
            try store.addProvider(key: [3], peer: alice, addresses: [], from: nil, now: Self.t0)
        }
    }

    @Test func addProviderIsRateLimitedSeparatelyFromPut() throws {
        var store = KadRecordStore(providerLimiter: KadRateLimiter(ratePerSecond: 1, burst: 1))
        try store.addProvider(key: [1], peer: alice, addresses: [], from: alice, now: Self.t0)
        #expect(throws: KadStoreRefusal.rateLimited(alice, what: "ADD_PROVIDER")) {
            try store.addProvider(key: [2], peer: alice, addresses: [], from: alice, now: Self.t0)
        }
        try store.putValue(KadRecord(key: [1], value: [1]), from: alice, now: Self.t0)
    }
    /// timeReceived is RFC 3339 UTC as go's RFC3339Nano prints it: a leap day, and nanoseconds.
    @Test(arguments: [(UInt64(1_709_251_199) * 1_000_000_000 + 1, "2024-02-29T23:59:59.000000001Z"),
                      (UInt64(951_868_800) * 1_000_000_000 + 120_000_000, "2000-03-01T00:00:00.12Z"),
                      (UInt64(0), "1970-01-01T00:00:00Z")])
    func timeReceivedIsRFC3339(_ now: UInt64, _ text: String) throws {
        var store = KadRecordStore()
        try store.putValue(KadRecord(key: [1], value: [1]), from: nil, now: now)
        #expect(store.value(forKey: [1], now: now)?.timeReceived == text)
    }
}
