// libFuzzer target: Varint.decode (libp2p-wire.md §1.1).

import Wire

/// Any accepted varint must re-encode to exactly the bytes it was read from (minimality).
@_cdecl("LLVMFuzzerTestOneInput")
public func varintFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let decoded = try? Varint.decode(bytes) else { return 0 }
    precondition(decoded.byteCount <= Varint.maxBytes, "varint of \(decoded.byteCount) bytes accepted")
    precondition(Varint.encode(decoded.value) == Array(bytes.prefix(decoded.byteCount)), "non-minimal varint accepted")
    return 0
}
