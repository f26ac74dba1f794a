import CGnuTLS

/// A GnuTLS X.509 certificate parsed from DER, owned for the length of one verification and
/// released in `deinit`.
struct X509Certificate: ~Copyable {
    let handle: gnutls_x509_crt_t

    init(der: [UInt8]) throws(LibP2PTLSError) {
        var handle: gnutls_x509_crt_t?
        guard gnutls_x509_crt_init(&handle) == GNUTLS_E_SUCCESS, let handle else {
            // Only an allocation failure gets here.
            fatalError("gnutls_x509_crt_init failed (out of memory?)")
        }
        let imported = GnuTLS.withDatum(der) { gnutls_x509_crt_import(handle, $0, GNUTLS_X509_FMT_DER) }
        guard imported == GNUTLS_E_SUCCESS else {
            gnutls_x509_crt_deinit(handle)
            throw .malformedCertificate("GnuTLS cannot parse it (\(GnuTLS.errorName(imported)))")
        }
        self.handle = handle
    }

    deinit { gnutls_x509_crt_deinit(handle) }

    /// 1, 2 or 3.
    var version: Int { Int(gnutls_x509_crt_get_version(handle)) }

    /// NotBefore and NotAfter in seconds since the epoch; GnuTLS returns -1 for a time it
    /// cannot read.
    func validity() throws(LibP2PTLSError) -> (notBefore: Int64, notAfter: Int64) {
        let notBefore = Int64(gnutls_x509_crt_get_activation_time(handle))
        let notAfter = Int64(gnutls_x509_crt_get_expiration_time(handle))
        guard notBefore != -1, notAfter != -1 else { throw .malformedCertificate("GnuTLS cannot read its validity dates") }
        return (notBefore, notAfter)
    }

    /// One extension as the certificate lists it.
    struct Extension {
        let oid: String
        let critical: Bool
        let value: [UInt8]
    }

    /// Every extension, in order.
    func extensions() throws(LibP2PTLSError) -> [Extension] {
        var result: [Extension] = []
        var index: UInt32 = 0
        while true {
            var oid = [CChar](repeating: 0, count: 128)
            var size = oid.count
            var critical: UInt32 = 0
            var status = gnutls_x509_crt_get_extension_info(handle, index, &oid, &size, &critical)
            if status == GNUTLS_E_SHORT_MEMORY_BUFFER {
                // An OID longer than 128 characters: GnuTLS said how much it needs.
                oid = [CChar](repeating: 0, count: size + 1)
                size = oid.count
                status = gnutls_x509_crt_get_extension_info(handle, index, &oid, &size, &critical)
            }
            if status == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE { break }
            guard status == GNUTLS_E_SUCCESS else {
                throw .malformedCertificate("GnuTLS cannot read extension \(index) (\(GnuTLS.errorName(status)))")
            }
            var datum = gnutls_datum_t()
            let read = gnutls_x509_crt_get_extension_data2(handle, index, &datum)
            guard read == GNUTLS_E_SUCCESS else {
                throw .malformedCertificate("GnuTLS cannot read the value of extension \(index) (\(GnuTLS.errorName(read)))")
            }
            let name = oid.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            result.append(Extension(oid: name, critical: critical != 0, value: GnuTLS.takeDatum(datum)))
            index += 1
        }
        return result
    }

    /// The algorithm of the certificate's signature, as GnuTLS names it.
    var signatureAlgorithm: gnutls_sign_algorithm_t {
        let algorithm = gnutls_x509_crt_get_signature_algorithm(handle)
        return algorithm > 0 ? gnutls_sign_algorithm_t(UInt32(algorithm)) : GNUTLS_SIGN_UNKNOWN
    }

    /// True when `signature` over `tbsCertificate` verifies under the certificate's own key
    /// with `algorithm`. GnuTLS's defaults apply: insecure algorithms (SHA-1 ...) fail.
    func verifySelfSignature(_ algorithm: gnutls_sign_algorithm_t, tbsCertificate: [UInt8], signature: [UInt8]) throws(LibP2PTLSError) -> Bool {
        var key: gnutls_pubkey_t?
        guard gnutls_pubkey_init(&key) == GNUTLS_E_SUCCESS, let key else {
            fatalError("gnutls_pubkey_init failed (out of memory?)")
        }
        defer { gnutls_pubkey_deinit(key) }
        let imported = gnutls_pubkey_import_x509(key, handle, 0)
        guard imported == GNUTLS_E_SUCCESS else {
            throw .unsupportedCertificateKey("GnuTLS cannot read it (\(GnuTLS.errorName(imported)))")
        }
        guard !signature.isEmpty else { return false }
        let result = GnuTLS.withDatum(tbsCertificate) { data in
            GnuTLS.withDatum(signature) { sig in gnutls_pubkey_verify_data2(key, algorithm, 0, data, sig) }
        }
        return result >= 0
    }
}
