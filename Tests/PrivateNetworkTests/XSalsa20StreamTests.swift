import P2PCrypto
import Testing
import TestSupport
import Wire

/// The pnet key stream: libsodium's XSalsa20 through `XSalsa20Stream`, checked against an
/// independent implementation and across every way of splitting the bytes into calls.
@Suite struct XSalsa20StreamTests {
    static let key = SecretBytes(copying: Array(0..<32))
    static let nonce: [UInt8] = Array(32..<56)

    /// From Tests/Interop/pnet_xsalsa20.py (HSalsa20 written out in Python, then pycryptodome's
    /// Salsa20): `pnet_xsalsa20.py 0001…1f 2021…37 100`.
    static let keyStream = Hex.bytes("""
        0ce40aff3ea2781485dabc30df0e5094aef08ad21579467890970753aeaee026f1594da54d275a960935556e0c48b7f4b9b2bd8b\
        f1192374bc763392c21bacfdb70bd0c3fba979cfa36e538bf5dd7e52b3d6aac90836f4ffa95b7f9b99194c01a84f1fc1
        """)

    @Test func matchesAnIndependentImplementation() {
        #expect(XSalsa20Stream.xor([UInt8](repeating: 0, count: 100), key: Self.key, nonce: Self.nonce) == Self.keyStream)
    }

    /// The stream is continuous: bytes split at any points (inside a 64-byte block, on its
    /// edge, across several blocks) come out as in one call.
    @Test func anySplitGivesTheSameBytes() {
        var random = SplitMix64(seed: 3)
        let plaintext = random.bytes(5_000)
        let whole = XSalsa20Stream.xor(plaintext, key: Self.key, nonce: Self.nonce)
        for round in 0..<200 {
            var stream = XSalsa20Stream(key: Self.key, nonce: Self.nonce)
            var out = plaintext
            var at = 0
            while at < out.count {
                let n = min(out.count - at, round < 100 ? Int(random.next() % 70) : Int(random.next() % 700))
                out.withUnsafeMutableBytes { stream.apply(UnsafeMutableRawBufferPointer(rebasing: $0[at..<(at + n)])) }
                at += n
            }
            #expect(out == whole, "round \(round)")
        }
        // XOR twice gives the plaintext back.
        #expect(XSalsa20Stream.xor(whole, key: Self.key, nonce: Self.nonce) == plaintext)
    }
}
