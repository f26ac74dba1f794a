// libFuzzer target: Multiaddr(bytes:) (libp2p-wire.md §1.4).

import Wire

/// Accepted binary must re-encode byte for byte and survive a trip through the text form.
@_cdecl("LLVMFuzzerTestOneInput")
public func multiaddrBinaryFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let addr = try? Multiaddr(bytes: bytes) else { return 0 }
    precondition(addr.bytes == bytes, "binary multiaddr did not re-encode to its input")
    let text = addr.description
    guard let again = try? Multiaddr(text) else { preconditionFailure("text form \(text) did not parse") }
    precondition(again == addr, "text form \(text) parsed to a different multiaddr")
    return 0
}
