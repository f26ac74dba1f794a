import Wire

/// The router's only source of randomness, seeded by its owner so that a whole simulated
/// network replays exactly from one seed.
public typealias RouterRandom = SplitMix64

extension Collection where Element: Comparable {
    /// `count` elements chosen at random; sorted first so the choice depends only on the seed
    /// (Set and Dictionary order changes from one process to the next).
    func randomSample(_ count: Int, using random: inout RouterRandom) -> [Element] {
        var all = sorted()
        all.shuffle(using: &random)
        return Array(all.prefix(Swift.max(0, count)))
    }
}
