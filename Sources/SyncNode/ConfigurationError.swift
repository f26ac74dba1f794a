/// Everything that stops the daemon from starting, each with a message that says what to do.
public enum ConfigurationError: Error, Equatable, CustomStringConvertible {
    case invalidLogLevel(spec: String, part: String)
    case noDataDirectory
    case cannotCreateDataDirectory(path: String, reason: String)
    case dataDirectoryNotWritable(path: String, reason: String)
    case alreadyRunning(dataDirectory: String, pid: String?)
    case identityUnreadable(path: String, reason: String)
    case cannotWriteIdentity(path: String, reason: String)
    case storeFailed(String)
    case listenFailed(address: String, reason: String)
    case portInUse(address: String)
    case controlSocketInUse(path: String)
    case controlSocketBlocked(path: String, reason: String)
    case controlSocketFailed(path: String, reason: String)
    case swarmKeyUnusable(path: String, reason: String)
    case privateNetworkNeedsTCP
    case groupFileUnusable(path: String, reason: String)
    case badInvite(String)

    public var description: String {
        switch self {
        case .invalidLogLevel(let spec, let part):
            return "invalid log level \"\(part)\" in \"\(spec)\": use error, warn, info, debug or trace, optionally per area as area=level (e.g. control=debug,info)"
        case .noDataDirectory:
            return "no data directory: set --data-dir, P2P_SYNC_HOME or HOME"
        case .cannotCreateDataDirectory(let path, let reason):
            return "cannot create data directory \(path): \(reason) (choose another with --data-dir)"
        case .dataDirectoryNotWritable(let path, let reason):
            return "data directory \(path) is not writable: \(reason) (fix its permissions or choose another with --data-dir)"
        case .alreadyRunning(let dir, let pid):
            let who = pid.map { " (pid \($0))" } ?? ""
            return "another p2p-syncd\(who) is already running with data directory \(dir) (stop it, or give this one its own --data-dir)"
        case .identityUnreadable(let path, let reason):
            return "cannot use identity key \(path): \(reason) (move the file away to make a new identity, which changes this node's peer ID)"
        case .cannotWriteIdentity(let path, let reason):
            return "cannot write identity key \(path): \(reason)"
        case .storeFailed(let message):
            return message
        case .listenFailed(let address, let reason):
            return "cannot listen on \(address): \(reason)"
        case .portInUse(let address):
            return "cannot listen on \(address): address in use (is another p2p-syncd running? try --port 0 for any free port)"
        case .controlSocketInUse(let path):
            return "control socket \(path) is in use by a running daemon (stop it, or use another --control path)"
        case .controlSocketBlocked(let path, let reason):
            return "cannot use control socket path \(path): \(reason)"
        case .controlSocketFailed(let path, let reason):
            return "cannot create control socket \(path): \(reason)"
        case .swarmKeyUnusable(let path, let reason):
            return "cannot use swarm key \(path): \(reason)"
        case .groupFileUnusable(let path, let reason):
            return "cannot use the group file \(path): \(reason) (remove it to leave the group and run as an open node)"
        case .badInvite(let why):
            return "--join: \(why)"
        case .privateNetworkNeedsTCP:
            return "a private network (swarm key) runs over TCP only, as libp2p's pnet does: drop --no-tcp, or run without a swarm key"
        }
    }
}
