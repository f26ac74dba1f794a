// libFuzzer target: Multiaddr(_ text:) (libp2p-wire.md §1.4).

import Wire

/// Accepted text must give a canonical text form that is a fixed point, and a binary form
/// that decodes back to the same components.
@_cdecl("LLVMFuzzerTestOneInput")
public func multiaddrTextFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let addr = try? Multiaddr(text) else { return 0 }
    let canonical = addr.description
    guard let again = try? Multiaddr(canonical) else { preconditionFailure("canonical form \(canonical) did not parse") }
    precondition(again == addr && again.description == canonical, "canonical form \(canonical) is not a fixed point")
    guard let decoded = try? Multiaddr(bytes: addr.bytes) else { preconditionFailure("binary form of \(canonical) did not parse") }
    precondition(decoded == addr, "binary form of \(canonical) decoded differently")
    return 0
}
