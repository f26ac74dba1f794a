import Wire

/// A deterministic random source so property tests and simulations replay exactly from
/// their seed.
public typealias SeededRandom = SplitMix64
