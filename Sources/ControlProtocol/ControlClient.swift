#if canImport(Glibc)
import Glibc
#endif
import JSON

/// Why the client could not talk to the daemon at all (as opposed to the daemon answering
/// with an error). `p2p-syncctl` exits 3 for these.
public enum ControlConnectionError: Error, Equatable, Sendable, CustomStringConvertible {
    case noDaemon(path: String, reason: String)
    case pathTooLong(String)
    case closedByDaemon(path: String)
    case io(String)

    public var description: String {
        switch self {
        case .noDaemon(let path, let reason):
            return "cannot reach the daemon at \(path): \(reason) (is p2p-syncd running? start it with `p2p-syncd`, or point to it with --data-dir or --control)"
        case .pathTooLong(let path):
            return "control socket path is too long for a Unix socket (over 107 bytes): \(path)"
        case .closedByDaemon(let path):
            return "the daemon at \(path) closed the connection before answering"
        case .io(let message): return message
        }
    }
}

/// A blocking client for the control socket: one request line out, lines back.
///
/// Blocking I/O is right here: this runs in the short-lived `p2p-syncctl` process and in
/// benchmarks and tests, never inside the daemon's event loop.
public final class ControlClient {
    public let path: String
    private let fd: Int32
    private var framer = LineFramer(maxLineBytes: 512 << 20)
    private var readyLines: [[UInt8]] = []
    private var nextID: Int64 = 1

    public init(path: String) throws(ControlConnectionError) {
        self.path = path
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .io("socket() failed: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard pathBytes.count < capacity else { close(fd); throw .pathTooLong(path) }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .noDaemon(path: path, reason: reason)
        }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Sends a request and waits for its response (skipping any watch events).
    public func call(_ command: ControlCommand) throws(ControlConnectionError) -> ControlResponse {
        let id = JSON.int(Int(nextID))
        nextID += 1
        try send(ControlRequest(id: id, command: command))
        while true {
            let response = try readResponse()
            if case .event = response { continue }
            return response
        }
    }

    public func send(_ request: ControlRequest) throws(ControlConnectionError) {
        var bytes = request.encoded()
        bytes.append(0x0a)
        try sendRaw(bytes)
    }

    /// Writes bytes as they are (tests use this to send malformed input).
    public func sendRaw(_ bytes: [UInt8]) throws(ControlConnectionError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io("writing to \(path) failed: \(String(cString: strerror(errno)))")
            }
            offset += n
        }
    }

    /// The next line from the daemon, parsed.
    public func readResponse() throws(ControlConnectionError) -> ControlResponse {
        let line = try readLine()
        do {
            return try ControlResponse.parse(line: line)
        } catch {
            throw .io(error.message)
        }
    }

    /// The next raw line from the daemon.
    public func readLine() throws(ControlConnectionError) -> [UInt8] {
        // Without an interrupt descriptor the wait only ends with a line or an error.
        try readLine(interruptedBy: nil)!
    }

    /// The next raw line, or nil as soon as `interrupt` becomes readable (a signalfd, so that
    /// `watch` can end cleanly on Ctrl-C).
    public func readLine(interruptedBy interrupt: Int32?) throws(ControlConnectionError) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while readyLines.isEmpty {
            if let interrupt {
                var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: interrupt, events: Int16(POLLIN), revents: 0)]
                let ready = poll(&fds, 2, -1)
                if ready < 0 {
                    if errno == EINTR { continue }
                    throw .io("poll failed: \(String(cString: strerror(errno)))")
                }
                if fds[1].revents != 0 { return nil }
            }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io("reading from \(path) failed: \(String(cString: strerror(errno)))")
            }
            if n == 0 { throw .closedByDaemon(path: path) }
            for event in framer.receivedBytes(buffer[0..<n]) {
                if case .line(let line) = event { readyLines.append(line) }
            }
        }
        return readyLines.removeFirst()
    }
}
