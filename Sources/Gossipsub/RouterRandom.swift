/// SplitMix64: the router's only source of randomness, seeded by its owner so that a whole
/// simulated network replays exactly from one seed.
public struct RouterRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Collection where Element: Comparable {
    /// `count` elements chosen at random; sorted first so the choice depends only on the seed
    /// (Set and Dictionary order changes from one process to the next).
    func randomSample(_ count: Int, using random: inout RouterRandom) -> [Element] {
        var all = sorted()
        all.shuffle(using: &random)
        return Array(all.prefix(Swift.max(0, count)))
    }
}
