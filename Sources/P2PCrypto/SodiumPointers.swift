import CSodium

/// Pointer plumbing for libsodium calls. libsodium's non-null parameters import as
/// non-optional pointers, and an empty Swift array has no base address, so zero-length
/// input is passed as a pointer to a dummy byte with length 0 (libsodium reads nothing).
enum SodiumPointers {
    static func with<R>(_ bytes: [UInt8], _ body: (UnsafePointer<UInt8>, Int) -> R) -> R {
        if bytes.isEmpty {
            var dummy: UInt8 = 0
            return withUnsafePointer(to: &dummy) { body($0, 0) }
        }
        return bytes.withUnsafeBufferPointer { body($0.baseAddress!, $0.count) }
    }

    /// Makes an array of `count` bytes filled by `body` (`count` must be positive).
    static func output(count: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Void) -> [UInt8] {
        precondition(count > 0, "SodiumPointers.output needs a positive count")
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            body(buffer.baseAddress!)
            initialized = count
        }
    }

    /// Overwrites an array's bytes in place (best effort: earlier copies are not reached).
    static func wipe(_ bytes: inout [UInt8]) {
        guard !bytes.isEmpty else { return }
        bytes.withUnsafeMutableBytes { memzero($0.baseAddress!, $0.count) }
    }

    /// `sodium_memzero`, which the compiler may not optimise away.
    static func memzero(_ pointer: UnsafeMutableRawPointer, _ count: Int) {
        sodium_memzero(pointer, count)
    }
}
