// libFuzzer target: the private groups' parsers (issue 14): a membership change received as
// a write, an invite line, and an audit log to verify.
//
// First byte % 3 == 0: the rest is a change's value stored under a fixed key and version; a
// value that is accepted must be canonical (it encodes back to itself) and then fed to a
// membership. 1: the rest is an invite line; one that parses prints as a line that parses back
// to the same invite. 2: the rest is an audit log; verification names only lines that exist
// (or the one after the last, for removed last lines).

import Group
import SyncStore
import Wire

@_cdecl("LLVMFuzzerTestOneInput")
public func groupFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let mode = bytes.first else { return 0 }
    let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
    switch mode % 3 {
    case 0:
        let origin = (try? PeerID("12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5").bytes) ?? []
        let entry = Entry(key: MembershipChange.keyPrefix + "00", value: text, version: Version(hlc: HLC(physicalMillis: 1, logical: 0), origin: origin))
        guard let change = try? MembershipChange(entry: entry) else { return 0 }
        precondition(change.entry.value == text, "an accepted change is not canonical")
        var membership = Membership(group: change.group)
        membership.insert(change)
    case 1:
        guard let invite = try? GroupInvite(text) else { return 0 }
        precondition((try? GroupInvite(invite.description)) == invite, "an invite did not survive printing and parsing")
    default:
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for problem in AuditChain.verify(lines: lines, head: nil) {
            precondition(problem.line >= 1 && problem.line <= lines.count + 1, "a problem names a line that is not there")
        }
        var chain = AuditChain()
        let written = lines.prefix(8).map { chain.append(event: "e", time: "t", fields: ["text": .string($0)]) }
        precondition(AuditChain.verify(lines: written, head: chain.head).isEmpty, "a log the chain wrote does not verify")
    }
    return 0
}
