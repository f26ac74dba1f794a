import SyncStore
import Foundation
import Group
import Testing
import Wire

@Suite struct GroupInviteTests {
    @Test func roundTrips() throws {
        let group = MembershipChangeTests.create
        let invite = GroupInvite(group: group.group, admin: group.author,
                                 addresses: [try Multiaddr("/ip4/10.0.0.1/tcp/4001"), try Multiaddr("/ip6/::1/udp/4001/quic-v1")])
        let text = invite.description
        #expect(!text.contains(" "))
        #expect(try GroupInvite(text) == invite)
        #expect(try GroupInvite("  " + text + "\n") == invite)
        let bare = GroupInvite(group: group.group, admin: group.author, addresses: [])
        #expect(try GroupInvite(bare.description) == bare)
    }

    @Test func malformedInvitesSayWhy() {
        let good = GroupInvite(group: MembershipChangeTests.create.group, admin: MembershipChangeTests.create.author, addresses: []).description
        for bad in ["", "hello", "p2p-sync-invite:", "p2p-sync-invite:abc:def", good + "@/ip4/1.2.3/tcp/1",
                    good.replacingOccurrences(of: "12D3", with: "XXXX"), good + ":extra"] {
            #expect(throws: GroupError.self) { try GroupInvite(bad) }
        }
    }
}

extension MembershipChangeTests {
    static let create = MembershipChange.create(hlc: HLCFixture.one, by: key(1), nonce: nonce)
}

enum HLCFixture { static let one = HLC(physicalMillis: 1, logical: 0) }

