import CSodium

/// libsodium start-up. `sodium_init` picks CPU-specific implementations and opens the
/// random source; every public entry point of this module calls `initialize()` first,
/// so callers may but need not call it themselves.
public enum Sodium {
    /// Swift runs a static `let` initialiser exactly once, thread-safely; sodium_init
    /// returns 0 the first time, 1 when already done, -1 on failure.
    private static let initialized: Bool = sodium_init() >= 0

    public static func initialize() {
        // Without a random source no key can be made safely; there is no sensible fallback.
        guard initialized else { fatalError("libsodium could not be initialised (sodium_init failed; is /dev/urandom readable?)") }
    }
}
