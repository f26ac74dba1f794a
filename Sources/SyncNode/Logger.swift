#if canImport(Glibc)
import Glibc
#endif

/// Log levels, most severe first.
public enum LogLevel: Int, Comparable, Sendable, CaseIterable {
    case error = 0, warning, info, debug, trace

    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }

    public init?(name: String) {
        switch name.lowercased() {
        case "error": self = .error
        case "warn", "warning": self = .warning
        case "info": self = .info
        case "debug": self = .debug
        case "trace": self = .trace
        default: return nil
        }
    }

    var label: String {
        switch self {
        case .error: "ERROR"
        case .warning: "WARN "
        case .info: "INFO "
        case .debug: "DEBUG"
        case .trace: "TRACE"
        }
    }
}

/// Which level each area logs at, parsed from `--log-level` / `P2P_SYNC_LOG`:
/// `info`, `debug`, or `gossipsub=debug,control=trace,info` (a bare level is the default).
public struct LogFilter: Equatable, Sendable {
    public var defaultLevel: LogLevel
    public var areaLevels: [String: LogLevel]

    public init(defaultLevel: LogLevel = .info, areaLevels: [String: LogLevel] = [:]) {
        self.defaultLevel = defaultLevel
        self.areaLevels = areaLevels
    }

    public init(parsing spec: String) throws(ConfigurationError) {
        self.init()
        for part in spec.split(separator: ",").map({ $0.trimmingWhitespace }) where !part.isEmpty {
            if let eq = part.firstIndex(of: "=") {
                let area = String(part[..<eq])
                let levelName = String(part[part.index(after: eq)...])
                guard !area.isEmpty, let level = LogLevel(name: levelName) else {
                    throw .invalidLogLevel(spec: spec, part: String(part))
                }
                areaLevels[area] = level
            } else {
                guard let level = LogLevel(name: String(part)) else {
                    throw .invalidLogLevel(spec: spec, part: String(part))
                }
                defaultLevel = level
            }
        }
    }

    public func level(for area: String) -> LogLevel { areaLevels[area] ?? defaultLevel }
}

/// Where log lines go: stderr by default, one line per record,
/// `2026-11-25T03:50:00.123Z INFO  control: message`.
public final class LogSink {
    public var filter: LogFilter
    private let fd: Int32

    public init(filter: LogFilter, fd: Int32 = STDERR_FILENO) {
        self.filter = filter
        self.fd = fd
    }

    public func logger(_ area: String) -> Logger { Logger(area: area, sink: self) }

    func write(_ level: LogLevel, _ area: String, _ message: String) {
        var line = Timestamp.iso8601(millis: WallClock.nowMillis())
        line += " \(level.label) \(area): \(message)\n"
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                // A log write that fails (stderr closed, disk full) is dropped: logging must never stop the node.
                if n <= 0 { if n < 0 && errno == EINTR { continue }; return }
                offset += n
            }
        }
    }
}

/// A logger for one area of the node (`control`, `node`, `store`, later `gossipsub`, `mdns`, ...).
public struct Logger {
    public let area: String
    let sink: LogSink

    public func isEnabled(_ level: LogLevel) -> Bool { level <= sink.filter.level(for: area) }

    public func log(_ level: LogLevel, _ message: @autoclosure () -> String) {
        if isEnabled(level) { sink.write(level, area, message()) }
    }

    public func error(_ message: @autoclosure () -> String) { log(.error, message()) }
    public func warning(_ message: @autoclosure () -> String) { log(.warning, message()) }
    public func info(_ message: @autoclosure () -> String) { log(.info, message()) }
    public func debug(_ message: @autoclosure () -> String) { log(.debug, message()) }
    public func trace(_ message: @autoclosure () -> String) { log(.trace, message()) }
}

extension Substring {
    var trimmingWhitespace: Substring {
        var s = self
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return s
    }
}
