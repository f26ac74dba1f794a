// libFuzzer target: a pubsub stream from a hostile peer, through the frame reader, the RPC
// decoder and the router (subscriptions, messages with signature checks, every control
// message), with heartbeats in between. The router must never trap, and must keep its
// promises: every RPC it sends fits the 64 KiB limit.

import Gossipsub
import P2PCrypto
import Wire

nonisolated(unsafe) var router: GossipsubRouter = {
    Sodium.initialize()
    var r = GossipsubRouter(identity: try! Ed25519PrivateKey(seed: [UInt8](repeating: 1, count: 32)), seed: 1, firstSeqno: 1)
    _ = r.subscribe("p2p-sync", now: 0)
    return r
}()
let hostile = try! Ed25519PrivateKey(seed: [UInt8](repeating: 2, count: 32)).publicKey.peerID
let bystander = try! Ed25519PrivateKey(seed: [UInt8](repeating: 3, count: 32)).publicKey.peerID
nonisolated(unsafe) var clock: UInt64 = 0

@_cdecl("LLVMFuzzerTestOneInput")
public func gossipRouterFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = router.addPeer(hostile, protocolID: .meshsub11, outbound: false)
    _ = router.addPeer(bystander, protocolID: .meshsub11, outbound: true)
    var reader = RPCFrameReader(maxFrameBytes: 1 << 20)
    guard let frames = try? reader.receivedBytes(bytes) else { return 0 }
    for frame in frames {
        guard let rpc = try? PubsubRPC(decoding: frame) else { continue }
        clock += 137
        let events = router.receive(rpc, from: hostile, now: clock) { message, _ in
            message.data.first == 0x21 ? .reject("bang") : .accept
        }
        for case .send(_, let out) in events { precondition(out.encoded().count <= 65536, "oversized RPC sent") }
        if clock % 1000 < 137 {
            for case .send(_, let out) in router.heartbeat(now: clock) { precondition(out.encoded().count <= 65536, "oversized RPC sent") }
        }
    }
    if size % 7 == 0 { router.removePeer(hostile) }
    return 0
}
