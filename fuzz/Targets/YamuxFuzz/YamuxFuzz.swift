// libFuzzer target: a yamux session (server side) fed arbitrary peer bytes.

import Yamux

/// Beyond not crashing: the number of tracked streams never exceeds the limit.
@_cdecl("LLVMFuzzerTestOneInput")
public func yamuxFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var configuration = YamuxConfiguration()
    configuration.maxStreams = 8
    var session = YamuxSession(role: .server, configuration: configuration)
    var offset = 0
    while offset < bytes.count {
        let n = min(bytes.count - offset, 1 + Int(bytes[offset]) % 64)
        guard let events = try? session.receivedBytes(Array(bytes[offset..<(offset + n)])) else { break }
        for case .data(let id, let body) in events {
            session.consumed(body.count, on: id)
            try? session.write(body, on: id)
        }
        _ = session.takeOutput()
        precondition(session.streamCount <= 8, "stream limit exceeded")
        offset += n
    }
    return 0
}
