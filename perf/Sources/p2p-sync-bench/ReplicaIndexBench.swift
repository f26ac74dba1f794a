#if canImport(Glibc)
import Glibc
#endif
import CMallocCounter
import JSON
import P2PCrypto
import Reconcile
import SyncStore
import Wire

// p2p-sync-bench index [--keys N] [--seed X]
//
// The reconcile index at a replica's scale (issue 15), in one process: N random keys of 16 to
// 40 bytes (default 1,000,000) with versions from 8 origins, each origin its own 38-byte array
// as the store's `versions()` returns it. Reports:
// - the build from sorted items, SHA-256 of each item included, as at a node's first digest
//   (hash_s: the hashing alone);
// - the memory it added per key, keys and versions included (the index holds them): RSS, and
//   the heap in use, which leaves out freed chunks that RSS keeps, such as each row's origin;
// - 10,000 writes as the node makes them, an insert (SHA-256 included) then the total
//   fingerprint (what `digest` reads), each timed on its own, and their mallocs;
// - 10,000 fingerprints of random key ranges (what a reconcile session asks).

/// Resident bytes of this process, from /proc/self/statm (its second field, in pages).
func residentBytes() -> Int {
    guard let file = fopen("/proc/self/statm", "r") else { fail("cannot read /proc/self/statm") }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 256)
    guard fgets(&line, Int32(line.count), file) != nil else { fail("cannot read /proc/self/statm") }
    let fields = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { fail("cannot parse /proc/self/statm") }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

private func randomKey(_ random: inout SplitMix64) -> [UInt8] {
    // Printable ASCII, as most keys are; the order is byte order either way.
    (0..<Int.random(in: 16...40, using: &random)).map { _ in UInt8.random(in: 0x21...0x7e, using: &random) }
}

private func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

func indexBench(_ o: [String: Int]) {
    let count = o["keys"] ?? 1_000_000
    var random = SplitMix64(seed: UInt64(o["seed"] ?? 15))
    let origins = (0..<8).map { i in [0x00, 0x24, 0x08, 0x01, 0x12, 0x20] + [UInt8](repeating: UInt8(i + 1), count: 32) }
    let residentBefore = residentBytes(), heapBefore = cmalloc_counter_bytes_in_use()

    var keys = (0..<count).map { _ in randomKey(&random) }
    keys.sort { ReplicaIndex.less($0, $1) }
    var items: [ItemID] = []
    items.reserveCapacity(keys.count)
    for key in keys where items.last?.key != key {
        // A copy of the origin per item, not a shared buffer: what the store's rows give.
        let origin = origins[Int.random(in: 0..<origins.count, using: &random)].withUnsafeBufferPointer { Array($0) }
        let hlc = HLC(physicalMillis: 1_795_000_000_000 + UInt64.random(in: 0..<86_400_000, using: &random), logical: 0)
        items.append(ItemID(key: key, version: Version(hlc: hlc, origin: origin)))
    }
    keys = []

    // The hashing alone, the floor of any build: the rest of build_s is the tree's.
    let hashStart = monotonicSeconds()
    var hashes: UInt64 = 0
    for item in items { hashes ^= ReplicaIndex.fingerprint(of: item, hash: SHA256.hash).low }
    let hashSeconds = monotonicSeconds() - hashStart

    let buildStart = monotonicSeconds()
    var index = ReplicaIndex(sortedItems: items, hash: SHA256.hash)
    let buildSeconds = monotonicSeconds() - buildStart
    let built = items.count
    items = []
    let residentAfter = residentBytes(), heapAfter = cmalloc_counter_bytes_in_use()

    // Writes: new keys, each an insert then the total fingerprint, as a commit then a digest.
    var writeSeconds: [Double] = []
    writeSeconds.reserveCapacity(10_000)
    var digests = hashes
    let allocationsBefore = cmalloc_counter_allocations()
    for i in 0..<10_000 {
        let item = ItemID(key: randomKey(&random), version: Version(hlc: HLC(physicalMillis: 1_795_100_000_000 + UInt64(i), logical: 0), origin: origins[i % origins.count]))
        let start = monotonicSeconds()
        index.insert(item, hash: SHA256.hash)
        digests ^= index.fingerprint.low
        writeSeconds.append(monotonicSeconds() - start)
    }
    let writeAllocations = Double(cmalloc_counter_allocations() - allocationsBefore) / 10_000

    // Reads: the fingerprint of a random key range, two random keys as bounds.
    var rangeSeconds: [Double] = []
    rangeSeconds.reserveCapacity(10_000)
    var rangeItems = 0
    for _ in 0..<10_000 {
        var lower = randomKey(&random), upper = randomKey(&random)
        if ReplicaIndex.less(upper, lower) { swap(&lower, &upper) }
        let start = monotonicSeconds()
        rangeItems += Int(index.fingerprint(lower, upper).count)
        rangeSeconds.append(monotonicSeconds() - start)
    }

    emit(["bench": "index", "keys": .int(built), "height": .int(index.tree.height),
          "build_s": .double(buildSeconds), "hash_s": .double(hashSeconds), "rss_bytes_per_key": .double(Double(residentAfter - residentBefore) / Double(built)),
          "heap_bytes_per_key": .double(Double(Int(heapAfter) - Int(heapBefore)) / Double(built)),
          "write_median_us": .double(median(writeSeconds) * 1e6), "write_max_us": .double(writeSeconds.max()! * 1e6),
          "write_allocations": .double(writeAllocations),
          "range_fingerprint_median_us": .double(median(rangeSeconds) * 1e6), "range_items_mean": .int(rangeItems / 10_000),
          // Printed so that the optimizer keeps the hashes and the digests read after the writes.
          "digests_xor": .string(String(digests, radix: 16))])
}
