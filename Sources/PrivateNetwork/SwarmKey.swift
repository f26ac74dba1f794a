import P2PCrypto

/// A private network's pre-shared key (libp2p pnet, PSK v1), read from and written to
/// go-libp2p's `swarm.key` format (libp2p-wire.md §10):
///
///     /key/swarm/psk/1.0.0/
///     /base16/
///     <64 hex digits>
///
/// go also accepts `/base64/` and `/bin/` encodings, and so do we; we write `/base16/`, the one
/// every implementation reads.
public struct SwarmKey: Sendable {
    public static let header = "/key/swarm/psk/1.0.0/"
    public static let byteCount = 32

    public let secret: SecretBytes

    public init(secret: SecretBytes) {
        precondition(secret.count == SwarmKey.byteCount, "a swarm key is 32 bytes")
        self.secret = secret
    }

    /// A new random key.
    public static func generate() -> SwarmKey {
        var bytes = SecureRandom.bytes(byteCount)
        return SwarmKey(secret: SecretBytes(consuming: &bytes))
    }

    /// Parses a key file's contents. Header lines end in `\n` (a `\r` before it is dropped, as
    /// go does); the key line may end the file without one.
    public init(fileContents: [UInt8]) throws(SwarmKeyError) {
        var lines: [[UInt8]] = []
        var rest = fileContents[...]
        // Header, encoding: two lines; then the key, which for `/bin/` is raw bytes to the end.
        for _ in 0..<2 {
            guard let newline = rest.firstIndex(of: 0x0a) else { throw .truncated }
            var line = Array(rest[..<newline])
            if line.last == 0x0d { line.removeLast() }
            lines.append(line)
            rest = rest[(newline + 1)...]
        }
        guard String(decoding: lines[0], as: UTF8.self) == SwarmKey.header else {
            throw .badHeader(String(decoding: lines[0].prefix(40), as: UTF8.self))
        }
        let encoding = String(decoding: lines[1], as: UTF8.self)
        var key: [UInt8]
        switch encoding {
        case "/base16/":
            key = try SwarmKey.decodeHex(SwarmKey.trimmed(rest))
        case "/base64/":
            key = try SwarmKey.decodeBase64(SwarmKey.trimmed(rest))
        case "/bin/":
            key = Array(rest)
        default:
            throw .unknownEncoding(String(encoding.prefix(40)))
        }
        defer { SecretBytes.wipe(&key) }
        guard key.count == SwarmKey.byteCount else { throw .wrongLength(key.count) }
        self.init(secret: SecretBytes(copying: key))
    }

    /// The file's contents, in `/base16/` (lower-case hex, ending in a newline).
    public var fileContents: [UInt8] {
        var key = secret.array
        defer { SecretBytes.wipe(&key) }
        return Array("\(SwarmKey.header)\n/base16/\n".utf8) + SwarmKey.hex(key) + [0x0a]
    }

    /// A short name for the key that reveals nothing of it, so that two operators can check
    /// they hold the same one (`status`, `info`, `doctor`): the first 8 bytes of
    /// SHA-256("p2p-sync swarm key id" ‖ key), in hex. (go and rust print a SHAKE128
    /// fingerprint, which libsodium cannot compute: this is ours, not theirs.)
    public var identifier: String {
        var input = Array("p2p-sync swarm key id".utf8)
        input += secret.array
        defer { SecretBytes.wipe(&input) }
        return String(decoding: SwarmKey.hex(SHA256.hash(input).prefix(8)), as: UTF8.self)
    }

    /// Lower-case hex digits of `bytes`.
    private static func hex<C: Collection<UInt8>>(_ bytes: C) -> [UInt8] {
        let digits = Array("0123456789abcdef".utf8)
        return bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0f)]] }
    }

    /// The key line without surrounding whitespace (a trailing newline, CR, spaces).
    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let space: Set<UInt8> = [0x20, 0x09, 0x0a, 0x0d]
        var slice = bytes
        while let first = slice.first, space.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, space.contains(last) { slice = slice.dropLast() }
        return slice
    }

    private static func decodeHex(_ text: ArraySlice<UInt8>) throws(SwarmKeyError) -> [UInt8] {
        guard text.count % 2 == 0 else { throw .badDigits("an odd number of hex digits (\(text.count))") }
        var out: [UInt8] = []
        out.reserveCapacity(text.count / 2)
        var high: UInt8?
        for (offset, c) in text.enumerated() {
            let value: UInt8
            switch c {
            case 0x30...0x39: value = c - 0x30
            case 0x61...0x66: value = c - 0x61 + 10
            case 0x41...0x46: value = c - 0x41 + 10
            default: throw .badDigits("a character that is not a hex digit at position \(offset + 1)")
            }
            if let h = high { out.append(h << 4 | value); high = nil } else { high = value }
        }
        return out
    }

    private static func decodeBase64(_ text: ArraySlice<UInt8>) throws(SwarmKeyError) -> [UInt8] {
        var out: [UInt8] = []
        var accumulator: UInt32 = 0, bits = 0
        var padding = 0
        for (offset, c) in text.enumerated() {
            let value: UInt32
            switch c {
            case 0x41...0x5a: value = UInt32(c - 0x41)
            case 0x61...0x7a: value = UInt32(c - 0x61 + 26)
            case 0x30...0x39: value = UInt32(c - 0x30 + 52)
            case 0x2b: value = 62
            case 0x2f: value = 63
            case 0x3d: padding += 1; continue
            default: throw .badDigits("a character that is not standard base64 at position \(offset + 1)")
            }
            guard padding == 0 else { throw .badDigits("base64 digits after padding") }
            accumulator = accumulator << 6 | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return out
    }
}

/// Why a swarm key file could not be used; each says what to fix.
public enum SwarmKeyError: Error, Equatable, CustomStringConvertible {
    case truncated
    case badHeader(String)
    case unknownEncoding(String)
    case badDigits(String)
    case wrongLength(Int)

    public var description: String {
        switch self {
        case .truncated:
            "the file ends before its two header lines (\(SwarmKey.header), then /base16/); make one with `p2p-syncctl keygen swarm-key`"
        case .badHeader(let line):
            "the first line is \"\(line)\", not \(SwarmKey.header)"
        case .unknownEncoding(let line):
            "the second line is \"\(line)\"; it must be /base16/, /base64/ or /bin/"
        case .badDigits(let what):
            "the key has \(what)"
        case .wrongLength(let count):
            "the key is \(count) bytes; a swarm key is exactly 32 (64 hex digits)"
        }
    }
}
