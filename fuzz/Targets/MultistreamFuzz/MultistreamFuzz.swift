// libFuzzer target: a multistream-select listener fed peer bytes after a valid header.

import Multistream

@_cdecl("LLVMFuzzerTestOneInput")
public func multistreamFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var listener = MultistreamNegotiation(role: .listener(supported: ["/noise", "/yamux/1.0.0"]))
    _ = listener.start()
    var input = MultistreamMessage.encode(MultistreamMessage.header) + bytes
    // Feed in two pieces so split handling is exercised too.
    let cut = input.count / 3
    do {
        let first = try listener.receivedBytes(Array(input[..<cut]))
        if first.agreement != nil { return 0 }
        input.removeFirst(cut)
        _ = try listener.receivedBytes(input)
    } catch {}
    var dialer = MultistreamNegotiation(role: .dialer(proposals: ["/noise"]))
    _ = dialer.start()
    _ = try? dialer.receivedBytes(bytes)
    return 0
}
