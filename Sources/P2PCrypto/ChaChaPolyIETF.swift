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

// MARK: - In place, on caller-owned memory (the transport fast path)

extension ChaChaPolyIETF {
    /// Encrypts `message` in place (`crypto_aead_chacha20poly1305_ietf_encrypt_detached` with
    /// c == m, which libsodium allows) and writes the 16-byte tag at `tag`, which must not
    /// overlap `message`. An empty `message` (even with no base address) gives just the tag.
    public static func sealInPlace(key: SecretBytes, nonce: UInt64, associatedData: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
                                   message: UnsafeMutableRawBufferPointer, tag: UnsafeMutableRawPointer) {
        seal(key: key, nonce: nonce, associatedData: associatedData, message: UnsafeRawBufferPointer(message),
             into: message.baseAddress, tag: tag)
    }

    /// Encrypts `message` into `ciphertext` (`message.count` bytes there, which is `message`
    /// itself or does not overlap it) and writes the 16-byte tag at `tag`.
    private static func seal(key: SecretBytes, nonce: UInt64, associatedData: UnsafeRawBufferPointer,
                             message: UnsafeRawBufferPointer, into ciphertext: UnsafeMutableRawPointer?, tag: UnsafeMutableRawPointer) {
        Sodium.initialize()
        precondition(key.count == keyCount, "ChaChaPolyIETF key must be \(keyCount) bytes, not \(key.count)")
        precondition(message.isEmpty || ciphertext != nil, "ChaChaPolyIETF.seal needs somewhere to write")
        withNoiseNonce(nonce) { n in
            withBase(message) { m in
                withBase(associatedData) { ad in
                    key.withBytes { k in
                        _ = crypto_aead_chacha20poly1305_ietf_encrypt_detached(
                            ciphertext?.assumingMemoryBound(to: UInt8.self) ?? UnsafeMutablePointer(mutating: m),
                            tag.assumingMemoryBound(to: UInt8.self), nil, m, UInt64(message.count),
                            ad, UInt64(associatedData.count), nil, n, k)
                    }
                }
            }
        }
    }

    /// Decrypts `ciphertext ‖ tag` in place: on success the first `buffer.count - 16` bytes
    /// of `buffer` are the plaintext, and that count is returned. Throws `decryptionFailed` for
    /// a buffer shorter than the tag or a tag that does not verify (the bytes are then
    /// unspecified: libsodium writes nothing before verifying, but the caller must not use them).
    @discardableResult
    public static func openInPlace(key: SecretBytes, nonce: UInt64, associatedData: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
                                   buffer: UnsafeMutableRawBufferPointer) throws(CryptoError) -> Int {
        Sodium.initialize()
        precondition(key.count == keyCount, "ChaChaPolyIETF key must be \(keyCount) bytes, not \(key.count)")
        guard buffer.count >= tagCount, let base = buffer.baseAddress else { throw .decryptionFailed }
        let plaintextCount = buffer.count - tagCount
        let mac = base.advanced(by: plaintextCount).assumingMemoryBound(to: UInt8.self)
        let status = withNoiseNonce(nonce) { n in
            withBase(associatedData) { ad in
                key.withBytes { k in
                    let c = base.assumingMemoryBound(to: UInt8.self)
                    return crypto_aead_chacha20poly1305_ietf_decrypt_detached(
                        c, nil, c, UInt64(plaintextCount), mac, ad, UInt64(associatedData.count), n, k)
                }
            }
        }
        guard status == 0 else { throw .decryptionFailed }
        return plaintextCount
    }

    /// Encrypts `plaintext` into `output` (at least `plaintext.count + 16` bytes), writing
    /// ciphertext ‖ tag; `output` may start at `plaintext`'s address (in place) or anywhere
    /// else. Returns the bytes written.
    @discardableResult
    public static func seal(key: SecretBytes, nonce: UInt64, associatedData: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
                            plaintext: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int {
        precondition(output.count >= plaintext.count + tagCount,
                     "ChaChaPolyIETF.seal into \(output.count) bytes cannot hold \(plaintext.count) + \(tagCount)")
        let base = output.baseAddress!
        if plaintext.count > 0, let source = plaintext.baseAddress, UnsafeRawPointer(base) != source,
           UnsafeRawPointer(base) < source + plaintext.count && source < UnsafeRawPointer(base) + plaintext.count {
            // Overlapping but not the same start: move the plaintext over first (a memmove),
            // then seal in place.
            base.copyMemory(from: source, byteCount: plaintext.count)
            sealInPlace(key: key, nonce: nonce, associatedData: associatedData,
                        message: UnsafeMutableRawBufferPointer(start: base, count: plaintext.count), tag: base + plaintext.count)
        } else {
            // In place, or from another region in one pass (libsodium reads m as it writes c).
            seal(key: key, nonce: nonce, associatedData: associatedData, message: plaintext, into: base, tag: base + plaintext.count)
        }
        return plaintext.count + tagCount
    }

    /// The 12-byte Noise nonce (`00000000 ‖ LE64(counter)`) on the stack, for one call.
    private static func withNoiseNonce<R>(_ counter: UInt64, _ body: (UnsafePointer<UInt8>) -> R) -> R {
        withUnsafeTemporaryAllocation(byteCount: nonceCount, alignment: 8) { raw in
            raw.storeBytes(of: 0, toByteOffset: 0, as: UInt32.self)
            raw.storeBytes(of: counter.littleEndian, toByteOffset: 4, as: UInt64.self)
            return body(raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
    }

    /// A base address for libsodium's non-null parameters: a dummy byte for an empty buffer
    /// (libsodium reads nothing when the length is 0).
    private static func withBase<R>(_ buffer: UnsafeRawBufferPointer, _ body: (UnsafePointer<UInt8>) -> R) -> R {
        if let base = buffer.baseAddress { return body(base.assumingMemoryBound(to: UInt8.self)) }
        var dummy: UInt8 = 0
        return withUnsafePointer(to: &dummy) { body($0) }
    }

    private static func withBase<R>(_ buffer: UnsafeMutableRawBufferPointer, _ body: (UnsafeMutablePointer<UInt8>) -> R) -> R {
        if let base = buffer.baseAddress { return body(base.assumingMemoryBound(to: UInt8.self)) }
        var dummy: UInt8 = 0
        return withUnsafeMutablePointer(to: &dummy) { body($0) }
    }
}
