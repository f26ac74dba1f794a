// libFuzzer target: the gossipsub RPC decoder (messages, subscriptions, control).
// Codecs only; signature checks on received messages are reached through GossipRouterFuzz.

import Gossipsub

/// Accepted RPCs re-encode to bytes that decode to the same RPC.
@_cdecl("LLVMFuzzerTestOneInput")
public func pubsubRPCFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let rpc = try? PubsubRPC(decoding: bytes) else { return 0 }
    precondition((try? PubsubRPC(decoding: rpc.encoded())) == rpc, "RPC did not round-trip")
    return 0
}
