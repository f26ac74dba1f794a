/// A reader of strict DER (ITU-T X.690 §10) TLVs over a byte array: single-byte tags,
/// definite lengths in their shortest form. It is only as much ASN.1 as the libp2p certificate
/// needs: the `SignedKey` of the extension, and the raw `tbsCertificate`,
/// `subjectPublicKeyInfo` and `signatureValue` of a certificate, which GnuTLS parses but does
/// not hand out as the bytes that were signed.
struct DERReader {
    /// One element: its tag, where it starts (header included) and where its contents are.
    struct Element {
        let tag: UInt8
        let start: Int
        let contents: Range<Int>
        var whole: Range<Int> { start..<contents.upperBound }
    }

    static let sequence: UInt8 = 0x30
    static let octetString: UInt8 = 0x04
    static let bitString: UInt8 = 0x03
    static let integer: UInt8 = 0x02

    let bytes: [UInt8]
    private(set) var offset: Int
    let end: Int

    init(_ bytes: [UInt8]) { self.init(bytes, range: bytes.startIndex..<bytes.endIndex) }

    init(_ bytes: [UInt8], range: Range<Int>) {
        self.bytes = bytes
        offset = range.lowerBound
        end = range.upperBound
    }

    /// A reader over `element`'s contents.
    func reader(inside element: Element) -> DERReader { DERReader(bytes, range: element.contents) }

    var isAtEnd: Bool { offset >= end }

    /// Reads the next element; the message says what is wrong and at which byte offset.
    mutating func next() throws(DERError) -> Element {
        let start = offset
        guard offset < end else { throw DERError("expected an element at byte \(start), found the end") }
        let tag = bytes[offset]
        // Tags 31 and up use several bytes; nothing in a libp2p certificate needs them.
        guard tag & 0x1f != 0x1f else { throw DERError("multi-byte tag at byte \(start)") }
        offset += 1
        guard offset < end else { throw DERError("element at byte \(start) has no length") }
        let first = bytes[offset]
        offset += 1
        var length = 0
        if first < 0x80 {
            length = Int(first)
        } else {
            let count = Int(first & 0x7f)
            // 0x80 is BER's indefinite length; more than 3 length bytes is far beyond any certificate.
            guard count >= 1, count <= 3 else { throw DERError("unsupported length form 0x\(String(first, radix: 16)) at byte \(start)") }
            guard end - offset >= count else { throw DERError("element at byte \(start) has a truncated length") }
            for _ in 0..<count {
                length = length << 8 | Int(bytes[offset])
                offset += 1
            }
            // DER: the shortest form, so no leading zero byte and no long form below 128.
            guard length >= 0x80, length >> (8 * (count - 1)) != 0 else {
                throw DERError("length at byte \(start) is not in its shortest (DER) form")
            }
        }
        guard end - offset >= length else {
            throw DERError("element at byte \(start) claims \(length) bytes, only \(end - offset) remain")
        }
        let contents = offset..<(offset + length)
        offset += length
        return Element(tag: tag, start: start, contents: contents)
    }

    /// Reads the next element and checks its tag.
    mutating func next(_ tag: UInt8, _ what: String) throws(DERError) -> Element {
        let element = try next()
        guard element.tag == tag else {
            throw DERError("\(what) at byte \(element.start) has tag 0x\(String(element.tag, radix: 16)), expected 0x\(String(tag, radix: 16))")
        }
        return element
    }

    /// The element after the current one, without consuming it; nil at the end.
    func peekTag() -> UInt8? { isAtEnd ? nil : bytes[offset] }

    /// DER encoding of a length (X.690 §8.1.3): short form below 128, else the fewest bytes.
    static func encodeLength(_ length: Int) -> [UInt8] {
        precondition(length >= 0)
        if length < 0x80 { return [UInt8(length)] }
        var digits: [UInt8] = []
        var rest = length
        while rest > 0 { digits.insert(UInt8(rest & 0xff), at: 0); rest >>= 8 }
        return [0x80 | UInt8(digits.count)] + digits
    }

    /// One TLV.
    static func encode(_ tag: UInt8, _ contents: [UInt8]) -> [UInt8] {
        [tag] + encodeLength(contents.count) + contents
    }
}

/// What the DER reader found wrong, for `LibP2PTLSError.malformedCertificate` or `.malformedSignedKey`.
struct DERError: Error, Equatable {
    let message: String
    init(_ message: String) { self.message = message }
}
