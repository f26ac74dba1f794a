extension Duration {
    /// Milliseconds with microsecond precision, as `peers` and `ping` show them.
    var milliseconds: Double {
        let (seconds, attoseconds) = components
        return ((Double(seconds) * 1e6 + Double(attoseconds) / 1e12)).rounded() / 1000
    }
}
