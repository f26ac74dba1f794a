import CSodium

/// One direction of an XSalsa20 key stream (libp2p pnet, libp2p-wire.md §10): every byte that
/// passes is XORed with the next key-stream byte, however the bytes are split into calls. The
/// stream is continuous: libsodium's `crypto_stream_xsalsa20_xor_ic` starts at a 64-byte block
/// boundary, so the unused rest of a block a call ended inside is kept for the next call.
public struct XSalsa20Stream: Sendable {
    public static let keyCount = 32
    public static let nonceCount = 24
    static let blockCount = 64

    private let key: SecretBytes
    public let nonce: [UInt8]
    /// The next whole block's counter.
    private var block: UInt64 = 0
    /// Key-stream bytes left over from the block the last call ended inside (`leftoverStart`
    /// up to 64 are unused).
    private var leftover = [UInt8](repeating: 0, count: XSalsa20Stream.blockCount)
    private var leftoverStart = XSalsa20Stream.blockCount

    public init(key: SecretBytes, nonce: [UInt8]) {
        precondition(key.count == XSalsa20Stream.keyCount, "XSalsa20 key must be 32 bytes, not \(key.count)")
        precondition(nonce.count == XSalsa20Stream.nonceCount, "XSalsa20 nonce must be 24 bytes, not \(nonce.count)")
        Sodium.initialize()
        self.key = key
        self.nonce = nonce
    }

    /// XORs `buffer` in place with the next `buffer.count` key-stream bytes.
    public mutating func apply(_ buffer: UnsafeMutableRawBufferPointer) {
        guard var at = buffer.baseAddress.map({ $0.assumingMemoryBound(to: UInt8.self) }) else { return }
        var left = buffer.count
        // First what remains of the block the previous call ended inside.
        while left > 0 && leftoverStart < XSalsa20Stream.blockCount {
            at.pointee ^= leftover[leftoverStart]
            at += 1
            left -= 1
            leftoverStart += 1
        }
        guard left > 0 else { return }
        let whole = left / XSalsa20Stream.blockCount * XSalsa20Stream.blockCount
        if whole > 0 {
            xor(at, count: whole)
            at += whole
            left -= whole
        }
        guard left > 0 else { return }
        // A partial block: take the whole block's key stream, use its front, keep the rest.
        var block = [UInt8](repeating: 0, count: XSalsa20Stream.blockCount)
        block.withUnsafeMutableBufferPointer { xor($0.baseAddress!, count: XSalsa20Stream.blockCount) }
        for i in 0..<left { at[i] ^= block[i] }
        leftover = block
        leftoverStart = left
    }

    /// XORs `count` bytes (a multiple of 64, or one whole block) at the current block counter.
    private mutating func xor(_ bytes: UnsafeMutablePointer<UInt8>, count: Int) {
        let counter = block
        nonce.withUnsafeBufferPointer { n in
            key.withBytes { k in
                _ = crypto_stream_xsalsa20_xor_ic(bytes, bytes, UInt64(count), n.baseAddress!, counter, k)
            }
        }
        block += UInt64(count / XSalsa20Stream.blockCount)
    }

    /// The key stream XORed over `bytes` in one call from the start (for tests and vectors).
    public static func xor(_ bytes: [UInt8], key: SecretBytes, nonce: [UInt8]) -> [UInt8] {
        var stream = XSalsa20Stream(key: key, nonce: nonce)
        var out = bytes
        out.withUnsafeMutableBytes { stream.apply($0) }
        return out
    }
}
