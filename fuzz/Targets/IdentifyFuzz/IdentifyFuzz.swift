// libFuzzer target: the identify reader (length-prefixed messages until EOF).

import Identify

/// Accepted messages must re-encode and decode to the same message.
@_cdecl("LLVMFuzzerTestOneInput")
public func identifyFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var reader = IdentifyReader()
    guard (try? reader.receivedBytes(bytes)) != nil, let message = try? reader.receivedEndOfStream() else { return 0 }
    // Our responder trims messages over rust's 4 KiB limit; only smaller ones must round-trip.
    guard message.encoded().count <= IdentifyResponder.maxSentBytes else { return 0 }
    var again = IdentifyReader()
    try? again.receivedBytes(IdentifyResponder.response(message))
    let decoded = try? again.receivedEndOfStream()
    precondition(decoded?.listenAddrs == message.listenAddrs && decoded?.protocols == message.protocols, "identify did not round-trip")
    return 0
}
