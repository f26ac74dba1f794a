// libFuzzer target: PeerID(_ text:) and PeerID(bytes:) (libp2p-wire.md §1.6).

import P2PCrypto
import Wire

/// Accepted IDs must round-trip through the base58 and CID text forms.
@_cdecl("LLVMFuzzerTestOneInput")
public func peerIDFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var found: [PeerID] = []
    if let peer = try? PeerID(String(decoding: bytes, as: UTF8.self)) { found.append(peer) }
    if let peer = try? PeerID(bytes: bytes) { found.append(peer) }
    for peer in found {
        precondition((try? PeerID(peer.description)) == peer, "base58 form \(peer) did not round-trip")
        precondition((try? PeerID(peer.cidString)) == peer, "CID form \(peer.cidString) did not round-trip")
        if let key = peer.publicKey { precondition(PeerID(publicKey: key, sha256: SHA256.hash) == peer, "inlined key gives another ID") }
    }
    return 0
}
