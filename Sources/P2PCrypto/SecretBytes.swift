/// Fixed-size secret key material in its own heap block, zeroed with `sodium_memzero`
/// when the last reference goes away. Immutable after `init`, hence safe to share.
/// Public so that protocol modules (Noise's chaining key and cipher keys) keep their keys in
/// one and never in an array that outlives them unzeroed.
public final class SecretBytes: @unchecked Sendable {
    public let count: Int
    private let pointer: UnsafeMutablePointer<UInt8>

    /// Copies `count` bytes written by `fill` into the secret block.
    public init(count: Int, fill: (UnsafeMutablePointer<UInt8>) -> Void) {
        precondition(count > 0, "SecretBytes needs a positive count")
        self.count = count
        pointer = .allocate(capacity: count)
        pointer.initialize(repeating: 0, count: count)
        fill(pointer)
    }

    public convenience init(copying bytes: [UInt8]) {
        self.init(count: bytes.count) { destination in
            bytes.withUnsafeBufferPointer { destination.update(from: $0.baseAddress!, count: bytes.count) }
        }
    }

    /// Copies `bytes` in, then zeroes `bytes` (the usual end of an intermediate key array).
    public convenience init(consuming bytes: inout [UInt8]) {
        self.init(copying: bytes)
        SecretBytes.wipe(&bytes)
    }

    public func withBytes<R>(_ body: (UnsafePointer<UInt8>) throws -> R) rethrows -> R { try body(pointer) }

    /// A copy as an array, for callers that must serialise the secret (key files) or feed it
    /// to an array API (HKDF); the caller wipes the copy.
    public var array: [UInt8] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    /// Overwrites an array's bytes in place with `sodium_memzero` (best effort: copies the
    /// array made earlier, e.g. on growth, are not reached).
    public static func wipe(_ bytes: inout [UInt8]) { SodiumPointers.wipe(&bytes) }

    deinit {
        SodiumPointers.memzero(pointer, count)
        pointer.deallocate()
    }
}
