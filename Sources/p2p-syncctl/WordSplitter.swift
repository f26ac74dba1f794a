/// Splits a prompt line into words the way a shell would for simple cases: whitespace
/// separates, "double" and 'single' quotes group, a backslash escapes the next character
/// (outside single quotes).
enum WordSplitter {
    struct UnterminatedQuote: Error, CustomStringConvertible {
        let quote: Character
        var description: String { "unterminated \(quote) quote" }
    }

    static func split(_ line: String) throws -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character? = nil
        var escaped = false
        for c in line {
            if escaped {
                current.append(c); escaped = false; inWord = true
                continue
            }
            if let q = quote {
                if c == q { quote = nil }
                else if c == "\\" && q == "\"" { escaped = true }
                else { current.append(c) }
                continue
            }
            switch c {
            case "\\": escaped = true; inWord = true
            case "\"", "'": quote = c; inWord = true
            case _ where c.isWhitespace:
                if inWord { words.append(current); current = ""; inWord = false }
            default: current.append(c); inWord = true
            }
        }
        if let quote { throw UnterminatedQuote(quote: quote) }
        if escaped { current.append("\\") }
        if inWord { words.append(current) }
        return words
    }
}
