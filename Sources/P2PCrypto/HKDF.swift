/// HKDF over HMAC-SHA256, built by hand because libsodium 1.0.18 has no HKDF.
/// `noiseHKDF` is the Noise spec §4.3 function; `extract`/`expand` are RFC 5869, for tests
/// (Noise's HKDF equals RFC 5869 with salt = chaining key and info = "").
public enum HKDF {
    /// Noise `HKDF(chaining_key, input_key_material, num_outputs)`, 2 or 3 outputs of 32 bytes.
    public static func noiseHKDF(chainingKey: [UInt8], inputKeyMaterial: [UInt8], outputs: Int) -> [[UInt8]] {
        precondition(outputs == 2 || outputs == 3, "Noise HKDF gives 2 or 3 outputs, not \(outputs)")
        var tempKey = HMACSHA256.authenticate(key: chainingKey, message: inputKeyMaterial)
        var result: [[UInt8]] = []
        for i in 1...outputs {
            var message = (result.last ?? []) + [UInt8(i)]
            result.append(HMACSHA256.authenticate(key: tempKey, message: message))
            // The HMAC input holds the previous output, a key: not left behind on the heap.
            SodiumPointers.wipe(&message)
        }
        SodiumPointers.wipe(&tempKey)
        return result
    }

    /// RFC 5869 §2.2: PRK = HMAC(salt, IKM).
    public static func extract(salt: [UInt8], inputKeyMaterial: [UInt8]) -> [UInt8] {
        HMACSHA256.authenticate(key: salt, message: inputKeyMaterial)
    }

    /// RFC 5869 §2.3: T(i) = HMAC(PRK, T(i-1) ‖ info ‖ i), concatenated and cut to `length`
    /// (at most 255 × 32 bytes).
    public static func expand(pseudoRandomKey: [UInt8], info: [UInt8], length: Int) -> [UInt8] {
        precondition(length >= 0 && length <= 255 * HMACSHA256.macCount, "HKDF-Expand length \(length) out of range")
        var output: [UInt8] = []
        var block: [UInt8] = []
        var counter: UInt8 = 1
        while output.count < length {
            block = HMACSHA256.authenticate(key: pseudoRandomKey, message: block + info + [counter])
            output += block
            counter &+= 1
        }
        return Array(output.prefix(length))
    }
}
