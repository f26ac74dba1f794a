#if canImport(Glibc)
import Glibc
#endif
import CGnuTLS
import LibP2PTLS

/// One GnuTLS session whose transport is an in-memory byte queue: what it pushes lands in its
/// peer's inbox, and a pull on an empty inbox is "would block". Two of them, pumped by
/// `InMemoryTLS.handshake`, run a real TLS 1.3 handshake in one thread with no sockets.
final class InMemoryEndpoint {
    let session: gnutls_session_t
    var inbox: [UInt8] = []
    weak var peer: InMemoryEndpoint?
    /// Credentials the session points to, kept alive as long as it.
    var keepAlive: [AnyObject] = []

    init(server: Bool) {
        var session: gnutls_session_t?
        // GNUTLS_NO_TICKETS: no resumption, as LibP2PTLSVerifier.configure recommends.
        let flags = UInt32(server ? GNUTLS_SERVER : GNUTLS_CLIENT) | UInt32(GNUTLS_NO_TICKETS)
        precondition(gnutls_init(&session, flags) == GNUTLS_E_SUCCESS && session != nil, "gnutls_init failed")
        self.session = session!
        gnutls_transport_set_ptr(self.session, Unmanaged.passUnretained(self).toOpaque())
        gnutls_transport_set_push_function(self.session, { pointer, data, count in
            let endpoint = Unmanaged<InMemoryEndpoint>.fromOpaque(pointer!).takeUnretainedValue()
            let bytes = UnsafeRawBufferPointer(start: data, count: count)
            endpoint.peer?.inbox.append(contentsOf: bytes)
            return count
        })
        gnutls_transport_set_pull_function(self.session, { pointer, data, count in
            let endpoint = Unmanaged<InMemoryEndpoint>.fromOpaque(pointer!).takeUnretainedValue()
            guard !endpoint.inbox.isEmpty else {
                gnutls_transport_set_errno(endpoint.session, EAGAIN)
                return -1
            }
            let taken = min(count, endpoint.inbox.count)
            endpoint.inbox.withUnsafeBytes { data!.copyMemory(from: $0.baseAddress!, byteCount: taken) }
            endpoint.inbox.removeFirst(taken)
            return taken
        })
        gnutls_transport_set_pull_timeout_function(self.session, { pointer, _ in
            let endpoint = Unmanaged<InMemoryEndpoint>.fromOpaque(pointer!).takeUnretainedValue()
            return endpoint.inbox.isEmpty ? 0 : 1
        })
    }

    deinit { gnutls_deinit(session) }

    /// Sends `bytes` as one record.
    func send(_ bytes: [UInt8]) -> Int { bytes.withUnsafeBytes { gnutls_record_send(session, $0.baseAddress, $0.count) } }

    /// Receives what one record holds, or the error code.
    func receive() -> Result<[UInt8], GnuTLSFailure> {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { gnutls_record_recv(session, $0.baseAddress, $0.count) }
        return count >= 0 ? .success(Array(buffer.prefix(count))) : .failure(GnuTLSFailure(code: Int32(count)))
    }

    /// The ALPN protocol the handshake selected.
    var selectedALPN: String? {
        var datum = gnutls_datum_t()
        guard gnutls_alpn_get_selected_protocol(session, &datum) == GNUTLS_E_SUCCESS, let data = datum.data else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(datum.size)), as: UTF8.self)
    }
}

/// A GnuTLS error code with its name, for readable expectations.
struct GnuTLSFailure: Error, Equatable, CustomStringConvertible {
    let code: Int32
    var description: String { gnutls_strerror_name(code).map { String(cString: $0) } ?? "\(code)" }
}

enum InMemoryTLS {
    /// Connects the two endpoints and calls `gnutls_handshake` on each in turn until both have
    /// finished or failed; returns each side's final code (0 = done).
    static func handshake(client: InMemoryEndpoint, server: InMemoryEndpoint) -> (client: Int32, server: Int32) {
        client.peer = server
        server.peer = client
        var clientResult = GNUTLS_E_AGAIN
        var serverResult = GNUTLS_E_AGAIN
        // A TLS 1.3 handshake takes two flights each way; 50 rounds is far more than enough.
        for _ in 0..<50 {
            if !finished(clientResult) { clientResult = gnutls_handshake(client.session) }
            if !finished(serverResult) { serverResult = gnutls_handshake(server.session) }
            if finished(clientResult) && finished(serverResult) { break }
            // A side that failed leaves the other waiting for bytes that will never come.
            if (clientResult < 0 && finished(clientResult) || serverResult < 0 && finished(serverResult))
                && client.inbox.isEmpty && server.inbox.isEmpty { break }
        }
        return (clientResult, serverResult)
    }

    static func finished(_ code: Int32) -> Bool { code == 0 || gnutls_error_is_fatal(code) != 0 }
}
