import Group
import P2PCrypto
import SyncStore
import Testing
import TestSupport
import Wire

/// The membership every member computes: the same whatever order the changes arrive in, only
/// admins change it, and a role is known as of any version.
@Suite struct MembershipTests {
    static func key(_ n: UInt8) -> Ed25519PrivateKey { MembershipChangeTests.key(n) }
    static func hlc(_ ms: UInt64) -> HLC { HLC(physicalMillis: ms, logical: 0) }
    static let founder = key(1), alice = key(2), bob = key(3), carol = key(4)
    static let create = MembershipChange.create(hlc: hlc(1_000), by: founder, nonce: MembershipChangeTests.nonce)
    static var group: GroupID { create.group }
    static func change(_ subject: Ed25519PrivateKey, _ action: MembershipChange.Action, at ms: UInt64, by author: Ed25519PrivateKey) -> MembershipChange {
        .signed(group: group, subject: subject.publicKey.peerID, action: action, hlc: hlc(ms), by: author)
    }
    static func version(_ ms: UInt64, _ who: Ed25519PrivateKey) -> Version { Version(hlc: hlc(ms), origin: who.publicKey.peerID.bytes) }

    /// Founder makes Alice admin; Alice adds Bob as writer and Carol as reader; the founder
    /// removes Alice; Alice (removed) then tries to make Carol an admin.
    static let history: [MembershipChange] = [
        create,
        change(alice, .set(.admin), at: 2_000, by: founder),
        change(bob, .set(.writer), at: 3_000, by: alice),
        change(carol, .set(.reader), at: 3_500, by: alice),
        change(alice, .remove, at: 4_000, by: founder),
        change(carol, .set(.admin), at: 5_000, by: alice),
    ]

    @Test func appliesChangesByAdminsInVersionOrder() {
        var membership = Membership(group: Self.group)
        let added = membership.insert(contentsOf: Self.history)
        #expect(added == Self.history.count)
        #expect(membership.founder == Self.founder.publicKey.peerID)
        #expect(membership.role(of: Self.founder.publicKey.peerID) == .admin)
        #expect(membership.role(of: Self.alice.publicKey.peerID) == nil)
        #expect(membership.role(of: Self.bob.publicKey.peerID) == .writer)
        #expect(membership.role(of: Self.carol.publicKey.peerID) == .reader)
        #expect(membership.refused.count == 1)
        #expect(membership.refused.first?.change == Self.history[5])
    }

    @Test func sameResultInAnyOrder() {
        var reference = Membership(group: Self.group)
        reference.insert(contentsOf: Self.history)
        var random = SeededRandom(seed: 15)
        for _ in 0..<50 {
            var shuffled = Self.history
            for i in stride(from: shuffled.count - 1, to: 0, by: -1) {
                shuffled.swapAt(i, Int(random.next() % UInt64(i + 1)))
            }
            var membership = Membership(group: Self.group)
            for change in shuffled { membership.insert(change) }
            #expect(membership.roles == reference.roles)
            #expect(membership.applied == reference.applied)
        }
    }

    @Test func replayedOldChangeDoesNotUndoALaterOne() {
        var membership = Membership(group: Self.group)
        membership.insert(contentsOf: Self.history)
        let again = membership.insert(Self.history[1])  // Alice made admin, again
        #expect(!again)
        #expect(membership.role(of: Self.alice.publicKey.peerID) == nil)
    }

    @Test func rolesAsOfAVersion() {
        var membership = Membership(group: Self.group)
        membership.insert(contentsOf: Self.history)
        let alice = Self.alice.publicKey.peerID
        #expect(membership.writeRefusal(origin: alice, version: Self.version(3_900, Self.alice)) == nil)
        #expect(membership.writeRefusal(origin: alice, version: Self.version(4_100, Self.alice)) != nil)
        #expect(membership.writeRefusal(origin: alice, version: Self.version(1_500, Self.alice)) != nil)
        #expect(membership.writeRefusal(origin: Self.carol.publicKey.peerID, version: Self.version(9_000, Self.carol))?.contains("reader") == true)
        #expect(membership.writeRefusal(origin: Self.key(9).publicKey.peerID, version: Self.version(9_000, Self.key(9)))?.contains("not a member") == true)
        #expect(membership.writeRefusal(origin: Self.bob.publicKey.peerID, version: Self.version(3_001, Self.bob)) == nil)
    }

    @Test func nonAdminsAndChangesBeforeTheCreateAreRefused() {
        var membership = Membership(group: Self.group)
        membership.insert(Self.create)
        membership.insert(Self.change(Self.bob, .set(.admin), at: 2_000, by: Self.bob))
        membership.insert(Self.change(Self.carol, .set(.writer), at: 500, by: Self.founder))
        #expect(membership.role(of: Self.bob.publicKey.peerID) == nil)
        #expect(membership.role(of: Self.carol.publicKey.peerID) == nil)
        #expect(membership.refused.count == 2)
        // Another group's change is not taken.
        let other = MembershipChange.create(hlc: Self.hlc(1), by: Self.key(8), nonce: MembershipChangeTests.nonce)
        let taken = membership.insert(other)
        #expect(!taken)
    }
}
