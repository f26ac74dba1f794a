/// base58btc with the bitcoin alphabet (libp2p-wire.md §1.3), as used for legacy peer IDs.
/// Each leading zero byte is one leading `1`; the rest is a big-number base conversion.
public enum Base58 {
    static let alphabet = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        String(decoding: BaseX.encode(bytes, alphabet: alphabet), as: UTF8.self)
    }

    public static func decode(_ text: String) throws(Base58Error) -> [UInt8] {
        do {
            return try BaseX.decode(text, alphabet: alphabet)
        } catch {
            throw .invalidCharacter(error.character, offset: error.offset)
        }
    }
}
