/// Why a QUIC connection or endpoint could not go on, in words a user can act on.
public enum QUICError: Error, Equatable, Sendable, CustomStringConvertible {
    /// ngtcp2 refused an operation; `code` is its (negative) error code.
    case library(String, code: Int32)
    /// The TLS layer (GnuTLS, the libp2p certificate check) failed.
    case tls(String)
    /// The peer closed the connection (CONNECTION_CLOSE), with its reason.
    case closedByPeer(String)
    /// No packet from the peer for the idle time-out.
    case idleTimeout
    /// The datagram is not for this connection or cannot be parsed.
    case malformed(String)

    public var description: String {
        switch self {
        case .library(let what, let code): "QUIC: \(what) (ngtcp2 error \(code))"
        case .tls(let why): "QUIC TLS: \(why)"
        case .closedByPeer(let why): "QUIC: the peer closed the connection: \(why)"
        case .idleTimeout: "QUIC: no packet from the peer within the idle time-out"
        case .malformed(let why): "QUIC: \(why)"
        }
    }
}
