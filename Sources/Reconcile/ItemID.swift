import SyncStore

/// One replica item as reconciliation sees it: a key and the version stored for it
/// (tombstones included, so deletes reconcile too).
public struct ItemID: Equatable, Sendable {
    public var key: [UInt8]
    public var version: Version

    public init(key: [UInt8], version: Version) {
        self.key = key
        self.version = version
    }

    /// The bytes hashed for the item's fingerprint (docs/PROTOCOL.md):
    /// `uvarint(len(key)) ‖ key ‖ u64be(hlc ms) ‖ u32be(hlc counter) ‖ origin`.
    public var hashInput: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(key.count + version.origin.count + 16)
        var n = UInt64(key.count)
        while n >= 0x80 { out.append(UInt8(n & 0x7f) | 0x80); n >>= 7 }
        out.append(UInt8(n))
        out += key
        for i in (0..<8).reversed() { out.append(UInt8(truncatingIfNeeded: version.hlc.physicalMillis >> (8 * i))) }
        for i in (0..<4).reversed() { out.append(UInt8(truncatingIfNeeded: version.hlc.logical >> (8 * i))) }
        out += version.origin
        return out
    }
}
