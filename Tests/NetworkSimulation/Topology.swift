import Wire

/// Random graphs for simulated networks.
public enum Topology {
    /// A connected sparse graph on `nodes` nodes: a random spanning tree (each node after the
    /// first links to a random earlier one), then `extraLinksPerNode` random links from each
    /// node (self-links and repeats skipped). Pairs `(a, b)` with `a < b`, each once, in the
    /// order drawn.
    public static func randomConnected(nodes: Int, extraLinksPerNode: Int, using random: inout SplitMix64) -> [(Int, Int)] {
        var seen = Set<Int>()
        var pairs: [(Int, Int)] = []
        func add(_ a: Int, _ b: Int) {
            guard a != b else { return }
            let (x, y) = (min(a, b), max(a, b))
            if seen.insert(x * nodes + y).inserted { pairs.append((x, y)) }
        }
        if nodes > 1 { for i in 1..<nodes { add(i, Int.random(in: 0..<i, using: &random)) } }
        for i in 0..<nodes {
            for _ in 0..<extraLinksPerNode { add(i, Int.random(in: 0..<nodes, using: &random)) }
        }
        return pairs
    }
}
