/// The stored proof of a batch of writes by one author (issue 14, docs/GROUPS.md): the signed
/// message that first carried them, kept once per batch, found for any of its writes by the
/// author and the batch's first and last clock values (an author's batches cover disjoint
/// ranges of its clock, but for a large write announced alone inside a batch's range).
public struct WriteProofRecord: Equatable, Sendable {
    public var origin: [UInt8]
    public var first: HLC
    public var last: HLC
    /// The signed message, as its protocol encodes it (opaque to the store).
    public var bytes: [UInt8]

    public init(origin: [UInt8], first: HLC, last: HLC, bytes: [UInt8]) {
        self.origin = origin
        self.first = first
        self.last = last
        self.bytes = bytes
    }

    public func covers(_ version: Version) -> Bool {
        version.origin == origin && first <= version.hlc && version.hlc <= last
    }
}
