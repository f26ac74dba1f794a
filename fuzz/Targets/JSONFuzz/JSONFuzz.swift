// libFuzzer target: JSONParser.parse, the parser behind every control request.

import JSON

/// Whatever parses must re-encode to a single line that parses back to the same value.
@_cdecl("LLVMFuzzerTestOneInput")
public func jsonFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let value = try? JSONParser.parse(bytes) else { return 0 }
    let encoded = value.encoded()
    precondition(!encoded.contains(0x0a), "encoded JSON contains a raw newline")
    precondition((try? JSONParser.parse(encoded)) == value, "JSON did not round-trip")
    return 0
}
