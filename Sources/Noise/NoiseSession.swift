/// The transport phase after a Noise handshake: a byte stream in encrypted frames
/// (libp2p-wire.md section 3.5). Message boundaries mean nothing to the layer above.
public struct NoiseSession: Sendable {
    /// 65535 - 16 (the tag): the most plaintext one frame can hold; go and py chunk at this.
    public static let maxPlaintextPerFrame = 65519

    private var sending: CipherState
    private var receiving: CipherState
    private var framer = NoiseFramer()

    init(sending: CipherState, receiving: CipherState) {
        self.sending = sending
        self.receiving = receiving
    }

    /// Encrypts `plaintext` into as many frames as it needs.
    public mutating func encrypt(_ plaintext: [UInt8]) throws(NoiseError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(plaintext.count + (plaintext.count / NoiseSession.maxPlaintextPerFrame + 1) * 18)
        var start = 0
        repeat {
            let end = min(start + NoiseSession.maxPlaintextPerFrame, plaintext.count)
            let ciphertext = try sending.encrypt(associatedData: [], plaintext: Array(plaintext[start..<end]))
            out += NoiseFramer.frame(ciphertext)
            start = end
        } while start < plaintext.count
        return out
    }

    /// Decrypts every complete frame in the bytes received so far.
    public mutating func decrypt(_ bytes: [UInt8]) throws(NoiseError) -> [UInt8] {
        framer.append(bytes)
        var plaintext: [UInt8] = []
        while let frame = try framer.nextFrame() {
            guard frame.count >= 16 else { throw .frameTooShort(expected: 16, got: frame.count) }
            plaintext += try receiving.decrypt(associatedData: [], ciphertext: frame, stage: "transport")
        }
        return plaintext
    }

    /// Bytes of an incomplete frame held back.
    public var bufferedBytes: Int { framer.bufferedBytes }
}
