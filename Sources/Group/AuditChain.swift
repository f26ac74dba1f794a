import JSON
import P2PCrypto
import Wire

/// The audit log's format (docs/GROUPS.md, "Audit log"): one JSON object per line, each with
/// its sequence number `n` (from 1) and `prev`, the SHA-256 of the previous line's bytes (64
/// zeros for the first). The node keeps the count and the last line's hash beside the log
/// (`Head`), so that a removed last line is found too. Pure: the node does the file I/O.
public struct AuditChain: Sendable {
    public struct Head: Equatable, Sendable {
        public var count: Int
        public var lastHash: [UInt8]
        public static let empty = Head(count: 0, lastHash: [UInt8](repeating: 0, count: SHA256.digestCount))

        public init(count: Int, lastHash: [UInt8]) {
            self.count = count
            self.lastHash = lastHash
        }

        /// "COUNT HASH", as the node stores it.
        public var text: String { "\(count) \(Base16.encode(lastHash))" }

        public init?(text: String) {
            let parts = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
            guard parts.count == 2, let count = Int(parts[0]), count >= 0,
                  let hash = Base16.decode(String(parts[1])), hash.count == SHA256.digestCount else { return nil }
            self.init(count: count, lastHash: hash)
        }
    }

    public private(set) var head: Head

    public init(head: Head = .empty) { self.head = head }

    /// The next line (without its newline) for `event` at `time` with `fields`, and the head
    /// after it. `fields` may not use the names `n`, `prev`, `event` or `time`.
    public mutating func append(event: String, time: String, fields: [String: JSON]) -> String {
        var object = fields
        object["n"] = .int(head.count + 1)
        object["prev"] = .string(Base16.encode(head.lastHash))
        object["event"] = .string(event)
        object["time"] = .string(time)
        let line = JSON.object(object).encodedString
        head = Head(count: head.count + 1, lastHash: SHA256.hash(Array(line.utf8)))
        return line
    }

    /// One thing wrong with a log, naming its line (1-based).
    public struct Problem: Equatable, Sendable, CustomStringConvertible {
        public let line: Int
        public let message: String
        public var description: String { "line \(line): \(message)" }
    }

    /// Checks every line's chain link and number, and the end against `head` (nil: no head
    /// recorded). Empty when the log is intact.
    public static func verify(lines: [String], head: Head?) -> [Problem] {
        var problems: [Problem] = []
        var previous = Head.empty.lastHash
        var expectedNumber = 1
        for (index, line) in lines.enumerated() {
            let number = index + 1
            guard let object = (try? JSONParser.parse(line))?.objectValue else {
                problems.append(Problem(line: number, message: "not a JSON object: the line was changed"))
                previous = SHA256.hash(Array(line.utf8))
                expectedNumber += 1
                continue
            }
            let n = object["n"]?.intValue.map(Int.init)
            let prev = object["prev"]?.stringValue.flatMap(Base16.decode)
            if let n, n > expectedNumber {
                problems.append(Problem(line: number, message: "entries \(expectedNumber) to \(n - 1) are missing: lines were removed before it"))
            } else if let n, n < expectedNumber {
                problems.append(Problem(line: number, message: "entry \(n) comes again or out of order: lines were copied or moved"))
            } else if prev != previous {
                // The number fits, the link does not: this line's predecessor was changed
                // (or, for the first line, this line's own link).
                problems.append(Problem(line: max(1, number - 1), message: number == 1 ? "the first line's link was changed" : "the line was changed (line \(number) no longer chains to it)"))
            } else if canonical(object) != line {
                problems.append(Problem(line: number, message: "the line was changed (it is not as the node wrote it)"))
            }
            previous = SHA256.hash(Array(line.utf8))
            expectedNumber = (n ?? expectedNumber) + 1
        }
        if let head {
            if head.count > lines.count {
                problems.append(Problem(line: lines.count + 1, message: "\(head.count - lines.count) line(s) at the end were removed (the node wrote \(head.count))"))
            } else if head.count < lines.count {
                problems.append(Problem(line: head.count + 1, message: "lines from here on were added by something other than the node"))
            } else if !lines.isEmpty, previous != head.lastHash {
                problems.append(Problem(line: lines.count, message: "the last line was changed"))
            }
        }
        return problems
    }

    private static func canonical(_ object: [String: JSON]) -> String { JSON.object(object).encodedString }
}
