import Wire

/// The libp2p Noise handshake payload (libp2p-wire.md section 3.3, specs noise/README.md):
/// ```
/// message NoiseHandshakePayload {
///   optional bytes identity_key = 1;   // serialized PublicKey
///   optional bytes identity_sig = 2;   // Sign(identity, "noise-libp2p-static-key:" ‖ static X25519 public key)
///   optional NoiseExtensions extensions = 4;
/// }
/// ```
/// We send no extensions: no `stream_muxers` means every peer falls back to multistream for
/// the muxer (section 3.4), and we ignore what a peer sends there.
public struct NoiseHandshakePayload: Equatable, Sendable {
    public static let signaturePrefix = Array("noise-libp2p-static-key:".utf8)

    public var identityKey: [UInt8]
    public var identitySignature: [UInt8]

    public init(identityKey: [UInt8], identitySignature: [UInt8]) {
        self.identityKey = identityKey
        self.identitySignature = identitySignature
    }

    public func encoded() -> [UInt8] {
        var writer = ProtobufWriter()
        writer.bytesField(1, identityKey)
        writer.bytesField(2, identitySignature)
        return writer.bytes
    }

    public init(decoding bytes: [UInt8]) throws(NoiseError) {
        var reader = ProtobufReader(bytes)
        var key: [UInt8]?
        var signature: [UInt8]?
        while true {
            let field: (field: UInt64, value: ProtobufValue)?
            do { field = try reader.next() } catch { throw .badPayload("\(error)") }
            guard let (number, value) = field else { break }
            switch (number, value) {
            case (1, .bytes(let b)): key = b
            case (2, .bytes(let b)): signature = b
            case (1, _), (2, _): throw .badPayload("field \(number) has the wrong wire type")
            default: continue  // extensions (4), py's early_data, future fields
            }
        }
        guard let key else { throw .badPayload("no identity_key") }
        guard let signature else { throw .badPayload("no identity_sig") }
        self.init(identityKey: key, identitySignature: signature)
    }
}
