/// One key's state at one version: a value, or a tombstone (`value == nil`) recording a
/// delete, kept so that an older put cannot resurrect the key (DESIGN.md section 3).
///
/// Keys and values are compared as UTF-8 bytes, as the store and the wire see them, not with
/// `String`'s Unicode canonical equivalence: "é" (U+00E9) and "e\u{301}" are two keys.
public struct Entry: Equatable, Hashable, Sendable {
    public var key: String
    /// nil for a tombstone. An empty string is a live value, distinct from a delete.
    public var value: String?
    public var version: Version

    public init(key: String, value: String?, version: Version) {
        self.key = key
        self.value = value
        self.version = version
    }

    /// True for a delete. Derived from `value` so the two can never disagree.
    public var isTombstone: Bool { value == nil }

    public static func == (a: Entry, b: Entry) -> Bool {
        guard a.version == b.version, a.key.utf8.elementsEqual(b.key.utf8) else { return false }
        switch (a.value, b.value) {
        case (nil, nil): return true
        case (let x?, let y?): return x.utf8.elementsEqual(y.utf8)
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(version)
        Entry.combine(key, into: &hasher)
        if let value { Entry.combine(value, into: &hasher) } else { hasher.combine(-1) }
    }

    /// Hashes the UTF-8 bytes with their count, so ("ab", "c") and ("a", "bc") hash apart.
    private static func combine(_ text: String, into hasher: inout Hasher) {
        var text = text
        text.withUTF8 { bytes in
            hasher.combine(bytes.count)
            hasher.combine(bytes: UnsafeRawBufferPointer(bytes))
        }
    }
}
