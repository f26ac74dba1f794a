import P2PCrypto

/// A Noise CipherState (Noise spec section 5.1): a key and a 64-bit nonce counter, for
/// ChaCha20-Poly1305 IETF with nonce `00000000 ‖ LE64(n)` (libp2p-wire.md section 3.1).
public struct CipherState: Sendable {
    /// Noise reserves 2^64-1; libp2p has no rekeying, so the connection ends before it.
    static let maxNonce = UInt64.max - 1

    let key: [UInt8]
    public private(set) var nonce: UInt64 = 0

    init(key: [UInt8]) { self.key = key }

    mutating func encrypt(associatedData: [UInt8], plaintext: [UInt8]) throws(NoiseError) -> [UInt8] {
        guard nonce < CipherState.maxNonce else { throw .nonceExhausted }
        defer { nonce += 1 }
        return ChaChaPolyIETF.seal(key: key, nonce: nonce, associatedData: associatedData, plaintext: plaintext)
    }

    mutating func decrypt(associatedData: [UInt8], ciphertext: [UInt8], stage: String) throws(NoiseError) -> [UInt8] {
        guard nonce < CipherState.maxNonce else { throw .nonceExhausted }
        do {
            let plaintext = try ChaChaPolyIETF.open(key: key, nonce: nonce, associatedData: associatedData, ciphertext: ciphertext)
            nonce += 1
            return plaintext
        } catch {
            throw .decryptionFailed(stage: stage)
        }
    }
}
