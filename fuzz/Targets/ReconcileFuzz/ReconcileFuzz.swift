// libFuzzer target: a reconcile message from a lying peer, decoded and handed to a responder
// session over a replica of 2,000 items. Must never trap; accepted messages re-encode to
// bytes that decode to the same message.

import Reconcile
import SyncStore

/// Any 16-byte hash will do here; the daemon uses SHA-256, this cheap one keeps executions fast.
func fuzzHash(_ bytes: [UInt8]) -> [UInt8] {
    var a: UInt64 = 0xcbf2_9ce4_8422_2325, b: UInt64 = 0x8422_2325_cbf2_9ce4
    for byte in bytes { a = (a ^ UInt64(byte)) &* 0x100_0000_01b3; b = (b &+ UInt64(byte)) &* 0x9E37_79B9_7F4A_7C15 }
    return (0..<8).map { UInt8(truncatingIfNeeded: a >> (8 * $0)) } + (0..<8).map { UInt8(truncatingIfNeeded: b >> (8 * $0)) }
}

let replica: ReplicaIndex = {
    let items = (0..<2000).map { i in
        ItemID(key: Array("key/\(1000 + i)".utf8), version: Version(hlc: HLC(physicalMillis: UInt64(i), logical: 0), origin: [1, 2, 3]))
    }
    return ReplicaIndex(sortedItems: items, hash: fuzzHash)
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func reconcileFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let message = try? ReconcileMessage(decoding: bytes) else { return 0 }
    precondition((try? ReconcileMessage(decoding: message.encoded())) == message, "message did not round-trip")
    var session = ReconcileSession(role: .responder, index: replica)
    for _ in 0..<3 {
        guard let output = try? session.receive(message, entries: { keys in
            keys.map { Entry(key: String(decoding: $0, as: UTF8.self), value: "v", version: Version(hlc: .zero, origin: [1])) }
        }) else { return 0 }
        if output.finished { return 0 }
    }
    return 0
}
