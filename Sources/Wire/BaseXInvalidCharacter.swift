/// A bad character found by `BaseX.decode`, with its position (a UTF-8 byte offset).
struct BaseXInvalidCharacter: Error {
    let character: Character
    let offset: Int
}
