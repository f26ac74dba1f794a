import SyncStore

/// Shorthands for building entries in store tests.
enum Fixtures {
    /// A version at `ms:logical` from a peer whose ID bytes end in `origin`.
    static func version(_ ms: UInt64, _ logical: UInt32 = 0, origin: UInt8 = 1) -> Version {
        Version(hlc: HLC(physicalMillis: ms, logical: logical), origin: [0, 36, origin])
    }

    static func put(_ key: String, _ value: String, at ms: UInt64, _ logical: UInt32 = 0, origin: UInt8 = 1) -> Entry {
        Entry(key: key, value: value, version: version(ms, logical, origin: origin))
    }

    static func delete(_ key: String, at ms: UInt64, _ logical: UInt32 = 0, origin: UInt8 = 1) -> Entry {
        Entry(key: key, value: nil, version: version(ms, logical, origin: origin))
    }

    /// Orders keys by UTF-8 bytes, as the store does (String's `<` normalizes first).
    static func byKeyBytes(_ a: Entry, _ b: Entry) -> Bool {
        a.key.utf8.lexicographicallyPrecedes(b.key.utf8)
    }
}
