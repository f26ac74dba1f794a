/// Lowercase base36, the multibase `k` encoding (libp2p-wire.md §1.3), accepted for CID peer IDs.
/// Leading zero bytes are leading `0` characters, as in base58.
enum Base36 {
    static let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyz".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        String(decoding: BaseX.encode(bytes, alphabet: alphabet), as: UTF8.self)
    }

    /// Decodes base36; uppercase letters are accepted too (multibase `K`).
    static func decode(_ text: String) throws(BaseXInvalidCharacter) -> [UInt8] {
        try BaseX.decode(text.lowercased(), alphabet: alphabet)
    }
}
