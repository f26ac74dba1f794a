import ControlProtocol
import Foundation
import JSON
import Testing
import TestSupport

/// Values up to 1 MiB (issue 15) with real daemons: `add --file` and `add -` on one node of a
/// line of five, the write announced by gossip and fetched by catch-up hop by hop, readable on
/// every node long before the periodic catch-up (30 s); files that are not UTF-8 text or are
/// too large are refused by `p2p-syncctl` with what is wrong.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct LargeValueTests {
    typealias G = GossipReplicationTests

    @Test func aOneMebibyteValueWrittenOnOneOfFiveDaemonsIsReadableOnAll() throws {
        let (nodes, daemons) = try G.line(5)
        let meshed = ChildProcess.waitUntil(timeout: 30) {
            nodes.indices.allSatisfy { i in
                (try? G.gossip(nodes[i]))?["mesh_peers"]?.arrayValue?.count == (i == 0 || i == nodes.count - 1 ? 1 : 2)
            }
        }
        #expect(meshed)
        // Exactly 1,048,576 bytes of UTF-8 with two- and three-byte characters and a newline at the end.
        var text = String(repeating: "é✓ line of text\n", count: 1 << 20 / 20)
        text += String(repeating: "x", count: (1 << 20) - text.utf8.count - 1) + "\n"
        #expect(text.utf8.count == 1 << 20)
        let file = URL(fileURLWithPath: nodes[2].directory.file("big.txt"))
        try Data(text.utf8).write(to: file)

        let started = Date()
        let added = try nodes[2].ctl(["add", "big", "--file", file.path])
        #expect(added.status == 0, "\(added)")
        #expect(added.stdout.contains("announced to 2 peer(s)"), "\(added.stdout)")
        var readable: [Double] = Array(repeating: .nan, count: nodes.count)
        let all = ChildProcess.waitUntil(timeout: 20) {
            for i in nodes.indices where readable[i].isNaN && G.value(nodes[i], "big") == text {
                readable[i] = Date().timeIntervalSince(started)
            }
            return !readable.contains(where: \.isNaN)
        }
        #expect(all, "readable after \(readable) s; \(daemons[0].stderr.suffix(2000))")
        print("1 MiB value written on daemon 3 of a line of 5: readable on each after \(readable.map { (($0 * 1000).rounded() / 1000).description }) s")
        // Through p2p-syncctl too, byte for byte (get prints the value and a newline).
        let got = try nodes[4].ctl(["get", "big"])
        #expect(got.status == 0 && got.stdout == text + "\n")
        for node in nodes {
            let reconcile = try G.call(node, .status)["reconcile"]
            #expect(reconcile?["announced_wanted"]?.intValue == 0 && reconcile?["announced_abandoned"]?.intValue == 0)
        }

        // From standard input.
        let piped = try nodes[0].ctl(["add", "piped", "-"], stdin: String(repeating: "ü", count: 100_000))
        #expect(piped.status == 0, "\(piped)")
        #expect(ChildProcess.waitUntil(timeout: 20) { G.value(nodes[4], "piped") == String(repeating: "ü", count: 100_000) })
    }

    @Test func valuesThatAreNotTextOrTooLargeAreRefusedBeforeAnythingIsSent() throws {
        let node = DaemonHarness()
        _ = try node.start()
        let binary = URL(fileURLWithPath: node.directory.file("binary"))
        try Data([0x61, 0x62, 0xFF, 0xFE, 0x00]).write(to: binary)
        let tooLarge = URL(fileURLWithPath: node.directory.file("large"))
        try Data(repeating: 0x61, count: (1 << 20) + 1).write(to: tooLarge)
        let cases: [([String], String)] = [
            (["add", "k", "--file", binary.path], "is not UTF-8 text"),
            (["add", "k", "--file", tooLarge.path], "holds more than 1 MiB"),
            (["add", "k", "--file", node.directory.path + "/missing"], "cannot open"),
            (["add", "k"], "give a VALUE, - to read it from standard input, or --file PATH"),
            (["add", "k", "v", "--file", binary.path], "either a VALUE or --file"),
        ]
        for (arguments, message) in cases {
            let result = try node.ctl(arguments)
            #expect(result.status == 2, "\(arguments): \(result)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        #expect(G.value(node, "k") == nil)
        // Over the daemon's limit by the request itself: the daemon's error, nothing stored.
        do {
            _ = try G.call(node, .put(key: "k", value: String(repeating: "a", count: (1 << 20) + 1)))
            Issue.record("a value of 1 MiB + 1 byte was accepted")
        } catch {
            #expect("\(error)".contains("the limit is 1048576"), "\(error)")
        }
        #expect(G.value(node, "k") == nil)
        // Exactly at the limit, with a control byte in every position JSON escapes six-fold.
        let escaped = String(repeating: "\u{1}", count: 1 << 20)
        #expect(try G.call(node, .put(key: "k", value: escaped))["delivery"]?.stringValue == "queued")
        #expect(G.value(node, "k") == escaped)
    }
}
