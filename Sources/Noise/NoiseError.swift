import Wire

/// Why a Noise handshake or session failed. Every case ends the connection.
public enum NoiseError: Error, Equatable, Sendable, CustomStringConvertible {
    case frameTooShort(expected: Int, got: Int)
    case unexpectedFrameLength(message: Int, got: Int)
    case decryptionFailed(stage: String)
    case badPayload(String)
    case unsupportedIdentityKey(String)
    case badIdentitySignature
    case peerIDMismatch(expected: PeerID, got: PeerID)
    case invalidPublicKey
    case nonceExhausted
    case frameTooLarge(Int)

    public var description: String {
        switch self {
        case .frameTooShort(let expected, let got): "Noise frame of \(got) bytes is shorter than the \(expected) bytes it must hold"
        case .unexpectedFrameLength(let message, let got): "Noise handshake message \(message) has an unexpected length of \(got) bytes"
        case .decryptionFailed(let stage): "Noise decryption failed in \(stage) (wrong key or corrupted data)"
        case .badPayload(let why): "bad Noise handshake payload: \(why)"
        case .unsupportedIdentityKey(let why): "unsupported identity key in the Noise payload: \(why)"
        case .badIdentitySignature: "the peer's identity signature over its Noise static key does not verify"
        case .peerIDMismatch(let expected, let got): "dialed \(expected) but the peer proved to be \(got)"
        case .invalidPublicKey: "peer sent an invalid X25519 public key (low-order point)"
        case .nonceExhausted: "Noise nonce exhausted; the connection must be re-established"
        case .frameTooLarge(let n): "Noise frame of \(n) bytes exceeds 65535"
        }
    }
}
