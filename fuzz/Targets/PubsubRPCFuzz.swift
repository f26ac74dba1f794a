// fuzz-module: Wire Sources/Wire Sources/Gossipsub/PubsubRPC.swift Sources/Gossipsub/ControlMessage.swift
// libFuzzer target: the gossipsub RPC decoder (messages, subscriptions, control).
// Gossipsub's MessageSigning needs libsodium; fuzz/run compiles Swift only, so this target
// covers the codecs and leaves signatures to the unit tests.

/// Accepted RPCs re-encode to bytes that decode to the same RPC.
@_cdecl("LLVMFuzzerTestOneInput")
public func pubsubRPCFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let rpc = try? PubsubRPC(decoding: bytes) else { return 0 }
    precondition((try? PubsubRPC(decoding: rpc.encoded())) == rpc, "RPC did not round-trip")
    return 0
}
