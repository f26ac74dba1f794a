import CSodium

/// ChaCha20-Poly1305, the IETF construction of RFC 8439 with a 96-bit nonce
/// (`crypto_aead_chacha20poly1305_ietf_*`), as Noise `ChaChaPoly` requires (libp2p-wire.md §3.1, §3.6).
/// Not the original 64-bit-nonce variant and not XChaCha, which are incompatible.
public enum ChaChaPolyIETF {
    public static let keyCount = 32
    public static let nonceCount = 12
    public static let tagCount = 16

    /// Noise nonce layout (Noise spec §12.3): 4 zero bytes, then the counter little-endian.
    public static func noiseNonce(_ counter: UInt64) -> [UInt8] {
        [0, 0, 0, 0] + (0..<8).map { UInt8(truncatingIfNeeded: counter >> UInt64(8 * $0)) }
    }

    /// Encrypts with a Noise counter nonce; returns ciphertext ‖ 16-byte tag.
    public static func seal(key: [UInt8], nonce: UInt64, associatedData: [UInt8], plaintext: [UInt8]) -> [UInt8] {
        seal(key: key, rawNonce: noiseNonce(nonce), associatedData: associatedData, plaintext: plaintext)
    }

    /// Decrypts ciphertext ‖ tag with a Noise counter nonce.
    public static func open(key: [UInt8], nonce: UInt64, associatedData: [UInt8], ciphertext: [UInt8]) throws(CryptoError) -> [UInt8] {
        try open(key: key, rawNonce: noiseNonce(nonce), associatedData: associatedData, ciphertext: ciphertext)
    }

    /// Encrypts with an explicit 12-byte nonce (RFC 8439 vectors). A wrong key or nonce
    /// length is a bug in the caller, not peer input, so it traps.
    public static func seal(key: [UInt8], rawNonce: [UInt8], associatedData: [UInt8], plaintext: [UInt8]) -> [UInt8] {
        Sodium.initialize()
        precondition(key.count == keyCount, "ChaChaPolyIETF key must be \(keyCount) bytes, not \(key.count)")
        precondition(rawNonce.count == nonceCount, "ChaChaPolyIETF nonce must be \(nonceCount) bytes, not \(rawNonce.count)")
        return SodiumPointers.with(plaintext) { m, mCount in
            SodiumPointers.with(associatedData) { ad, adCount in
                SodiumPointers.output(count: mCount + tagCount) { c in
                    _ = crypto_aead_chacha20poly1305_ietf_encrypt(c, nil, m, UInt64(mCount), ad, UInt64(adCount), nil, rawNonce, key)
                }
            }
        }
    }

    /// Decrypts with an explicit 12-byte nonce; throws `decryptionFailed` for a short input
    /// or a tag that does not verify.
    public static func open(key: [UInt8], rawNonce: [UInt8], associatedData: [UInt8], ciphertext: [UInt8]) throws(CryptoError) -> [UInt8] {
        Sodium.initialize()
        precondition(key.count == keyCount, "ChaChaPolyIETF key must be \(keyCount) bytes, not \(key.count)")
        precondition(rawNonce.count == nonceCount, "ChaChaPolyIETF nonce must be \(nonceCount) bytes, not \(rawNonce.count)")
        guard ciphertext.count >= tagCount else { throw .decryptionFailed }
        let plaintextCount = ciphertext.count - tagCount
        var status: Int32 = 0
        // One spare byte so the output buffer is never empty; it is dropped below.
        var plaintext = SodiumPointers.with(ciphertext) { c, cCount in
            SodiumPointers.with(associatedData) { ad, adCount in
                SodiumPointers.output(count: plaintextCount + 1) { m in
                    status = crypto_aead_chacha20poly1305_ietf_decrypt(m, nil, nil, c, UInt64(cCount), ad, UInt64(adCount), rawNonce, key)
                }
            }
        }
        guard status == 0 else { throw .decryptionFailed }
        plaintext.removeLast()
        return plaintext
    }
}
