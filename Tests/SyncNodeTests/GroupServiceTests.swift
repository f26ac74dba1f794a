import Foundation
import Group
import P2PCrypto
@testable import SyncNode
import SyncStore
import Testing
import TestSupport
import Wire

/// The group's rules in one node, without sockets (issue 14): the changes that arrive with the
/// data are applied first; a reader's writes, a non-member's, a removed member's later ones and
/// a forged change are refused and audited; the admitted set follows the membership; a node
/// that is not an admin cannot change it.
@Suite struct GroupServiceTests {
    static let founder = try! Ed25519PrivateKey(seed: [UInt8](repeating: 1, count: 32))
    static let writer = try! Ed25519PrivateKey(seed: [UInt8](repeating: 2, count: 32))
    static let reader = try! Ed25519PrivateKey(seed: [UInt8](repeating: 3, count: 32))
    static let stranger = try! Ed25519PrivateKey(seed: [UInt8](repeating: 4, count: 32))
    static let here = try! Ed25519PrivateKey(seed: [UInt8](repeating: 5, count: 32))

    struct Node {
        let directory: TemporaryDirectory
        let engine: SyncEngine
        let group: GroupService
    }

    /// A node (`here`) that joined the founder's group with `invite`.
    static func node(joining group: GroupID) throws -> Node {
        let directory = TemporaryDirectory()
        let sink = LogSink(filter: LogFilter(defaultLevel: .error))
        let engine = try SyncEngine(store: try Store(path: Store.inMemoryPath), localOrigin: here.publicKey.peerID.bytes,
                                    logger: sink.logger("store"), wallMillis: { 1_795_000_100_000 })
        let audit = AuditLog(path: directory.file("audit.log"), headPath: directory.file("audit.head"), logger: sink.logger("audit"))
        let service = try GroupService(path: directory.file("group.json"), identity: here, engine: engine, audit: audit, logger: sink.logger("group"))
        #expect(service.join(GroupInvite(group: group, admin: founder.publicKey.peerID, addresses: [])) == nil)
        return Node(directory: directory, engine: engine, group: service)
    }

    static func hlc(_ ms: UInt64) -> HLC { HLC(physicalMillis: 1_795_000_000_000 + ms, logical: 0) }
    static func write(_ key: String, at ms: UInt64, by author: Ed25519PrivateKey) -> Entry {
        Entry(key: key, value: "v", version: Version(hlc: hlc(ms), origin: author.publicKey.peerID.bytes))
    }

    @Test func writesAreCheckedAgainstTheRolesTheChangesInTheSameBatchGive() throws {
        let create = MembershipChange.create(hlc: Self.hlc(1), by: Self.founder, nonce: [UInt8](repeating: 9, count: 16))
        let group = create.group
        func change(_ subject: Ed25519PrivateKey, _ action: MembershipChange.Action, at ms: UInt64, by author: Ed25519PrivateKey = GroupServiceTests.founder) -> Entry {
            MembershipChange.signed(group: group, subject: subject.publicKey.peerID, action: action, hlc: Self.hlc(ms), by: author).entry
        }
        let node = try Self.node(joining: group)
        // Before the changes arrive only the inviting admin is admitted, and this node may not write.
        #expect(node.group.admission()?.admitted == [Self.founder.publicKey.peerID])
        #expect(node.group.localWriteRefusal(key: "k") != nil)

        // A catch-up batch in key order: data before the membership keys, and a forged change
        // (the reader making itself admin) among them.
        let batch = [
            Self.write("a/founder", at: 10, by: Self.founder), Self.write("a/writer", at: 11, by: Self.writer),
            Self.write("a/reader", at: 12, by: Self.reader), Self.write("a/stranger", at: 13, by: Self.stranger),
            Self.write("a/writer-late", at: 40, by: Self.writer),
            create.entry, change(Self.writer, .set(.writer), at: 2), change(Self.reader, .set(.reader), at: 3),
            change(Self.here, .set(.writer), at: 4), change(Self.writer, .remove, at: 30),
            change(Self.reader, .set(.admin), at: 5, by: Self.reader),
        ]
        let refused = node.engine.stageRemote(batch)
        node.engine.commitStaged()
        let names = Set(refused.map(\.entry.key))
        #expect(names == ["a/reader", "a/stranger", "a/writer-late"])
        #expect(try node.engine.get(key: "a/founder") != nil && node.engine.get(key: "a/writer") != nil)
        #expect(node.group.membership?.role(of: Self.reader.publicKey.peerID) == .reader)
        #expect(node.group.membership?.role(of: Self.writer.publicKey.peerID) == nil)
        #expect(node.group.role == .writer)
        #expect(node.group.localWriteRefusal(key: "k") == nil)
        #expect(node.group.localWriteRefusal(key: MembershipChange.keyPrefix + "x") != nil)
        // The admitted set: the members now (the removed writer and the stranger are out).
        #expect(node.group.admission()?.admitted == Set([Self.founder, Self.reader, Self.here].map(\.publicKey.peerID)))
        // A change whose value was edited by a relay is refused by the gate.
        var edited = change(Self.stranger, .set(.writer), at: 50)
        edited.value = edited.value!.replacingOccurrences(of: "writer", with: "admin")
        #expect(node.engine.stageRemote([edited]).count == 1)
        #expect(node.group.membership?.role(of: Self.stranger.publicKey.peerID) == nil)

        // Everything refused is in the audit log, which verifies.
        let log = node.group.audit.lines().joined(separator: "\n")
        for key in ["a/reader", "a/stranger", "a/writer-late"] { #expect(log.contains("\"key\":\"\(key)\"")) }
        #expect(log.contains("\"event\":\"member-removed\""))
        #expect(node.group.audit.verify().isEmpty)
    }

    @Test func onlyAnAdminChangesTheMembershipAndTheLastAdminStays() throws {
        let create = MembershipChange.create(hlc: Self.hlc(1), by: Self.founder, nonce: [UInt8](repeating: 9, count: 16))
        let node = try Self.node(joining: create.group)
        node.engine.stageRemote([create.entry, MembershipChange.signed(group: create.group, subject: Self.here.publicKey.peerID,
                                                                       action: .set(.writer), hlc: Self.hlc(2), by: Self.founder).entry])
        node.engine.commitStaged()
        var outcome: Result<Void, GroupService.CommandError>?
        node.group.set(Self.stranger.publicKey.peerID, role: .writer) { outcome = $0 }
        guard case .failure(let error)? = outcome else { Issue.record("a writer changed the membership"); return }
        #expect("\(error)".contains("only an admin"))
    }
}
