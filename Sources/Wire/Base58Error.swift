/// Why text was not valid base58btc (libp2p-wire.md §1.3).
public enum Base58Error: Error, Equatable, Sendable, CustomStringConvertible {
    /// A character (at a UTF-8 byte offset) outside the bitcoin alphabet (which leaves out `0`, `O`, `I` and `l`).
    case invalidCharacter(Character, offset: Int)

    public var description: String {
        switch self {
        case .invalidCharacter(let c, let offset):
            "character \"\(c)\" at byte offset \(offset) is not in the base58btc alphabet (no 0, O, I or l)"
        }
    }
}
