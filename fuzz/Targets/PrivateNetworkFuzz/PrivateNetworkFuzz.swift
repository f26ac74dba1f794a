// libFuzzer target: the private network's parsers (issue 14): a swarm.key file's contents,
// and the pnet layer fed a peer's arbitrary bytes in arbitrary pieces.
//
// First byte even: the rest is a key file. A key that parses must write out as a file that
// parses back to the same key. First byte odd: the rest is what a peer sent, each piece sized
// by a byte before it; the layer either takes the nonce and decrypts, or names the peer's
// mistake (another key, or none) and is not fed again. The bytes the connection is said to
// use never exceed what was revealed.

import P2PCrypto
import PrivateNetwork
import Wire

private let key = SwarmKey(secret: SecretBytes(copying: Array(0..<32)))

@_cdecl("LLVMFuzzerTestOneInput")
public func privateNetworkFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let mode = bytes.first else { return 0 }
    let input = Array(bytes.dropFirst())
    if mode % 2 == 0 {
        guard let parsed = try? SwarmKey(fileContents: input) else { return 0 }
        let again = try? SwarmKey(fileContents: parsed.fileContents)
        precondition(again?.secret.array == parsed.secret.array, "a key did not survive writing and reading back")
        return 0
    }
    var layer = PrivateNetworkLayer(key: key, nonce: Array(repeating: 7, count: 24))
    var ring: [UInt8] = []
    var offset = 0
    while offset + 1 < input.count {
        let n = min(input.count - offset - 1, 1 + Int(input[offset]) % 64)
        ring += input[(offset + 1)..<(offset + 1 + n)]
        offset += 1 + n
        let before = ring.count
        let outcome: Result<Int, PrivateNetworkError> = ring.withUnsafeMutableBytes { buffer in
            Result { () throws(PrivateNetworkError) in try layer.reveal(buffer) }
        }
        guard case .success(let nonce) = outcome else { return 0 }
        precondition(nonce <= before, "took more nonce bytes than there were")
        // The connection uses half of the plaintext each time; the rest comes back.
        let used = (before - nonce) / 2
        layer.consumed(used)
        ring.removeFirst(nonce + used)
    }
    return 0
}
