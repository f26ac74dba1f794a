/// Fixed-size secret key material in its own heap block, zeroed with `sodium_memzero`
/// when the last reference goes away. Immutable after `init`, hence safe to share.
final class SecretBytes: @unchecked Sendable {
    let count: Int
    private let pointer: UnsafeMutablePointer<UInt8>

    /// Copies `count` bytes written by `fill` into the secret block.
    init(count: Int, fill: (UnsafeMutablePointer<UInt8>) -> Void) {
        precondition(count > 0, "SecretBytes needs a positive count")
        self.count = count
        pointer = .allocate(capacity: count)
        pointer.initialize(repeating: 0, count: count)
        fill(pointer)
    }

    convenience init(copying bytes: [UInt8]) {
        self.init(count: bytes.count) { destination in
            bytes.withUnsafeBufferPointer { destination.update(from: $0.baseAddress!, count: bytes.count) }
        }
    }

    func withBytes<R>(_ body: (UnsafePointer<UInt8>) -> R) -> R { body(pointer) }

    /// A copy as an array, for callers that must serialise the secret (key files).
    var array: [UInt8] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    deinit {
        SodiumPointers.memzero(pointer, count)
        pointer.deallocate()
    }
}
