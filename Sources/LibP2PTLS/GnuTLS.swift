import CGnuTLS
import P2PCrypto

/// Small helpers around GnuTLS's C conventions (datums, error codes, owned buffers), so the
/// types of this module read as the steps of tls.md rather than as C plumbing.
enum GnuTLS {
    /// `GNUTLS_E_...`, the name of an error code.
    static func errorName(_ code: Int32) -> String {
        gnutls_strerror_name(code).map { String(cString: $0) } ?? "GnuTLS error \(code)"
    }

    /// GnuTLS's sentence for an error code.
    static func errorMessage(_ code: Int32) -> String {
        gnutls_strerror(code).map { String(cString: $0) } ?? "unknown error"
    }

    /// Throws `.gnutls(call:code:)` for a negative result; GnuTLS's calls return 0 (or a
    /// non-negative count) on success.
    static func check(_ call: String, _ code: Int32) throws(LibP2PTLSError) {
        if code < 0 { throw .gnutls(call: call, code: code) }
    }

    /// A `gnutls_datum_t` over `bytes` for the call (P2PCrypto's, shared).
    static func withDatum<R>(_ bytes: [UInt8], _ body: (UnsafePointer<gnutls_datum_t>) -> R) -> R {
        GnuTLSDatum.with(bytes, body)
    }

    /// Copies a datum GnuTLS allocated for us and frees it.
    static func takeDatum(_ datum: gnutls_datum_t) -> [UInt8] {
        defer { p2p_gnutls_free(datum.data) }
        return borrowDatum(datum)
    }

    /// Copies a datum GnuTLS still owns.
    static func borrowDatum(_ datum: gnutls_datum_t) -> [UInt8] {
        guard let data = datum.data, datum.size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: Int(datum.size)))
    }

    /// The name GnuTLS gives a signature algorithm ("ECDSA-SHA256"), for messages.
    static func signatureName(_ algorithm: gnutls_sign_algorithm_t) -> String {
        gnutls_sign_get_name(algorithm).map { String(cString: $0) } ?? "signature algorithm \(algorithm.rawValue)"
    }
}
