/// The transport phase after a Noise handshake: a byte stream in encrypted frames
/// (libp2p-wire.md section 3.5). Message boundaries mean nothing to the layer above.
///
/// Two ways in and out:
/// - `encrypt(_:) -> [UInt8]` and `decrypt(_:) -> [UInt8]`: arrays in, arrays out (handshake
///   remainders, the connection upgrade, tests).
/// - the fast path: `encrypt(_:appendingTo:)` writes frames straight into the caller's output
///   buffer (one copy of the plaintext, sealed in place there); `decrypt(inPlace:deliver:)`
///   decrypts whole frames inside a buffer the caller lends (its input ring, say) and hands
///   each plaintext out as a borrowed region; `decrypt(_:deliver:)` does the same for bytes
///   that must first be buffered here (partial frames kept across calls).
public struct NoiseSession: Sendable {
    /// 65535 - 16 (the tag): the most plaintext one frame can hold; go and py chunk at this.
    public static let maxPlaintextPerFrame = 65519
    /// Bytes a frame adds to its plaintext: the 2-byte length and the 16-byte tag.
    public static let frameOverhead = NoiseFramer.headerLength + CipherState.tagCount

    private var sending: CipherState
    private var receiving: CipherState
    private var framer = NoiseFramer()

    init(sending: CipherState, receiving: CipherState) {
        self.sending = sending
        self.receiving = receiving
    }

    /// The wire size of `plaintextCount` bytes once framed (an empty plaintext is one frame).
    public static func wireCount(plaintextCount: Int) -> Int {
        let frames = max(1, (plaintextCount + maxPlaintextPerFrame - 1) / maxPlaintextPerFrame)
        return plaintextCount + frames * frameOverhead
    }

    // MARK: - Sending

    /// Encrypts `plaintext` into as many frames as it needs.
    public mutating func encrypt(_ plaintext: [UInt8]) throws(NoiseError) -> [UInt8] {
        var out: [UInt8] = []
        try encrypt(plaintext, appendingTo: &out)
        return out
    }

    /// Encrypts `plaintext` into frames appended to `wire`.
    public mutating func encrypt(_ plaintext: [UInt8], appendingTo wire: inout [UInt8]) throws(NoiseError) {
        let result = plaintext.withUnsafeBytes { bytes in
            Result { () throws(NoiseError) in try encrypt(bytes, appendingTo: &wire) }
        }
        try result.get()
    }

    /// Encrypts `plaintext` into frames of at most `maxPlaintextPerFrame` bytes appended to
    /// `wire`: for each, the length, then ciphertext ‖ tag sealed straight from `plaintext`
    /// into `wire`'s storage (no copy first, no zero-fill). Once `wire` has the capacity (reuse
    /// it: `removeAll(keepingCapacity:)`) this allocates nothing. An empty plaintext gives one
    /// frame holding only a tag.
    public mutating func encrypt(_ plaintext: UnsafeRawBufferPointer, appendingTo wire: inout [UInt8]) throws(NoiseError) {
        var failure: NoiseError?
        withUnsafeMutablePointer(to: &sending) { cipher in
            withUnsafeMutablePointer(to: &failure) { failure in
                wire.append(contentsOf: SealedFrames(plaintext: plaintext, cipher: cipher, failure: failure))
            }
        }
        if let failure { throw failure }
    }

    /// Writes the frames of `plaintext` into `out` (exactly `wireCount(plaintextCount:)` bytes).
    fileprivate static func sealFrames(_ plaintext: UnsafeRawBufferPointer, with cipher: inout CipherState,
                                       into out: UnsafeMutableRawBufferPointer) throws(NoiseError) {
        var start = 0, at = 0
        repeat {
            let count = min(NoiseSession.maxPlaintextPerFrame, plaintext.count - start)
            let frameLength = count + CipherState.tagCount
            out[at] = UInt8(frameLength >> 8)
            out[at + 1] = UInt8(frameLength & 0xff)
            try cipher.encrypt(UnsafeRawBufferPointer(rebasing: plaintext[start..<(start + count)]),
                               into: UnsafeMutableRawBufferPointer(rebasing: out[(at + 2)..<(at + 2 + frameLength)]))
            start += count
            at += 2 + frameLength
        } while start < plaintext.count
    }

    // MARK: - Receiving

    /// Decrypts every complete frame in the bytes received so far.
    public mutating func decrypt(_ bytes: [UInt8]) throws(NoiseError) -> [UInt8] {
        var plaintext: [UInt8] = []
        let result = bytes.withUnsafeBytes { input in
            Result { () throws(NoiseError) in
                try decrypt(input) { plaintext.append(contentsOf: $0) }
            }
        }
        try result.get()
        return plaintext
    }

    /// Buffers `bytes` after any partial frame kept from earlier calls, decrypts every complete
    /// frame in place in that buffer and lends each frame's plaintext to `deliver`, in order.
    /// The region lent is valid only during the call. One copy (into the buffer), no allocation
    /// once the buffer has grown to its working size.
    public mutating func decrypt(_ bytes: UnsafeRawBufferPointer, deliver: (UnsafeRawBufferPointer) -> Void) throws(NoiseError) {
        framer.append(bytes)
        var receiving = self.receiving
        let failure: NoiseError? = framer.withUnreadBytes { unread in
            do throws(NoiseError) {
                let consumed = try NoiseSession.decryptFrames(unread, with: &receiving, deliver: deliver)
                return (consumed, NoiseError?.none)
            } catch {
                // The session is dead after a failure; what was consumed no longer matters.
                return (0, NoiseError?.some(error))
            }
        }
        self.receiving = receiving
        if let failure { throw failure }
    }

    /// Decrypts, in place, every complete frame at the front of `buffer` (a region the caller
    /// owns and lends, e.g. its input ring's readable bytes), lending each frame's plaintext to
    /// `deliver` in order. Returns the bytes consumed: whole frames only; the caller keeps the
    /// rest (a partial frame) and passes it again, front first, with more bytes after it.
    /// Nothing is copied and nothing allocated. Must not be mixed with bytes still buffered by
    /// `decrypt(_:deliver:)` (`bufferedBytes` must be 0).
    public mutating func decrypt(inPlace buffer: UnsafeMutableRawBufferPointer,
                                 deliver: (UnsafeRawBufferPointer) -> Void) throws(NoiseError) -> Int {
        precondition(framer.bufferedBytes == 0, "NoiseSession.decrypt(inPlace:) with \(framer.bufferedBytes) bytes buffered by decrypt(_:)")
        return try NoiseSession.decryptFrames(buffer, with: &receiving, deliver: deliver)
    }

    /// The frames of `buffer`, decrypted in place one after the other.
    private static func decryptFrames(_ buffer: UnsafeMutableRawBufferPointer, with cipher: inout CipherState,
                                      deliver: (UnsafeRawBufferPointer) -> Void) throws(NoiseError) -> Int {
        var offset = 0
        while buffer.count - offset >= NoiseFramer.headerLength {
            let length = Int(buffer[offset]) << 8 | Int(buffer[offset + 1])
            guard buffer.count - offset >= NoiseFramer.headerLength + length else { break }
            guard length >= CipherState.tagCount else { throw .frameTooShort(expected: CipherState.tagCount, got: length) }
            let start = offset + NoiseFramer.headerLength
            let frame = UnsafeMutableRawBufferPointer(rebasing: buffer[start..<(start + length)])
            let count = try cipher.decryptInPlace(frame, stage: "transport")
            deliver(UnsafeRawBufferPointer(rebasing: frame[..<count]))
            offset = start + length
        }
        return offset
    }

    /// Bytes of an incomplete frame held back.
    public var bufferedBytes: Int { framer.bufferedBytes }
}

/// The Noise frames of one plaintext as a sequence that `Array.append(contentsOf:)` has write
/// itself: the array hands a sequence its free capacity through `_copyContents(initializing:)`
/// (after reserving `underestimatedCount`), and the frames are sealed right there. Appending
/// any other way would copy the plaintext in first, or zero-fill the room, and on a bulk
/// stream either costs as much as a second encryption pass's memory traffic.
private struct SealedFrames: Sequence {
    let plaintext: UnsafeRawBufferPointer
    let cipher: UnsafeMutablePointer<CipherState>
    /// Set if sealing failed (the nonce ran out); nothing is appended then.
    let failure: UnsafeMutablePointer<NoiseError?>

    var underestimatedCount: Int { NoiseSession.wireCount(plaintextCount: plaintext.count) }

    func makeIterator() -> EmptyCollection<UInt8>.Iterator {
        preconditionFailure("SealedFrames is only appended to an Array, which calls _copyContents")
    }

    func _copyContents(initializing buffer: UnsafeMutableBufferPointer<UInt8>) -> (EmptyCollection<UInt8>.Iterator, Int) {
        let count = underestimatedCount
        precondition(buffer.count >= count, "an Array gives at least underestimatedCount of room")
        do throws(NoiseError) {
            try NoiseSession.sealFrames(plaintext, with: &cipher.pointee, into: UnsafeMutableRawBufferPointer(start: buffer.baseAddress, count: count))
        } catch {
            failure.pointee = error
            return (EmptyCollection<UInt8>.Iterator(), 0)
        }
        return (EmptyCollection<UInt8>.Iterator(), count)
    }
}
