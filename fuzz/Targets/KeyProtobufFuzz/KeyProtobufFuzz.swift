// libFuzzer target: PublicKeyProtobuf / PrivateKeyProtobuf decoding (libp2p-wire.md §1.5).

import P2PCrypto
import Wire

/// The decoder accepts only the canonical encoding, so anything accepted re-encodes exactly.
@_cdecl("LLVMFuzzerTestOneInput")
public func keyProtobufFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let key = try? PublicKeyProtobuf(decoding: bytes) {
        precondition(key.encoded() == bytes, "accepted a non-canonical PublicKey")
        _ = PeerID(publicKey: key, sha256: SHA256.hash)
    }
    if let key = try? PrivateKeyProtobuf(decoding: bytes) {
        precondition(key.encoded() == bytes, "accepted a non-canonical PrivateKey")
    }
    return 0
}
