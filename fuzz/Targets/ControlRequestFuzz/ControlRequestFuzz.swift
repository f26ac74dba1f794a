// libFuzzer target: the control socket's input path, LineFramer then ControlRequest.parse.

import ControlProtocol

/// Frames the input (with a small line limit, to reach the too-long path), parses every line,
/// and checks that accepted requests re-encode to something that parses to the same request.
@_cdecl("LLVMFuzzerTestOneInput")
public func controlRequestFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var framer = LineFramer(maxLineBytes: 512)
    let half = bytes.count / 2
    for event in framer.receivedBytes(bytes[..<half]) + framer.receivedBytes(bytes[half...]) {
        guard case .line(let line) = event else { continue }
        precondition(line.count <= 512, "line over the limit delivered")
        guard let request = try? ControlRequest.parse(line: line) else { continue }
        precondition((try? ControlRequest.parse(line: request.encoded())) == request, "request did not round-trip")
    }
    precondition(framer.bufferedBytes <= 512, "framer holds more than the limit")
    return 0
}
