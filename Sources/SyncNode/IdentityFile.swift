#if canImport(Glibc)
import Glibc
#endif
import P2PCrypto
import Wire

/// The node's long-term Ed25519 identity in `identity.key`: the libp2p `PrivateKey`
/// protobuf (peer-ids spec), mode 0600, made on first start.
public enum IdentityFile {
    /// Loads the key, or makes and saves a new one if the file does not exist.
    /// Returns the key and whether it was just created.
    public static func loadOrCreate(path: String) throws(ConfigurationError) -> (key: Ed25519PrivateKey, created: Bool) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            guard errno == ENOENT else {
                throw .identityUnreadable(path: path, reason: String(cString: strerror(errno)))
            }
            let key = Ed25519PrivateKey.generate()
            try write(key, to: path)
            return (key, true)
        }
        defer { close(fd) }
        var info = stat()
        fstat(fd, &info)
        // The key file is tiny; anything large is not ours.
        guard info.st_size <= 4096 else {
            throw .identityUnreadable(path: path, reason: "file is \(info.st_size) bytes, not a libp2p private key")
        }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else {
            throw .identityUnreadable(path: path, reason: "short read")
        }
        do {
            return (try Ed25519PrivateKey(libp2pProtobuf: bytes), false)
        } catch {
            throw .identityUnreadable(path: path, reason: "not a libp2p Ed25519 private key: \(error)")
        }
    }

    /// Writes through a temporary file and rename, so a crash never leaves half a key.
    static func write(_ key: Ed25519PrivateKey, to path: String) throws(ConfigurationError) {
        if let reason = AtomicFile.write(key.libp2pProtobuf, to: path, mode: 0o600) {
            throw .cannotWriteIdentity(path: path, reason: reason)
        }
    }
}
