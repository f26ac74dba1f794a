/// The version of a write: its clock and the peer-ID bytes of the node that made it.
///
/// Totally ordered (DESIGN.md section 3): by `hlc`, then by `origin` bytes lexicographically
/// (a shorter prefix first), so every replica picks the same winner whatever order writes
/// arrive in. Two writes by different nodes never compare equal; one node never reuses a clock
/// value, so an equal version means the same write.
public struct Version: Comparable, Hashable, Sendable {
    public var hlc: HLC
    /// The writer's peer ID, as bytes.
    public var origin: [UInt8]

    public init(hlc: HLC, origin: [UInt8]) {
        self.hlc = hlc
        self.origin = origin
    }

    public static func < (a: Version, b: Version) -> Bool {
        if a.hlc != b.hlc { return a.hlc < b.hlc }
        return a.origin.lexicographicallyPrecedes(b.origin)
    }
}
