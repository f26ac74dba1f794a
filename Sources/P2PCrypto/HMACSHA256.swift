import CSodium

/// HMAC-SHA256 (RFC 2104) with a key of any length, via libsodium's streaming
/// `crypto_auth_hmacsha256_init/update/final` (libp2p-wire.md §3.6).
public enum HMACSHA256 {
    public static let macCount = 32

    public static func authenticate(key: [UInt8], message: [UInt8]) -> [UInt8] {
        Sodium.initialize()
        var state = crypto_auth_hmacsha256_state()
        defer { withUnsafeMutableBytes(of: &state) { SodiumPointers.memzero($0.baseAddress!, $0.count) } }
        SodiumPointers.with(key) { k, kCount in _ = crypto_auth_hmacsha256_init(&state, k, kCount) }
        SodiumPointers.with(message) { m, mCount in _ = crypto_auth_hmacsha256_update(&state, m, UInt64(mCount)) }
        return SodiumPointers.output(count: macCount) { _ = crypto_auth_hmacsha256_final(&state, $0) }
    }
}
