/// Order statistics of a sample, nearest-rank (the p-th percentile is the value at rank
/// ceil(p/100 * n)), as perf/run reports them.
public struct Percentiles: Sendable, Equatable {
    public let count: Int
    public let min: Double
    public let p50: Double
    public let p90: Double
    public let p99: Double
    public let max: Double
    public let mean: Double

    /// nil for an empty sample.
    public init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        func rank(_ p: Double) -> Double {
            let r = Int((p / 100 * Double(sorted.count)).rounded(.up))
            return sorted[Swift.max(0, Swift.min(sorted.count - 1, r - 1))]
        }
        count = sorted.count
        min = sorted[0]
        max = sorted[sorted.count - 1]
        p50 = rank(50)
        p90 = rank(90)
        p99 = rank(99)
        mean = sorted.reduce(0, +) / Double(sorted.count)
    }
}
