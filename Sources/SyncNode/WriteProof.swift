import Gossipsub
import Group
import P2PCrypto
import SyncStore
import Wire

/// The proof that an author made a batch of writes (issue 14, docs/GROUPS.md "Writes no one
/// can forge"): the signed gossipsub message that first carried them. Gossipsub's StrictSign
/// signature covers the message's data, so the message proves every write in it; it is stored
/// once per batch (`WriteProofRecord`) and shipped with catch-up, where the receiver checks
/// each entry against it. So a member that relays or serves catch-up cannot alter another
/// author's key, value or version, nor invent a write in its name.
struct WriteProof {
    let record: WriteProofRecord
    /// The writes of a batch, by version.
    private let writes: [Version: Entry]
    /// The announced large write, when the message is an announcement.
    private let announced: WriteAnnouncement?

    /// The record of a message this node signed or accepted, carrying `payload` by `author`.
    static func record(_ message: PubsubMessage, author: PeerID, payload: WritePayload) -> WriteProofRecord? {
        let versions: [Version]
        switch payload {
        case .writes(let entries): versions = entries.map(\.version)
        case .announced(let announcement): versions = [announcement.version]
        }
        guard let first = versions.min(), let last = versions.max(), versions.allSatisfy({ $0.origin == author.bytes }) else { return nil }
        return WriteProofRecord(origin: author.bytes, first: first.hlc, last: last.hlc, bytes: message.encoded())
    }

    /// Checks a proof a peer sent: a gossipsub message on `topic`, correctly signed, whose
    /// writes are all its author's own.
    init(verifying bytes: [UInt8], topic: String) throws(WriteProofError) {
        let message: PubsubMessage
        do { message = try PubsubMessage(decoding: bytes) } catch { throw .malformed("\(error)") }
        guard message.topic == topic else { throw .malformed("it is a message on topic \"\(message.topic.prefix(64))\", not ours") }
        let author: PeerID
        do { author = try MessageSigning.verify(message) } catch { throw .badSignature("\(error)") }
        let payload: WritePayload
        do { payload = try WriteMessage.decode(message.data, author: author) } catch { throw .malformed("\(error)") }
        guard let record = Self.record(message, author: author, payload: payload) else {
            throw .malformed("it carries writes in another author's name than its signer \(author)")
        }
        self.record = record
        switch payload {
        case .writes(let entries):
            writes = Dictionary(entries.map { ($0.version, $0) }, uniquingKeysWith: { first, _ in first })
            announced = nil
        case .announced(let announcement):
            writes = [:]
            announced = announcement
        }
    }

    /// Whether the author wrote exactly `entry`: key, value (or delete) and version.
    func covers(_ entry: Entry) -> Bool {
        if let write = writes[entry.version] { return write == entry }
        guard let announced, announced.version == entry.version, announced.key.utf8.elementsEqual(entry.key.utf8),
              let hash = announced.valueSHA256, let value = entry.value else { return false }
        let bytes = Array(value.utf8)
        return bytes.count == announced.valueBytes && SHA256.hash(bytes) == hash
    }

    /// Splits entries received by catch-up into those a verified proof in `proofs` covers and
    /// those it does not (membership changes prove themselves and pass). Proofs that do not
    /// verify are dropped with why.
    static func check(_ entries: [Entry], proofs bytes: [[UInt8]], topic: String)
        -> (proven: [Entry], records: [WriteProofRecord], unproven: [(entry: Entry, reason: String)]) {
        var verified: [WriteProof] = []
        var problems: [String] = []
        for proof in bytes {
            do { verified.append(try WriteProof(verifying: proof, topic: topic)) } catch { problems.append("\(error)") }
        }
        var proven: [Entry] = []
        var used = Set<Int>()
        var unproven: [(entry: Entry, reason: String)] = []
        proven.reserveCapacity(entries.count)
        var last = 0
        for entry in entries {
            if MembershipChange.isMembershipKey(entry.key) { proven.append(entry); continue }
            // Entries in key order mostly share a batch: try the last proof that matched first.
            if last < verified.count, verified[last].covers(entry) {
                used.insert(last)
                proven.append(entry)
                continue
            }
            if let index = verified.firstIndex(where: { $0.record.covers(entry.version) && $0.covers(entry) }) {
                last = index
                used.insert(index)
                proven.append(entry)
            } else {
                let why = problems.isEmpty ? "no proof signed by its author came with it" : "no valid proof came with it (\(problems[0]))"
                unproven.append((entry, why))
            }
        }
        let records = used.sorted().map { verified[$0].record }
        return (proven, records, unproven)
    }
}

/// Why a proof sent with catch-up was not accepted.
enum WriteProofError: Error, CustomStringConvertible {
    case malformed(String)
    case badSignature(String)

    var description: String {
        switch self {
        case .malformed(let why): "malformed proof: \(why)"
        case .badSignature(let why): "proof signature: \(why)"
        }
    }
}
