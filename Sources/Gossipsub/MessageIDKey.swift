#if canImport(Glibc)
import Glibc
#endif

/// A message ID as a dictionary key. Hashes the bytes in one call: `[UInt8]`'s own hashing
/// feeds the hasher byte by byte, which dominated a 100-node simulation's run time.
struct MessageIDKey: Hashable {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    static func == (a: MessageIDKey, b: MessageIDKey) -> Bool {
        a.bytes.count == b.bytes.count
            && a.bytes.withUnsafeBytes { x in b.bytes.withUnsafeBytes { y in x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 } }
    }
}
