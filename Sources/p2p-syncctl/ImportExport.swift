#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import ControlProtocol
import JSON

/// `p2p-syncctl import FILE|-`: many writes from JSON lines, in batches the daemon commits
/// whole. The entire input is read and checked first, so a malformed line stops the import
/// before anything is written; a batch the daemon then refuses (a value too large to
/// replicate, the clock check) is not applied, the batches before it are.
struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write many keys from JSON lines: {\"key\":\"...\",\"value\":\"...\"} (a null value deletes).",
        discussion: """
            The input is what `export` writes, so export then import restores a replica elsewhere. Every line is checked before anything is written: a bad line is named by its number and nothing is imported. Then the writes go in batches of up to 5,000 (and 900 KB); each batch is committed in one transaction, all or nothing, and replicated as batches. If the daemon refuses a batch, the batches before it stay and nothing after it is written; the message says which lines went in. On a terminal a progress line shows the count, the rate and the time left.
            """)
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "The file of JSON lines, or - for standard input.") var file: String

    static let batchEntries = 5_000
    static let batchBytes = 900_000

    func run() throws {
        let bytes: [UInt8]
        do { bytes = try ImportInput.read(file) } catch { throw ImportFailure(message: "\(error)") }
        let lines: [ImportLine]
        do { lines = try ImportInput.parse(bytes) } catch { throw ImportFailure(message: "\(error); nothing was imported") }
        let client = try ImportFailure.client(globals)
        var progress = Progress(total: lines.count, verb: "importing")
        var written = 0, deleted = 0, start = 0
        while start < lines.count {
            var end = start, size = 0
            while end < lines.count, end - start < Import.batchEntries, size + lines[end].size <= Import.batchBytes || end == start {
                size += lines[end].size
                end += 1
            }
            let batch = lines[start..<end].map { BatchWrite(key: $0.key, value: $0.value) }
            let response: ControlResponse
            do { response = try client.call(.writeBatch(batch)) } catch {
                progress.finish()
                throw ImportFailure(message: "\(error); lines \(Self.range(lines, 0, start)) were imported, nothing after")
            }
            switch response {
            case .success(_, let result):
                written += Int(result["written"]?.intValue ?? 0)
                deleted += Int(result["deleted"]?.intValue ?? 0)
            case .failure(let error):
                progress.finish()
                let done = start == 0 ? "nothing was imported" : "lines \(Self.range(lines, 0, start)) were imported, nothing from line \(lines[start].number) on"
                throw ImportFailure(message: "the daemon refused the batch of lines \(Self.range(lines, start, end)): \(error.message); \(done)")
            case .event:
                break
            }
            start = end
            progress.update(done: start)
        }
        progress.finish()
        let seconds = progress.elapsed
        let summary = "imported \(lines.count) line\(lines.count == 1 ? "" : "s"): \(written) write\(written == 1 ? "" : "s"), \(deleted) delete\(deleted == 1 ? "" : "s") in \(Progress.format(seconds)) s"
            + (seconds > 0 ? " (\(Int(Double(lines.count) / seconds))/s)" : "")
        if globals.json {
            print(JSON.object(["lines": .int(lines.count), "written": .int(written), "deleted": .int(deleted), "seconds": .double(seconds)]).encodedString)
        } else {
            print(summary)
        }
    }

    /// "3–7" in line numbers of the file for lines[from..<to].
    static func range(_ lines: [ImportLine], _ from: Int, _ to: Int) -> String {
        guard to > from else { return "(none)" }
        return from + 1 == to ? "\(lines[from].number)" : "\(lines[from].number)–\(lines[to - 1].number)"
    }
}

/// `p2p-syncctl export [PREFIX]`: every live key (or those starting with PREFIX), in key order,
/// as JSON lines `import` reads, fetched a page at a time.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print every key and value (or those under PREFIX) as JSON lines that import reads.",
        discussion: "Deleted keys are not exported. Output goes to standard output; on a terminal, progress and the summary go to standard error.")
    @OptionGroup var globals: GlobalOptions
    @Argument(help: "Only keys starting with this (exact bytes).") var prefix: String?

    static let pageSize = 10_000

    func run() throws {
        let client = try ImportFailure.client(globals)
        var after: String?
        var count = 0
        var progress = Progress(total: nil, verb: "exporting")
        while true {
            let response: ControlResponse
            do { response = try client.call(.list(prefix: prefix, limit: Export.pageSize, after: after)) } catch {
                throw ImportFailure(message: "\(error) (after \(count) keys)")
            }
            guard case .success(_, let result) = response, let entries = result["entries"]?.arrayValue else {
                if case .failure(let error) = response { throw ImportFailure(message: error.message) }
                throw ImportFailure(message: "unexpected answer to list")
            }
            var out: [UInt8] = []
            for entry in entries {
                guard let key = entry["key"]?.stringValue else { continue }
                out += JSON.object(["key": .string(key), "value": entry["value"] ?? .null]).encoded()
                out.append(0x0a)
                after = key
            }
            Console.output(out)
            count += entries.count
            progress.update(done: count)
            if entries.count < Export.pageSize { break }
        }
        progress.finish()
        if isatty(2) != 0 || isatty(1) == 0 {
            Console.error("exported \(count) key\(count == 1 ? "" : "s") in \(Progress.format(progress.elapsed)) s\n")
        }
    }
}

/// A failure of import or export: the message, exit status 1.
struct ImportFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }

    /// A connection to the daemon, or exit status 3 with why there is none.
    static func client(_ globals: GlobalOptions) throws -> ControlClient {
        guard let path = globals.controlPath() else { throw ImportFailure(message: "no control socket: set --control, --data-dir, P2P_SYNC_HOME or HOME") }
        do { return try ControlClient(path: path) } catch {
            Console.error("p2p-syncctl: \(error)\n")
            throw ExitCode(ExitStatus.noDaemon)
        }
    }
}

/// One checked line of an import.
struct ImportLine {
    let number: Int
    let key: String
    let value: String?
    /// About the bytes it takes in a request.
    let size: Int
}

enum ImportInput {
    /// The whole file, or standard input for "-"; reading stops once `limit` bytes are in.
    static func read(_ file: String, limit: Int = .max) throws -> [UInt8] {
        let fd = file == "-" ? 0 : open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ImportFailure(message: "cannot open \(file): \(String(cString: strerror(errno)))") }
        defer { if fd != 0 { close(fd) } }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ImportFailure(message: "cannot read \(file): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            bytes += chunk[..<n]
            if bytes.count >= limit { break }
        }
        return bytes
    }

    /// Every non-blank line as a write; the first bad one is named by its number.
    static func parse(_ bytes: [UInt8]) throws -> [ImportLine] {
        var lines: [ImportLine] = []
        var number = 0
        var start = 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: 0x0a) ?? bytes.count
            number += 1
            var line = bytes[start..<end]
            start = end + 1
            if line.last == 0x0d { line = line.dropLast() }
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            lines.append(try parseLine(Array(line), number: number))
        }
        return lines
    }

    static func parseLine(_ line: [UInt8], number: Int) throws -> ImportLine {
        func bad(_ why: String) -> ImportFailure { ImportFailure(message: "line \(number): \(why)") }
        let json: JSON
        do { json = try JSONParser.parse(line) } catch { throw bad("not valid JSON: \(error)") }
        guard case .object(let fields) = json else { throw bad("expected an object like {\"key\":\"k\",\"value\":\"v\"}") }
        for name in fields.keys where name != "key" && name != "value" {
            throw bad("unexpected field \"\(name)\" (a line has \"key\" and \"value\" only)")
        }
        guard let key = fields["key"]?.stringValue else { throw bad("\"key\" must be a string") }
        let keyBytes = key.utf8.count
        guard keyBytes >= 1 && keyBytes <= 1024 else { throw bad("the key is \(keyBytes) bytes; a key is 1 to 1024") }
        guard let value = fields["value"] else { throw bad("no \"value\" (give null to delete the key)") }
        guard value.isNull || value.stringValue != nil else { throw bad("\"value\" must be a string, or null to delete") }
        let valueBytes = value.stringValue?.utf8.count ?? 0
        guard valueBytes <= 1 << 20 else { throw bad("the value is \(valueBytes) bytes; the limit is 1 MiB (1,048,576)") }
        return ImportLine(number: number, key: key, value: value.stringValue, size: line.count + 8)
    }
}

/// A progress line on standard error when it is a terminal: count, rate, time left.
struct Progress {
    let total: Int?
    let verb: String
    private let started = Progress.now()
    private var lastDrawn = 0.0
    private var drawn = false
    private let terminal = isatty(2) != 0

    init(total: Int?, verb: String) {
        self.total = total
        self.verb = verb
    }

    var elapsed: Double { Progress.now() - started }

    mutating func update(done: Int) {
        guard terminal else { return }
        let now = Progress.now()
        guard now - lastDrawn >= 0.1 || done == total else { return }
        lastDrawn = now
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        var line = "\r\(verb): \(done)"
        if let total, total > 0 {
            line += " / \(total) (\(done * 100 / total)%)"
            if rate > 0 { line += ", \(Int(rate))/s, \(Progress.format(Double(total - done) / rate)) s left" }
        } else if rate > 0 {
            line += ", \(Int(rate))/s"
        }
        Console.error(line + "\u{1b}[K")
        drawn = true
    }

    mutating func finish() {
        if drawn { Console.error("\r\u{1b}[K") }
        drawn = false
    }

    static func format(_ seconds: Double) -> String {
        seconds < 10 ? String(format: "%.1f", seconds) : "\(Int(seconds.rounded()))"
    }

    static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
}
