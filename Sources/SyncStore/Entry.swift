/// The version of a write: its clock and the peer ID bytes of the node that made it.
/// Totally ordered: by `hlc`, then by `origin` bytes (DESIGN.md section 3), so every replica
/// picks the same winner whatever order writes arrive in.
public struct Version: Comparable, Hashable, Sendable {
    public var hlc: HLC
    public var origin: [UInt8]

    public init(hlc: HLC, origin: [UInt8]) {
        self.hlc = hlc
        self.origin = origin
    }

    public static func < (a: Version, b: Version) -> Bool {
        if a.hlc != b.hlc { return a.hlc < b.hlc }
        return a.origin.lexicographicallyPrecedes(b.origin)
    }
}

/// One key's state: a value, or a tombstone (`value == nil`) that records a delete.
public struct Entry: Equatable, Hashable, Sendable {
    public var key: String
    public var value: String?
    public var version: Version

    public init(key: String, value: String?, version: Version) {
        self.key = key
        self.value = value
        self.version = version
    }

    public var isTombstone: Bool { value == nil }
}

/// Size limits of keys and values (DESIGN.md section 3).
public enum EntryLimits {
    public static let maxKeyBytes = 1024
    /// 256 KiB.
    public static let maxValueBytes = 256 * 1024

    public static func validate(key: String) throws(StoreError) {
        let n = key.utf8.count
        guard n > 0 else { throw .invalidKey("key is empty") }
        guard n <= maxKeyBytes else { throw .invalidKey("key is \(n) bytes; the limit is \(maxKeyBytes)") }
    }

    public static func validate(value: String) throws(StoreError) {
        let n = value.utf8.count
        guard n <= maxValueBytes else { throw .invalidValue("value is \(n) bytes; the limit is \(maxValueBytes) (256 KiB)") }
    }
}
