import Foundation
import Group
import JSON
import Testing

/// The audit log's chain: an intact log verifies, and each kind of tampering names its line.
@Suite struct AuditChainTests {
    static func log(_ count: Int) -> (lines: [String], head: AuditChain.Head) {
        var chain = AuditChain()
        var lines: [String] = []
        for i in 1...count {
            lines.append(chain.append(event: "member-set", time: "2026-12-02T03:00:0\(i % 10).000Z",
                                      fields: ["subject": .string("peer\(i)"), "role": "writer"]))
        }
        return (lines, chain.head)
    }

    @Test func intactLogVerifies() {
        let (lines, head) = Self.log(6)
        #expect(AuditChain.verify(lines: lines, head: head).isEmpty)
        #expect(AuditChain.verify(lines: [], head: .empty).isEmpty)
        #expect(AuditChain.Head(text: head.text) == head)
        // Appending continues the chain from a stored head.
        var chain = AuditChain(head: head)
        let more = lines + [chain.append(event: "x", time: "t", fields: [:])]
        #expect(AuditChain.verify(lines: more, head: chain.head).isEmpty)
    }

    @Test func anEditedLineIsNamed() {
        var (lines, head) = Self.log(6)
        lines[2] = lines[2].replacingOccurrences(of: "writer", with: "admin")
        let problems = AuditChain.verify(lines: lines, head: head)
        #expect(problems.map(\.line) == [3])
    }

    @Test func anEditedLastLineIsNamed() {
        var (lines, head) = Self.log(4)
        lines[3] = lines[3].replacingOccurrences(of: "writer", with: "reader")
        #expect(AuditChain.verify(lines: lines, head: head).map(\.line) == [4])
    }

    @Test func aRemovedLineIsNamed() {
        var (lines, head) = Self.log(6)
        lines.remove(at: 2)
        let problems = AuditChain.verify(lines: lines, head: head)
        #expect(problems.first?.line == 3)
        #expect(problems.first?.message.contains("missing") == true)
    }

    @Test func removedLastLinesAreFound() {
        var (lines, head) = Self.log(6)
        lines.removeLast(2)
        let problems = AuditChain.verify(lines: lines, head: head)
        #expect(problems.map(\.line) == [5])
    }

    @Test func garbageLineIsNamed() {
        var (lines, head) = Self.log(5)
        lines[1] = "not json"
        #expect(AuditChain.verify(lines: lines, head: head).map(\.line).contains(2))
    }
}

