import CNgtcp2

/// A client Initial's header fields, as the endpoint read them (`ngtcp2_accept`).
struct QUICInitialHeader {
    var destinationID: [UInt8]
    var sourceID: [UInt8]
    var token: [UInt8]
    var version: UInt32
}

/// The server side of one UDP socket, sans-I/O: it routes each datagram to the connection its
/// destination connection ID names, accepts new connections from client Initials, answers
/// unknown versions with Version Negotiation and, under load, asks clients to prove their
/// address with a Retry before any handshake state is kept (RFC 9000 §8.1).
///
/// Connections are named by a handle the owner chooses; the endpoint keeps only the routes.
public struct QUICEndpoint {
    /// What to do with one datagram.
    public enum Decision {
        /// For an existing connection.
        case deliver(to: Int)
        /// A new connection from a client Initial: the owner gives it a handle (`register`)
        /// and then passes it the same datagram.
        case accept(QUICConnection)
        /// Send these bytes back to the sender (Version Negotiation, Retry); keep no state.
        case reply([UInt8])
        /// Nothing to do (not QUIC, not for us, over a limit); `why` is for a debug log.
        case drop(String)
    }

    /// Half-open handshakes at once beyond which clients must first answer a Retry.
    public var retryThreshold = 64
    /// Half-open handshakes at once beyond which Initials are dropped even with a valid token.
    public var maxHalfOpen = 1024
    /// How long a Retry token stays valid.
    public var retryTokenLifetime: UInt64 = 10_000_000_000
    public let limits: QUICConnection.Limits

    private let local: QUICAddress
    private let tls: QUICTLSProvider
    private let random: (Int) -> [UInt8]
    /// Keys stateless reset tokens and Retry tokens; fresh per run.
    private let secret: [UInt8]
    private var routes: [[UInt8]: Int] = [:]
    static let connectionIDLength = 18

    public init(local: QUICAddress, tls: QUICTLSProvider, limits: QUICConnection.Limits = .init(),
                random: @escaping (Int) -> [UInt8]) {
        self.local = local
        self.tls = tls
        self.limits = limits
        self.random = random
        secret = random(32)
    }

    /// Decides what one datagram from `remote` is for. `halfOpen` is how many accepted
    /// connections have not finished their handshake.
    /// `source` and `halfOpen` are only evaluated for a new client Initial (the owner's count
    /// may walk its connections; datagrams of existing connections must not pay for that).
    public func route(_ datagram: UnsafeRawBufferPointer, from source: @autoclosure () -> QUICAddress,
                      halfOpen halfOpenCount: @autoclosure () -> Int, now: UInt64) -> Decision {
        guard let base = datagram.baseAddress?.assumingMemoryBound(to: UInt8.self), datagram.count > 0 else {
            return .drop("empty datagram")
        }
        var versionCID = ngtcp2_version_cid()
        let rv = ngtcp2_pkt_decode_version_cid(&versionCID, base, datagram.count, QUICEndpoint.connectionIDLength)
        if rv == NGTCP2_ERR_VERSION_NEGOTIATION {
            // Only for a datagram as large as a client Initial: a small one could make us an
            // amplifier (RFC 9000 §6.1).
            guard datagram.count >= 1200 else { return .drop("unknown version in a short datagram") }
            return .reply(versionNegotiation(versionCID))
        }
        guard rv == 0 else { return .drop("not a QUIC packet (\(QUICConnection.describe(rv)))") }
        let dcid = Array(UnsafeBufferPointer(start: versionCID.dcid, count: versionCID.dcidlen))
        if let handle = routes[dcid] { return .deliver(to: handle) }

        var header = ngtcp2_pkt_hd()
        guard ngtcp2_accept(&header, base, datagram.count) == 0 else {
            return .drop("a packet for no connection of ours")
        }
        let initial = QUICInitialHeader(
            destinationID: withUnsafePointer(to: &header.dcid) { QUICConnection.bytes(of: $0) },
            sourceID: withUnsafePointer(to: &header.scid) { QUICConnection.bytes(of: $0) },
            token: header.token.len > 0 ? Array(UnsafeBufferPointer(start: header.token.base, count: header.token.len)) : [],
            version: header.version)
        let halfOpen = halfOpenCount()
        guard halfOpen < maxHalfOpen else { return .drop("too many handshakes in progress (\(halfOpen))") }
        let remote = source()

        var originalDCID = initial.destinationID
        var retrySCID: [UInt8]?
        if initial.token.first == UInt8(NGTCP2_CRYPTO_TOKEN_MAGIC_RETRY) {
            guard let original = verifyRetryToken(initial, remote: remote, now: now) else {
                return .drop("an Initial with an invalid or expired Retry token from \(remote)")
            }
            originalDCID = original
            retrySCID = initial.destinationID
        } else if halfOpen >= retryThreshold {
            guard let retry = retryPacket(initial, remote: remote, now: now) else { return .drop("cannot write a Retry") }
            return .reply(retry)
        }
        do {
            let connection = try QUICConnection(accepting: initial, remote: remote, local: local, tls: tls, limits: limits,
                                                resetSecret: secret, scid: random(QUICEndpoint.connectionIDLength),
                                                originalDCID: originalDCID, retrySCID: retrySCID, now: now)
            return .accept(connection)
        } catch {
            return .drop("cannot accept a connection from \(remote): \(error)")
        }
    }

    /// Routes every connection ID of `connection` to `handle` (call after `accept`, after a
    /// dial, and after any datagram: ngtcp2 issues and retires IDs as it goes).
    public mutating func register(_ connection: QUICConnection, as handle: Int) {
        for id in connection.localConnectionIDs { routes[id] = handle }
        for id in connection.takeRetiredIDs() where routes[id] == handle { routes[id] = nil }
    }

    /// Forgets every route to `handle` (the connection is gone).
    public mutating func unregister(_ handle: Int) {
        routes = routes.filter { $0.value != handle }
    }

    public var routeCount: Int { routes.count }

    private func versionNegotiation(_ versionCID: ngtcp2_version_cid) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 256)
        let versions: [UInt32] = [NGTCP2_PROTO_VER_V1]
        let n = ngtcp2_pkt_write_version_negotiation(&out, out.count, random(1)[0], versionCID.scid, versionCID.scidlen,
                                                     versionCID.dcid, versionCID.dcidlen, versions, versions.count)
        return n > 0 ? Array(out.prefix(Int(n))) : []
    }

    private func retryPacket(_ initial: QUICInitialHeader, remote: QUICAddress, now: UInt64) -> [UInt8]? {
        var retrySCID = QUICConnection.cid(random(QUICEndpoint.connectionIDLength))
        var original = QUICConnection.cid(initial.destinationID)
        var clientSCID = QUICConnection.cid(initial.sourceID)
        var token = [UInt8](repeating: 0, count: 256)
        let tokenLength = remote.withSockaddr { address, length in
            ngtcp2_crypto_generate_retry_token(&token, secret, secret.count, initial.version, address, length,
                                               &retrySCID, &original, now)
        }
        guard tokenLength > 0 else { return nil }
        var out = [UInt8](repeating: 0, count: 1200)
        let n = ngtcp2_crypto_write_retry(&out, out.count, initial.version, &clientSCID, &retrySCID, &original,
                                          token, Int(tokenLength))
        return n > 0 ? Array(out.prefix(Int(n))) : nil
    }

    private func verifyRetryToken(_ initial: QUICInitialHeader, remote: QUICAddress, now: UInt64) -> [UInt8]? {
        var original = ngtcp2_cid()
        var dcid = QUICConnection.cid(initial.destinationID)
        let rv = remote.withSockaddr { address, length in
            ngtcp2_crypto_verify_retry_token(&original, initial.token, initial.token.count, secret, secret.count,
                                             initial.version, address, length, &dcid, retryTokenLifetime, now)
        }
        guard rv == 0 else { return nil }
        return withUnsafePointer(to: &original) { QUICConnection.bytes(of: $0) }
    }
}
