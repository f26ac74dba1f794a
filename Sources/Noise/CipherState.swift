import P2PCrypto

/// A Noise CipherState (Noise spec section 5.1): a key and a 64-bit nonce counter, for
/// ChaCha20-Poly1305 IETF with nonce `00000000 ‖ LE64(n)` (libp2p-wire.md section 3.1).
/// The key lives in a `SecretBytes` block, zeroed when the last copy of the state is dropped.
public struct CipherState: Sendable {
    /// Noise reserves 2^64-1; libp2p has no rekeying, so the connection ends before it.
    static let maxNonce = UInt64.max - 1
    static let tagCount = ChaChaPolyIETF.tagCount

    let key: SecretBytes
    public private(set) var nonce: UInt64 = 0

    /// Takes the key out of `key` (an HKDF output) and zeroes the array.
    init(key: inout [UInt8]) { self.key = SecretBytes(consuming: &key) }

    mutating func encrypt(associatedData: [UInt8], plaintext: [UInt8]) throws(NoiseError) -> [UInt8] {
        var out = plaintext
        out.append(contentsOf: repeatElement(0, count: CipherState.tagCount))
        // Array's closures rethrow untyped errors; Result carries the typed one through.
        let result = out.withUnsafeMutableBytes { buffer in
            associatedData.withUnsafeBytes { ad in
                Result { () throws(NoiseError) in
                    try encryptInPlace(associatedData: ad, message: UnsafeMutableRawBufferPointer(rebasing: buffer[..<plaintext.count]),
                                       tag: buffer.baseAddress! + plaintext.count)
                }
            }
        }
        try result.get()
        return out
    }

    mutating func decrypt(associatedData: [UInt8], ciphertext: [UInt8], stage: String) throws(NoiseError) -> [UInt8] {
        var out = ciphertext
        let result = out.withUnsafeMutableBytes { buffer in
            associatedData.withUnsafeBytes { ad in
                Result { () throws(NoiseError) in try decryptInPlace(associatedData: ad, buffer, stage: stage) }
            }
        }
        out.removeLast(out.count - (try result.get()))
        return out
    }

    /// Encrypts `message` in place and writes the 16-byte tag at `tag` (not inside `message`).
    mutating func encryptInPlace(associatedData: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
                                 message: UnsafeMutableRawBufferPointer, tag: UnsafeMutableRawPointer) throws(NoiseError) {
        guard nonce < CipherState.maxNonce else { throw .nonceExhausted }
        ChaChaPolyIETF.sealInPlace(key: key, nonce: nonce, associatedData: associatedData, message: message, tag: tag)
        nonce += 1
    }

    /// Encrypts `message` into `output` (`message.count + 16` bytes: ciphertext ‖ tag), reading
    /// the plaintext where it is: no copy first.
    mutating func encrypt(_ message: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(NoiseError) {
        guard nonce < CipherState.maxNonce else { throw .nonceExhausted }
        ChaChaPolyIETF.seal(key: key, nonce: nonce, plaintext: message, into: output)
        nonce += 1
    }

    /// Decrypts `ciphertext ‖ tag` in place; returns the plaintext count (the front of `buffer`).
    mutating func decryptInPlace(associatedData: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
                                 _ buffer: UnsafeMutableRawBufferPointer, stage: String) throws(NoiseError) -> Int {
        guard nonce < CipherState.maxNonce else { throw .nonceExhausted }
        do {
            let count = try ChaChaPolyIETF.openInPlace(key: key, nonce: nonce, associatedData: associatedData, buffer: buffer)
            nonce += 1
            return count
        } catch {
            throw .decryptionFailed(stage: stage)
        }
    }
}
