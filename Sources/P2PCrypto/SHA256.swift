import CSodium

/// SHA-256 (FIPS 180-4) via libsodium's `crypto_hash_sha256` (libp2p-wire.md §3.6).
public enum SHA256 {
    public static let digestCount = 32

    public static func hash(_ data: [UInt8]) -> [UInt8] {
        Sodium.initialize()
        return SodiumPointers.with(data) { input, count in
            SodiumPointers.output(count: digestCount) { _ = crypto_hash_sha256($0, input, UInt64(count)) }
        }
    }
}
