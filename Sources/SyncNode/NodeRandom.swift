import P2PCrypto
import Wire

/// The node's one source of non-secret randomness (back-off jitter, peer picks, router and
/// connection seeds), seeded once: a run can be replayed from its seed (issue 11). Keys come
/// from libsodium, never from here.
final class NodeRandom {
    private var generator: SplitMix64
    let seed: UInt64

    init(seed: UInt64) {
        self.seed = seed
        generator = SplitMix64(seed: seed)
    }

    /// Seeded from the operating system's secure generator.
    convenience init() {
        var seed: UInt64 = 0
        for byte in SecureRandom.bytes(8) { seed = seed << 8 | UInt64(byte) }
        self.init(seed: seed)
    }

    func next() -> UInt64 { generator.next() }
    /// A generator of its own, seeded from this one (for machines that take an `inout` one).
    func splitMix() -> SplitMix64 { SplitMix64(seed: generator.next()) }
    func double(in range: ClosedRange<Double>) -> Double { Double.random(in: range, using: &generator) }
    func element<C: Collection>(of collection: C) -> C.Element? { collection.randomElement(using: &generator) }
}
