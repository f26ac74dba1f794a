import Foundation
import Group
import JSON
import P2PCrypto
import SyncStore
import Testing
import TestSupport
import Wire

/// Signed membership changes: what an admin signs verifies, any edit by a relay is caught, and
/// a change stored as a write is accepted only under its own key, version and canonical value.
@Suite struct MembershipChangeTests {
    static func key(_ n: UInt8) -> Ed25519PrivateKey { try! Ed25519PrivateKey(seed: [UInt8](repeating: n, count: 32)) }
    static let nonce = [UInt8](repeating: 7, count: GroupID.nonceCount)
    static func hlc(_ ms: UInt64, _ l: UInt32 = 0) -> HLC { HLC(physicalMillis: ms, logical: l) }

    @Test func createNamesTheGroupByFounderAndNonce() throws {
        let founder = Self.key(1)
        let create = MembershipChange.create(hlc: Self.hlc(1_000), by: founder, nonce: Self.nonce)
        #expect(create.group == GroupID.derive(founder: founder.publicKey.peerID, nonce: Self.nonce))
        #expect(create.subject == founder.publicKey.peerID)
        try create.verify()
        // Another founder's key over the same nonce names another group.
        #expect(GroupID.derive(founder: Self.key(2).publicKey.peerID, nonce: Self.nonce) != create.group)
        #expect(try GroupID(create.group.description) == create.group)
    }

    @Test func groupIDText() {
        #expect(throws: GroupError.self) { try GroupID("abc") }
        #expect(throws: GroupError.self) { try GroupID(String(repeating: "z", count: 32)) }
        #expect(throws: GroupError.self) { try GroupID(String(repeating: "a", count: 34)) }
    }

    @Test func roundTripsAsAWrite() throws {
        let founder = Self.key(1)
        let create = MembershipChange.create(hlc: Self.hlc(1_000), by: founder, nonce: Self.nonce)
        let set = MembershipChange.signed(group: create.group, subject: Self.key(2).publicKey.peerID, action: .set(.writer),
                                          hlc: Self.hlc(2_000), by: founder)
        let remove = MembershipChange.signed(group: create.group, subject: Self.key(2).publicKey.peerID, action: .remove,
                                             hlc: Self.hlc(3_000), by: founder)
        for change in [create, set, remove] {
            let entry = change.entry
            #expect(MembershipChange.isMembershipKey(entry.key))
            #expect(entry.version == Version(hlc: change.hlc, origin: founder.publicKey.peerID.bytes))
            #expect(try MembershipChange(entry: entry) == change)
        }
        #expect(create.key != set.key && set.key != remove.key)
    }

    /// What a relay could try: every edit of a field is refused.
    @Test func editsAreRefused() throws {
        let founder = Self.key(1)
        let group = MembershipChange.create(hlc: Self.hlc(1_000), by: founder, nonce: Self.nonce).group
        let change = MembershipChange.signed(group: group, subject: Self.key(2).publicKey.peerID, action: .set(.reader),
                                             hlc: Self.hlc(2_000), by: founder)
        let entry = change.entry
        var object = change.json.objectValue!
        func refused(_ edit: (inout [String: JSON]) -> Void, version: Version? = nil, key: String? = nil) {
            var edited = object
            edit(&edited)
            let value = JSON.object(edited).encodedString
            let forged = Entry(key: key ?? entry.key, value: value, version: version ?? entry.version)
            #expect(throws: GroupError.self) { try MembershipChange(entry: forged) }
        }
        refused { $0["role"] = "admin" }
        refused { $0["subject"] = .string(Self.key(3).publicKey.peerID.description) }
        refused { $0["hlc"] = "9000:0" }
        refused { $0["kind"] = "remove"; $0["role"] = nil }
        refused { $0["author"] = .string(Self.key(3).publicKey.peerID.description) }
        refused { $0["sig"] = .string(String(repeating: "00", count: 64)) }
        refused { $0["extra"] = 1 }
        // Unchanged content under another version, or another key:
        refused({ _ in }, version: Version(hlc: Self.hlc(9_000), origin: entry.version.origin))
        refused({ _ in }, key: MembershipChange.keyPrefix + String(repeating: "0", count: 32))
        // Not canonical: the same content with a space.
        object = change.json.objectValue!
        let spaced = entry.value!.replacingOccurrences(of: ",", with: ", ")
        #expect(throws: GroupError.self) { try MembershipChange(entry: Entry(key: entry.key, value: spaced, version: entry.version)) }
        #expect(throws: GroupError.self) { try MembershipChange(entry: Entry(key: entry.key, value: nil, version: entry.version)) }
        #expect(throws: GroupError.self) { try MembershipChange(entry: Entry(key: entry.key, value: "[]", version: entry.version)) }
    }

    @Test func aChangeSignedByAnotherKeyIsRefused() throws {
        let group = MembershipChange.create(hlc: Self.hlc(1_000), by: Self.key(1), nonce: Self.nonce).group
        let mallory = Self.key(9)
        let honest = MembershipChange.signed(group: group, subject: mallory.publicKey.peerID, action: .set(.admin), hlc: Self.hlc(5), by: mallory)
        // Claims the founder wrote it: the signature is Mallory's.
        var object = honest.json.objectValue!
        object["author"] = .string(Self.key(1).publicKey.peerID.description)
        let claimed = try MembershipChange(json: .object(object))
        #expect(throws: GroupError.self) { try claimed.verify() }
        // A create for the founder's group by someone else does not derive its ID.
        var forgedCreate = MembershipChange.create(hlc: Self.hlc(1), by: mallory, nonce: Self.nonce).json.objectValue!
        forgedCreate["group"] = .string(group.description)
        #expect(throws: GroupError.self) { try MembershipChange(json: .object(forgedCreate)).verify() }
    }
}

