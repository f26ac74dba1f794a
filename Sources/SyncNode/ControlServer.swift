#if canImport(Glibc)
import Glibc
#endif
import ControlProtocol
import JSON
import Reactor

/// One client of the control socket.
public final class ControlSession {
    public let number: Int
    let connection: StreamConnection
    var framer = LineFramer()
    /// Set while the client runs `watch`: the key prefix it follows ("" for everything).
    public internal(set) var watchPrefix: String?

    init(number: Int, connection: StreamConnection) {
        self.number = number
        self.connection = connection
    }

    public var isOpen: Bool { connection.isOpen }

    public func send(_ response: ControlResponse) {
        guard connection.isOpen else { return }
        connection.write(response.encoded())
    }
}

/// The control socket (DESIGN.md section 1, docs/CONTROL.md): a Unix stream socket, mode
/// 0600, newline-delimited JSON requests and responses.
///
/// It frames lines and parses requests; what a request means is the `dispatch` closure's
/// business (the Node). Malformed input gets an error line and the session goes on; the
/// server never trusts a client to finish a line, to read its responses, or to stay.
public final class ControlServer {
    /// Local clients are few; this only stops a runaway script from exhausting fds.
    public static let maxSessions = 128
    /// A client that stops reading while a large `list` answer is pending is cut off past this.
    public static let maxPendingOutputPerSession = 64 << 20

    public let path: String
    private let reactor: Reactor
    private let logger: Logger
    private var listener: StreamListener?
    private var sessions: [Int: ControlSession] = [:]
    private var nextSessionNumber = 1
    public var dispatch: ((ControlRequest, ControlSession) -> Void)?

    public private(set) var requestsServed = 0
    public private(set) var requestsRefused = 0

    public init(reactor: Reactor, path: String, logger: Logger) {
        self.reactor = reactor
        self.path = path
        self.logger = logger
    }

    public var sessionCount: Int { sessions.count }

    /// Creates the socket. A file already at the path is removed only if it is a socket that
    /// nobody answers on (a daemon that crashed); a live daemon's socket is left alone.
    public func start() throws(ConfigurationError) {
        var info = stat()
        if lstat(path, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFSOCK else {
                throw .controlSocketBlocked(path: path, reason: "a file that is not a socket is in the way")
            }
            if (try? ControlClient(path: path)) != nil {
                throw .controlSocketInUse(path: path)
            }
            logger.info("removing stale control socket \(path) (no daemon answers on it)")
            unlink(path)
        }
        do {
            let listener = try reactor.listenUnix(path: path, mode: 0o600)
            listener.onAccept = { [weak self] connection in self?.accepted(connection) }
            self.listener = listener
        } catch {
            throw .controlSocketFailed(path: path, reason: "\(error)")
        }
    }

    /// Closes every session and removes the socket file. Called after the loop has stopped,
    /// so sessions are closed at once: their answered requests were already written.
    public func stop() {
        listener?.close()
        listener = nil
        for session in sessions.values { session.connection.close() }
        sessions.removeAll()
        unlink(path)
    }

    /// Sessions that are watching keys under a prefix of `key`.
    public func watchers(of key: String) -> [ControlSession] {
        sessions.values.filter { session in
            guard let prefix = session.watchPrefix else { return false }
            return key.utf8.starts(with: prefix.utf8)
        }
    }

    private func accepted(_ connection: StreamConnection) {
        guard sessions.count < ControlServer.maxSessions else {
            logger.warning("refusing control client: \(ControlServer.maxSessions) sessions already open")
            connection.write(ControlResponse.failure(ControlError(.unavailable, "too many control clients (\(ControlServer.maxSessions)); try again later")).encoded())
            connection.closeAfterFlush()
            return
        }
        let session = ControlSession(number: nextSessionNumber, connection: connection)
        nextSessionNumber += 1
        sessions[session.number] = session
        connection.maxPendingOutput = ControlServer.maxPendingOutputPerSession
        logger.debug("control client #\(session.number) connected")
        connection.onRead = { [weak self, weak session] ring in
            guard let self, let session else { return }
            let bytes = ring.read(ring.readableBytes)
            self.received(bytes, on: session)
        }
        connection.onClose = { [weak self, weak session] reason in
            guard let self, let session else { return }
            self.sessions[session.number] = nil
            switch reason {
            case .endOfFile, .closedLocally:
                self.logger.debug("control client #\(session.number) disconnected")
            case .error(let errno):
                self.logger.debug("control client #\(session.number) dropped: \(errno)")
            case .outputOverflow:
                self.logger.warning("control client #\(session.number) cut off: it stopped reading \(ControlServer.maxPendingOutputPerSession >> 20) MiB of responses")
            }
        }
    }

    private func received(_ bytes: [UInt8], on session: ControlSession) {
        for event in session.framer.receivedBytes(bytes) {
            guard session.isOpen else { return }
            switch event {
            case .tooLong(let seen):
                requestsRefused += 1
                logger.warning("control client #\(session.number) sent a line over \(session.framer.maxLineBytes) bytes (\(seen) seen); refused")
                session.send(.failure(ControlError(.lineTooLong, "request line is longer than the \(session.framer.maxLineBytes)-byte limit; it was discarded")))
            case .line(let line):
                if line.isEmpty { continue }
                do {
                    let request = try ControlRequest.parse(line: line)
                    requestsServed += 1
                    logger.trace("control client #\(session.number): \(request.command.name)")
                    dispatch?(request, session)
                } catch {
                    requestsRefused += 1
                    logger.debug("control client #\(session.number): refused request: \(error.message)")
                    session.send(.failure(error))
                }
            }
        }
    }
}
