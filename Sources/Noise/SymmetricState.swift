import P2PCrypto

/// The Noise SymmetricState (Noise spec section 5.2): chaining key, handshake hash and the
/// current cipher, with MixHash, MixKey, EncryptAndHash, DecryptAndHash and Split.
/// The chaining key and the cipher keys live in `SecretBytes` blocks (zeroed when dropped);
/// every intermediate HKDF array is wiped as soon as it has been copied in.
struct SymmetricState: Sendable {
    /// Exactly 32 bytes, so the initial `h` is the name itself (Noise spec 5.2 InitializeSymmetric).
    static let protocolName = Array("Noise_XX_25519_ChaChaPoly_SHA256".utf8)

    private var chainingKey: SecretBytes
    private(set) var handshakeHash: [UInt8]
    private var cipher: CipherState?

    init() {
        handshakeHash = SymmetricState.protocolName
        chainingKey = SecretBytes(copying: handshakeHash)
        // libp2p's prologue is empty, but MixHash still runs over it.
        mixHash([])
    }

    mutating func mixHash(_ data: [UInt8]) {
        handshakeHash = SHA256.hash(handshakeHash + data)
    }

    mutating func mixKey(_ inputKeyMaterial: [UInt8]) {
        var outputs = hkdf(inputKeyMaterial)
        chainingKey = SecretBytes(consuming: &outputs[0])
        cipher = CipherState(key: &outputs[1])
    }

    /// Noise HKDF with two outputs from the current chaining key; the caller consumes both.
    private func hkdf(_ inputKeyMaterial: [UInt8]) -> [[UInt8]] {
        var ck = chainingKey.array
        defer { SecretBytes.wipe(&ck) }
        return HKDF.noiseHKDF(chainingKey: ck, inputKeyMaterial: inputKeyMaterial, outputs: 2)
    }

    mutating func encryptAndHash(_ plaintext: [UInt8]) throws(NoiseError) -> [UInt8] {
        guard var c = cipher else {
            mixHash(plaintext)
            return plaintext
        }
        let ciphertext = try c.encrypt(associatedData: handshakeHash, plaintext: plaintext)
        cipher = c
        mixHash(ciphertext)
        return ciphertext
    }

    mutating func decryptAndHash(_ ciphertext: [UInt8], stage: String) throws(NoiseError) -> [UInt8] {
        guard var c = cipher else {
            mixHash(ciphertext)
            return ciphertext
        }
        let plaintext = try c.decrypt(associatedData: handshakeHash, ciphertext: ciphertext, stage: stage)
        cipher = c
        mixHash(ciphertext)
        return plaintext
    }

    /// The two transport keys: the initiator sends with the first, the responder with the second.
    func split() -> (CipherState, CipherState) {
        var outputs = hkdf([])
        return (CipherState(key: &outputs[0]), CipherState(key: &outputs[1]))
    }
}
