import CSodium

/// Cryptographically secure random bytes from libsodium's `randombytes_buf` (getrandom(2)).
public enum SecureRandom {
    public static func bytes(_ count: Int) -> [UInt8] {
        Sodium.initialize()
        guard count > 0 else { return [] }
        return SodiumPointers.output(count: count) { randombytes_buf($0, count) }
    }
}
