/// Size limits of keys and values (DESIGN.md section 3): checked before anything is stored
/// or sent, with a message that names the size and the limit.
public enum EntryLimits {
    /// Longest key, in UTF-8 bytes. Keys must also be at least 1 byte.
    public static let maxKeyBytes = 1024
    /// Longest value, in UTF-8 bytes (1 MiB). Values too large for a gossip message are
    /// announced on the topic and fetched by catch-up (docs/PROTOCOL.md).
    public static let maxValueBytes = 1 << 20

    /// Accepts keys of 1 to `maxKeyBytes` UTF-8 bytes.
    public static func validate(key: String) throws(StoreError) {
        let count = key.utf8.count
        guard count > 0 else { throw .invalidKey("key is empty; a key must be 1 to \(maxKeyBytes) bytes") }
        guard count <= maxKeyBytes else { throw .invalidKey("key is \(count) bytes; the limit is \(maxKeyBytes)") }
    }

    /// Accepts values of up to `maxValueBytes` UTF-8 bytes (the empty string included).
    public static func validate(value: String) throws(StoreError) {
        let count = value.utf8.count
        guard count <= maxValueBytes else {
            throw .invalidValue("value is \(count) bytes; the limit is \(maxValueBytes) (1 MiB)")
        }
    }
}
