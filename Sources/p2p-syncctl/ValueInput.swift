import ArgumentParser

/// A value read from a file or standard input (`add KEY --file PATH`, `add KEY -`): at most
/// 1 MiB, and UTF-8 text, since values are strings; anything else is a usage error that says
/// what was wrong before a request is sent.
enum ValueInput {
    static let maxBytes = 1 << 20

    static func read(path: String, shownAs name: String) throws -> String {
        let bytes: [UInt8]
        do { bytes = try ImportInput.read(path, limit: maxBytes + 1) } catch let failure as ImportFailure {
            throw ValidationError(failure.message)
        }
        guard bytes.count <= maxBytes else {
            throw ValidationError("\(name) holds more than 1 MiB; a value is at most 1,048,576 bytes")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ValidationError("\(name) is not UTF-8 text; values are text: encode binary data first, e.g. base64 -w0 FILE")
        }
        return text
    }
}
