import CGnuTLS
import CNgtcp2
import Wire
#if canImport(Glibc)
import Glibc
#endif

/// What a QUIC connection reports to its owner after input or a timer.
public enum QUICEvent: Equatable, Sendable {
    /// TLS finished and the peer's libp2p certificate checked out: this is who it is.
    case established(PeerID)
    /// The peer opened a bidirectional stream.
    case inboundStream(Int64)
    /// Bytes on a stream, in order (a copy: ngtcp2's buffer is gone after the callback).
    case data(Int64, [UInt8])
    /// The peer will send nothing more on the stream (its FIN).
    case remoteClosedWrite(Int64)
    /// The peer reset the stream, or asked us to stop sending on it.
    case streamReset(Int64)
    /// Both directions of the stream are finished; ngtcp2 forgot it.
    case streamClosed(Int64)
}

/// The libp2p side of TLS for a QUIC connection: sets up the GnuTLS session (certificate,
/// ALPN `libp2p`, TLS 1.3 only, client certificate required) and, once the handshake is done,
/// says who the peer is. Supplied by the node (the libp2p TLS module); tests may supply others.
public protocol QUICTLSProvider: AnyObject {
    func configure(_ session: gnutls_session_t, server: Bool) throws(QUICError)
    /// The peer's identity from its certificate, checked against `expected` when dialing.
    func verifiedPeer(of session: gnutls_session_t, expected: PeerID?) throws(QUICError) -> PeerID
}

/// One QUIC v1 connection (RFC 9000) on ngtcp2, sans-I/O: datagrams and time in, datagrams,
/// stream events and the next deadline out. It never touches a socket or reads a clock.
///
/// A class, not a value type: it owns ngtcp2's and GnuTLS's C state, which cannot be copied,
/// and ngtcp2 calls back into it (through `user_data`) while it parses a packet.
///
/// "Lite" in scope (issue 13): one path (no migration), no 0-RTT, no datagram extension,
/// bidirectional streams only (libp2p uses no unidirectional ones).
public final class QUICConnection {
    public let isServer: Bool
    /// Our source connection IDs (the first, then any ngtcp2 issued since): the endpoint routes
    /// datagrams carrying any of them here.
    public private(set) var localConnectionIDs: [[UInt8]] = []
    /// Connection IDs ngtcp2 retired since the endpoint last looked (`takeRetiredIDs`).
    private var retiredConnectionIDs: [[UInt8]] = []
    /// The peer, once the handshake is done and its certificate checked.
    public private(set) var remotePeer: PeerID?
    public private(set) var closedReason: QUICError?
    /// A packet from the peer decrypted and carried TLS handshake data. A server connection
    /// whose first datagram did not (a forged or corrupted Initial: its header parses, its
    /// payload does not decrypt) is dropped at once rather than kept half-open.
    public internal(set) var receivedCryptoData = false
    public let remote: QUICAddress
    public let local: QUICAddress

    private var conn: OpaquePointer?
    private var session: gnutls_session_t?
    private let connRef: UnsafeMutablePointer<ngtcp2_crypto_conn_ref>
    private let path: UnsafeMutablePointer<ngtcp2_path_storage>
    private let tls: QUICTLSProvider
    private let expectedPeer: PeerID?
    private let resetSecret: [UInt8]
    private var events: [QUICEvent] = []
    private var callbackError: QUICError?
    private var sendBuffers: [Int64: QUICSendBuffer] = [:]
    /// Streams with bytes or a FIN to write, in the order they got them (fair rotation).
    private var sendQueue: [Int64] = []

    /// The transport parameters we announce (both roles).
    public struct Limits: Sendable {
        /// Bidirectional streams the peer may have open at once (DESIGN §6: 256 per connection).
        public var maxStreams: UInt64 = 256
        public var streamWindow: UInt64 = 1 << 20
        public var connectionWindow: UInt64 = 16 << 20
        /// Silence after which the connection is dropped (go and rust use 30 s).
        public var idleTimeout: UInt64 = 30_000_000_000
        public var handshakeTimeout: UInt64 = 10_000_000_000
        public init() {}
    }

    /// Dials: a client connection to `remote`; `start` is implicit (call `datagrams(now:)`).
    public convenience init(dialing remote: QUICAddress, from local: QUICAddress, expectedPeer: PeerID?,
                            tls: QUICTLSProvider, limits: Limits = Limits(), now: UInt64,
                            random: (Int) -> [UInt8]) throws(QUICError) {
        try self.init(isServer: false, remote: remote, local: local, expectedPeer: expectedPeer, tls: tls,
                      resetSecret: random(32), now: now)
        let dcid = random(18)
        let scid = random(18)
        try create(dcid: dcid, scid: scid, originalDCID: nil, retrySCID: nil, limits: limits, now: now)
    }

    /// Accepts: a server connection for a client Initial (`header` from `QUICEndpoint`).
    /// `retrySCID` is set when the client came back with our Retry token.
    convenience init(accepting header: QUICInitialHeader, remote: QUICAddress, local: QUICAddress, tls: QUICTLSProvider,
         limits: Limits, resetSecret: [UInt8], scid: [UInt8], originalDCID: [UInt8], retrySCID: [UInt8]?,
         now: UInt64) throws(QUICError) {
        try self.init(isServer: true, remote: remote, local: local, expectedPeer: nil, tls: tls,
                      resetSecret: resetSecret, now: now)
        try create(dcid: header.sourceID, scid: scid, originalDCID: originalDCID, retrySCID: retrySCID,
                   limits: limits, now: now, clientDCID: header.destinationID, token: header.token)
    }

    private init(isServer: Bool, remote: QUICAddress, local: QUICAddress, expectedPeer: PeerID?,
                 tls: QUICTLSProvider, resetSecret: [UInt8], now: UInt64) throws(QUICError) {
        self.isServer = isServer
        self.remote = remote
        self.local = local
        self.expectedPeer = expectedPeer
        self.tls = tls
        self.resetSecret = resetSecret
        connRef = .allocate(capacity: 1)
        path = .allocate(capacity: 1)
        local.withSockaddr { l, llen in
            remote.withSockaddr { r, rlen in ngtcp2_path_storage_init(path, l, llen, r, rlen, nil) }
        }
    }

    deinit {
        if let conn { ngtcp2_conn_del(conn) }
        if let session { gnutls_deinit(session) }
        connRef.deallocate()
        path.deallocate()
    }

    private var userData: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    private func create(dcid: [UInt8], scid: [UInt8], originalDCID: [UInt8]?, retrySCID: [UInt8]?,
                        limits: Limits, now: UInt64, clientDCID: [UInt8]? = nil, token: [UInt8] = []) throws(QUICError) {
        var callbacks = ngtcp2_callbacks()
        p2p_ngtcp2_set_crypto_callbacks(&callbacks, isServer ? 0 : 1)
        QUICCallbacks.install(into: &callbacks)

        var settings = ngtcp2_settings()
        p2p_ngtcp2_settings_default(&settings)
        settings.initial_ts = now
        settings.handshake_timeout = limits.handshakeTimeout
        settings.max_window = limits.connectionWindow * 2
        settings.max_stream_window = limits.streamWindow * 4
        // Ethernet MTU less IP and UDP headers (IPv6's 40 bytes): ngtcp2 starts at 1,200 and
        // probes up to this (PMTUD).
        settings.max_tx_udp_payload_size = 1452
        settings.rand_ctx.native_handle = nil

        var params = ngtcp2_transport_params()
        p2p_ngtcp2_transport_params_default(&params)
        params.initial_max_streams_bidi = limits.maxStreams
        params.initial_max_streams_uni = 0
        params.initial_max_stream_data_bidi_local = limits.streamWindow
        params.initial_max_stream_data_bidi_remote = limits.streamWindow
        params.initial_max_data = limits.connectionWindow
        params.max_idle_timeout = limits.idleTimeout
        params.disable_active_migration = 1
        params.active_connection_id_limit = 2

        var d = QUICConnection.cid(dcid)
        var s = QUICConnection.cid(scid)
        var created: OpaquePointer?
        let rv: Int32
        if isServer {
            if let originalDCID { params.original_dcid = QUICConnection.cid(originalDCID) }
            if let retrySCID {
                params.retry_scid = QUICConnection.cid(retrySCID)
                params.retry_scid_present = 1
            }
            params.stateless_reset_token_present = 1
            withUnsafeMutableBytes(of: &params.stateless_reset_token) { token in
                _ = ngtcp2_crypto_generate_stateless_reset_token(token.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                                                 resetSecret, resetSecret.count, &s)
            }
            rv = p2p_ngtcp2_conn_server_new(&created, &d, &s, &path.pointee.path, NGTCP2_PROTO_VER_V1, &callbacks,
                                            &settings, &params, userData)
        } else {
            rv = p2p_ngtcp2_conn_client_new(&created, &d, &s, &path.pointee.path, NGTCP2_PROTO_VER_V1, &callbacks,
                                            &settings, &params, userData)
        }
        guard rv == 0, let created else {
            throw .library("cannot create the connection: \(QUICConnection.describe(rv))", code: rv)
        }
        conn = created
        localConnectionIDs = [scid]
        try setUpTLS()
    }

    private func setUpTLS() throws(QUICError) {
        var created: gnutls_session_t?
        // No session tickets: no resumption, no 0-RTT ("lite" scope), and nothing to keep between runs.
        let flags = (isServer ? GNUTLS_SERVER : GNUTLS_CLIENT).rawValue | GNUTLS_NO_END_OF_EARLY_DATA.rawValue | GNUTLS_NO_TICKETS.rawValue
        guard gnutls_init(&created, flags) == GNUTLS_E_SUCCESS, let created else {
            throw .tls("gnutls_init failed")
        }
        session = created
        let configured = isServer ? ngtcp2_crypto_gnutls_configure_server_session(created)
                                  : ngtcp2_crypto_gnutls_configure_client_session(created)
        guard configured == 0 else { throw .tls("ngtcp2 could not configure the GnuTLS session") }
        connRef.pointee.get_conn = { ref in
            Unmanaged<QUICConnection>.fromOpaque(ref!.pointee.user_data).takeUnretainedValue().conn
        }
        connRef.pointee.user_data = userData
        gnutls_session_set_ptr(created, connRef)
        try tls.configure(created, server: isServer)
        ngtcp2_conn_set_tls_native_handle(conn, UnsafeMutableRawPointer(created))
    }

    static func cid(_ bytes: [UInt8]) -> ngtcp2_cid {
        var id = ngtcp2_cid()
        ngtcp2_cid_init(&id, bytes, bytes.count)
        return id
    }

    static func bytes(of id: UnsafePointer<ngtcp2_cid>) -> [UInt8] {
        withUnsafeBytes(of: id.pointee.data) { Array($0.prefix(id.pointee.datalen)) }
    }

    static func describe(_ code: Int32) -> String { String(cString: ngtcp2_strerror(Int32(code))) }

    // MARK: - Input

    /// One datagram from the peer. Events go to `takeEvents`; a fatal error closes the connection
    /// (the reason in `closedReason`) and is thrown.
    public func receive(_ datagram: UnsafeRawBufferPointer, now: UInt64) throws(QUICError) {
        guard let conn, closedReason == nil else { return }
        guard let base = datagram.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        let rv = p2p_ngtcp2_conn_read_pkt(conn, &path.pointee.path, base, datagram.count, now)
        if let failure = callbackError {
            callbackError = nil
            close(failure)
            throw failure
        }
        guard rv != 0 else { return }
        let failure: QUICError
        switch rv {
        case NGTCP2_ERR_DRAINING:
            failure = closeErrorFromPeer()
        case NGTCP2_ERR_CRYPTO:
            failure = .tls("handshake failed: \(tlsAlertText())")
        case NGTCP2_ERR_DROP_CONN:
            failure = .malformed("ngtcp2 dropped the connection")
        default:
            // Not fatal (a packet that does not decrypt, a duplicate): ignore that packet.
            guard ngtcp2_err_is_fatal(rv) != 0 else { return }
            failure = .library("cannot process a packet: \(QUICConnection.describe(rv))", code: rv)
        }
        close(failure)
        throw failure
    }

    private func tlsAlertText() -> String {
        guard let conn else { return "unknown" }
        let alert = ngtcp2_conn_get_tls_alert(conn)
        if let name = gnutls_alert_get_name(gnutls_alert_description_t(UInt32(alert))) {
            return "TLS alert \(alert) (\(String(cString: name)))"
        }
        return "TLS alert \(alert)"
    }

    private func closeErrorFromPeer() -> QUICError {
        guard let conn else { return .closedByPeer("") }
        var error = ngtcp2_connection_close_error()
        ngtcp2_conn_get_connection_close_error(conn, &error)
        var reason = ""
        if let text = error.reason, error.reasonlen > 0 {
            reason = String(decoding: UnsafeBufferPointer(start: text, count: error.reasonlen), as: UTF8.self)
        }
        let kind = error.type == NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_APPLICATION ? "application" : "transport"
        return .closedByPeer("\(kind) error \(error.error_code)\(reason.isEmpty ? "" : ": \(reason)")")
    }

    /// The events since the last call.
    public func takeEvents() -> [QUICEvent] {
        defer { events.removeAll(keepingCapacity: true) }
        return events
    }

    public func takeRetiredIDs() -> [[UInt8]] {
        defer { retiredConnectionIDs.removeAll() }
        return retiredConnectionIDs
    }

    // MARK: - Time

    /// When `timerFired` is next due (loss detection, ACK delay, idle and handshake time-outs).
    public var deadline: UInt64? {
        guard let conn, closedReason == nil else { return nil }
        let expiry = ngtcp2_conn_get_expiry(conn)
        return expiry == UInt64.max ? nil : expiry
    }

    public func timerFired(now: UInt64) throws(QUICError) {
        guard let conn, closedReason == nil else { return }
        let rv = ngtcp2_conn_handle_expiry(conn, now)
        guard rv != 0 else { return }
        let failure: QUICError = rv == NGTCP2_ERR_IDLE_CLOSE ? .idleTimeout
            : rv == NGTCP2_ERR_HANDSHAKE_TIMEOUT ? .tls("handshake timed out")
            : .library("timer: \(QUICConnection.describe(rv))", code: rv)
        close(failure)
        throw failure
    }

    // MARK: - Streams

    /// Opens a bidirectional stream; nil while the peer's stream limit is reached.
    public func openStream() -> Int64? {
        guard let conn, closedReason == nil else { return nil }
        var id: Int64 = -1
        guard ngtcp2_conn_open_bidi_stream(conn, &id, nil) == 0 else { return nil }
        return id
    }

    /// Queues bytes on a stream (copied; sent as flow and congestion control allow).
    public func write(_ bytes: UnsafeRawBufferPointer, on stream: Int64) {
        guard closedReason == nil, !bytes.isEmpty else { return }
        let wasIdle = !(sendBuffers[stream]?.wantsToSend ?? false)
        sendBuffers[stream, default: QUICSendBuffer()].append(bytes)
        if wasIdle { sendQueue.append(stream) }
    }

    /// Sends our FIN once everything queued on the stream has gone.
    public func closeWrite(_ stream: Int64) {
        guard closedReason == nil else { return }
        let wasIdle = !(sendBuffers[stream]?.wantsToSend ?? false)
        sendBuffers[stream, default: QUICSendBuffer()].finRequested = true
        if wasIdle { sendQueue.append(stream) }
    }

    /// Abandons a stream in both directions (RESET_STREAM and STOP_SENDING).
    public func reset(_ stream: Int64, code: UInt64 = 0) {
        guard let conn, closedReason == nil else { return }
        _ = ngtcp2_conn_shutdown_stream(conn, stream, code)
        sendBuffers[stream] = nil
    }

    /// Bytes queued on `stream` that ngtcp2 has not taken yet.
    public func unsentBytes(on stream: Int64) -> Int { sendBuffers[stream]?.unsentBytes ?? 0 }

    /// The application used `count` bytes of the stream: the peer may send that much more.
    public func consumed(_ count: Int, on stream: Int64) {
        guard let conn, closedReason == nil, count > 0 else { return }
        _ = ngtcp2_conn_extend_max_stream_offset(conn, stream, UInt64(count))
        ngtcp2_conn_extend_max_offset(conn, UInt64(count))
    }

    // MARK: - Output

    /// Writes every datagram ngtcp2 has to send now (stream data as flow and congestion control
    /// allow, ACKs, handshake, retransmissions) through `emit`, each at most `maxDatagramSize`.
    /// A fatal error closes the connection and is thrown.
    public func datagrams(now: UInt64, _ emit: (UnsafeRawBufferPointer) -> Void) throws(QUICError) {
        guard let conn, closedReason == nil else { return }
        let size = Int(ngtcp2_conn_get_path_max_tx_udp_payload_size(conn))
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(size, 1452), alignment: 16)
        defer { buffer.deallocate() }
        let vectors = UnsafeMutableBufferPointer<ngtcp2_vec>.allocate(capacity: 16)
        defer { vectors.deallocate() }
        let out = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        // Streams that cannot take more now (flow control): skipped until the next call.
        var blocked = Set<Int64>()
        while true {
            var stream: Int64 = -1
            var count = 0
            var fin = false
            if let next = sendQueue.first(where: { !blocked.contains($0) }) {
                if let buffer = sendBuffers[next], buffer.wantsToSend {
                    stream = next
                    count = buffer.unsent(into: vectors)
                    fin = buffer.finReady
                } else {
                    sendQueue.removeAll { $0 == next }
                    continue
                }
            }
            var flags = UInt32(NGTCP2_WRITE_STREAM_FLAG_MORE)
            if fin { flags |= UInt32(NGTCP2_WRITE_STREAM_FLAG_FIN) }
            var accepted: ngtcp2_ssize = -1
            let n = p2p_ngtcp2_conn_writev_stream(conn, &path.pointee.path, out, size, &accepted, flags, stream,
                                                  vectors.baseAddress, count, now)
            if let failure = callbackError {
                callbackError = nil
                close(failure)
                throw failure
            }
            if n < 0 {
                switch Int32(n) {
                case NGTCP2_ERR_STREAM_DATA_BLOCKED, NGTCP2_ERR_STREAM_SHUT_WR, NGTCP2_ERR_STREAM_NOT_FOUND:
                    blocked.insert(stream)
                    if Int32(n) != NGTCP2_ERR_STREAM_DATA_BLOCKED { dropSendState(stream) }
                    continue
                case NGTCP2_ERR_WRITE_MORE:
                    noteAccepted(Int(accepted), on: stream, fin: fin)
                    continue
                default:
                    let failure = QUICError.library("cannot write a packet: \(QUICConnection.describe(Int32(n)))", code: Int32(n))
                    close(failure)
                    throw failure
                }
            }
            if accepted >= 0 { noteAccepted(Int(accepted), on: stream, fin: fin) }
            if n == 0 { break }
            emit(UnsafeRawBufferPointer(start: buffer.baseAddress, count: Int(n)))
        }
        // Pacing from the handshake's end on: before the first RTT sample ngtcp2 paces with the
        // initial RTT (333 ms), which held the client's certificate flight back about 20 ms on
        // loopback; the handshake's few packets are bounded by the congestion window anyway.
        if ngtcp2_conn_get_handshake_completed(conn) != 0 { ngtcp2_conn_update_pkt_tx_time(conn, now) }
    }

    private func noteAccepted(_ count: Int, on stream: Int64, fin: Bool) {
        guard stream >= 0, sendBuffers[stream] != nil else { return }
        sendBuffers[stream]!.sent(count)
        if fin, sendBuffers[stream]!.unsentBytes == 0 { sendBuffers[stream]!.finSent = true }
        // Rotate: the next packet serves the next stream.
        if let index = sendQueue.firstIndex(of: stream) {
            sendQueue.remove(at: index)
            if sendBuffers[stream]!.wantsToSend { sendQueue.append(stream) }
        }
    }

    private func dropSendState(_ stream: Int64) {
        sendQueue.removeAll { $0 == stream }
        if let buffer = sendBuffers[stream], buffer.unsentBytes > 0 || !buffer.finSent {
            sendBuffers[stream]?.finRequested = false
        }
    }

    /// Closes the connection (CONNECTION_CLOSE with application error `code`): the one datagram
    /// to send is returned; the connection is over either way.
    public func close(code: UInt64 = 0, reason: String, now: UInt64) -> [UInt8] {
        guard let conn, closedReason == nil else { return [] }
        closedReason = .closedByPeer("closed by us: \(reason)")
        var error = ngtcp2_connection_close_error()
        ngtcp2_connection_close_error_set_application_error(&error, code, nil, 0)
        var out = [UInt8](repeating: 0, count: 1452)
        let n = p2p_ngtcp2_conn_write_connection_close(conn, &path.pointee.path, &out, out.count, &error, now)
        return n > 0 ? Array(out.prefix(Int(n))) : []
    }

    private func close(_ failure: QUICError) {
        guard closedReason == nil else { return }
        closedReason = failure
    }

    /// Whether the handshake finished (ngtcp2's view; `remotePeer` is set once the peer checked).
    public var handshakeCompleted: Bool { conn.map { ngtcp2_conn_get_handshake_completed($0) != 0 } ?? false }

    // MARK: - Callbacks from ngtcp2 (through `QUICCallbacks`)

    func handshakeDone() -> Int32 {
        guard let session else { return NGTCP2_ERR_CALLBACK_FAILURE }
        do {
            let peer = try tls.verifiedPeer(of: session, expected: expectedPeer)
            remotePeer = peer
            events.append(.established(peer))
            return 0
        } catch {
            callbackError = error
            return NGTCP2_ERR_CALLBACK_FAILURE
        }
    }

    func streamOpened(_ id: Int64) -> Int32 {
        // Unidirectional streams are not libp2p's: the limit of 0 keeps them out.
        events.append(.inboundStream(id))
        return 0
    }

    func streamData(_ id: Int64, _ bytes: UnsafeBufferPointer<UInt8>, fin: Bool) -> Int32 {
        if bytes.count > 0 {
            // Consecutive frames of one stream (a batch of datagrams) become one event: fewer,
            // larger deliveries to the stream's handler.
            if case .data(let last, var merged)? = events.last, last == id {
                events.removeLast()
                merged.append(contentsOf: bytes)
                events.append(.data(id, merged))
            } else {
                events.append(.data(id, Array(bytes)))
            }
        }
        if fin { events.append(.remoteClosedWrite(id)) }
        return 0
    }

    func acknowledged(_ id: Int64, upTo offset: UInt64) -> Int32 {
        guard sendBuffers[id] != nil else { return 0 }
        let wasIdle = !sendBuffers[id]!.wantsToSend
        sendBuffers[id]!.acknowledged(upTo: offset)
        // The FIN was waiting for this acknowledgement.
        if wasIdle, sendBuffers[id]!.wantsToSend { sendQueue.append(id) }
        return 0
    }

    func streamReset(_ id: Int64) -> Int32 {
        events.append(.streamReset(id))
        return 0
    }

    func streamClosed(_ id: Int64) -> Int32 {
        sendBuffers[id] = nil
        sendQueue.removeAll { $0 == id }
        events.append(.streamClosed(id))
        return 0
    }

    func newConnectionID(_ cid: UnsafeMutablePointer<ngtcp2_cid>, token: UnsafeMutablePointer<UInt8>, length: Int) -> Int32 {
        var bytes = [UInt8](repeating: 0, count: length)
        QUICCallbacks.fillRandom(&bytes)
        ngtcp2_cid_init(cid, bytes, length)
        guard ngtcp2_crypto_generate_stateless_reset_token(token, resetSecret, resetSecret.count, cid) == 0 else {
            return NGTCP2_ERR_CALLBACK_FAILURE
        }
        localConnectionIDs.append(bytes)
        return 0
    }

    func removeConnectionID(_ cid: UnsafePointer<ngtcp2_cid>) -> Int32 {
        let bytes = QUICConnection.bytes(of: cid)
        localConnectionIDs.removeAll { $0 == bytes }
        retiredConnectionIDs.append(bytes)
        return 0
    }
}
