import CGnuTLS
import Wire

/// A public key parsed by GnuTLS from DER SubjectPublicKeyInfo, owned for the length of one
/// check or verification and released in `deinit`. GnuTLS initialises itself when loaded
/// (3.3 and newer), so no global set-up is needed. Used for libp2p's RSA and ECDSA keys,
/// whose `Data` is PKIX DER (libp2p-wire.md §1.5).
struct GnuTLSPublicKey: ~Copyable {
    private let key: gnutls_pubkey_t
    /// GnuTLS's algorithm (`GNUTLS_PK_RSA`, `GNUTLS_PK_ECDSA`, ...).
    let algorithm: gnutls_pk_algorithm_t
    /// The modulus size for RSA, the field size for elliptic curves.
    let bits: Int

    /// Imports DER SubjectPublicKeyInfo; `type` only names the key in errors.
    init(der: [UInt8], type: KeyType) throws(CryptoError) {
        guard !der.isEmpty else { throw .malformedPublicKey(type, "the DER SubjectPublicKeyInfo is empty") }
        var key: gnutls_pubkey_t?
        guard gnutls_pubkey_init(&key) == GNUTLS_E_SUCCESS, let key else {
            // Only an allocation failure gets here.
            fatalError("gnutls_pubkey_init failed (out of memory?)")
        }
        let imported = GnuTLSDatum.with(der) { gnutls_pubkey_import(key, $0, GNUTLS_X509_FMT_DER) }
        guard imported == GNUTLS_E_SUCCESS else {
            gnutls_pubkey_deinit(key)
            throw .malformedPublicKey(type, "not a DER SubjectPublicKeyInfo GnuTLS can read (\(Self.errorName(imported)))")
        }
        var bits: UInt32 = 0
        let algorithm = gnutls_pubkey_get_pk_algorithm(key, &bits)
        guard algorithm >= 0 else {
            gnutls_pubkey_deinit(key)
            throw .malformedPublicKey(type, "GnuTLS cannot tell the key's algorithm (\(Self.errorName(algorithm)))")
        }
        self.key = key
        self.algorithm = gnutls_pk_algorithm_t(UInt32(algorithm))
        self.bits = Int(bits)
    }

    deinit { gnutls_pubkey_deinit(key) }

    /// The named curve of an elliptic-curve key, nil for other keys.
    var curve: gnutls_ecc_curve_t? {
        var curve = GNUTLS_ECC_CURVE_INVALID
        var x = gnutls_datum_t()
        var y = gnutls_datum_t()
        guard gnutls_pubkey_export_ecc_raw2(key, &curve, &x, &y, 0) == GNUTLS_E_SUCCESS else { return nil }
        p2p_gnutls_free(x.data)
        p2p_gnutls_free(y.data)
        return curve
    }

    /// True when `signature` verifies over `message` under `algorithm` (GnuTLS hashes `message`).
    func verify(_ algorithm: gnutls_sign_algorithm_t, signature: [UInt8], message: [UInt8]) -> Bool {
        guard !signature.isEmpty else { return false }
        let result = GnuTLSDatum.with(message) { data in
            GnuTLSDatum.with(signature) { sig in gnutls_pubkey_verify_data2(key, algorithm, 0, data, sig) }
        }
        return result >= 0
    }


    private static func errorName(_ code: Int32) -> String {
        gnutls_strerror_name(code).map { String(cString: $0) } ?? "GnuTLS error \(code)"
    }
}

/// GnuTLS's input buffers (`gnutls_datum_t`), for this module and LibP2PTLS.
public enum GnuTLSDatum {
    /// A `gnutls_datum_t` over `bytes` for the call. GnuTLS only reads such input datums (the
    /// C type is not const); an empty array has no base address, so it becomes a null datum.
    public static func with<R>(_ bytes: [UInt8], _ body: (UnsafePointer<gnutls_datum_t>) -> R) -> R {
        var copy = bytes
        if copy.isEmpty {
            var datum = gnutls_datum_t(data: nil, size: 0)
            return body(&datum)
        }
        return copy.withUnsafeMutableBufferPointer { buffer in
            var datum = gnutls_datum_t(data: buffer.baseAddress, size: UInt32(buffer.count))
            return body(&datum)
        }
    }
}
