import ControlProtocol
import Foundation
import JSON
import Testing
import TestSupport

/// `p2p-syncctl import` and `export` (issue 15) with real daemons: export then import restores
/// a replica elsewhere (deletes, keys that differ only by Unicode normalization, a prefix), a
/// bad line stops the import before anything is written, a batch the daemon refuses is named
/// with the lines that went in, and imported writes replicate.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ImportExportTests {
    typealias G = GossipReplicationTests

    static func line(_ key: String, _ value: String?) -> String {
        JSON.object(["key": .string(key), "value": value.map(JSON.string) ?? .null]).encodedString
    }

    @Test func exportThenImportRestoresAReplicaAndImportsReplicate() throws {
        let a = DaemonHarness(), b = DaemonHarness(), c = DaemonHarness()
        let daemonA = try a.start()
        _ = try b.start(["--peer", try PeerConnectionTests.loopbackAddress(daemonA)])
        #expect(ChildProcess.waitUntil(timeout: 20) { ((try? G.gossip(a))?["mesh_peers"]?.arrayValue?.count ?? 0) == 1 })
        var lines = (0..<12_000).map { Self.line("bulk/\(String(format: "%05d", $0))", "value \($0) ✓") }
        // NFC "é" and NFD "e" + U+0301: equal as Swift strings, two different keys as bytes.
        lines += [Self.line("caf\u{E9}", "composed"), Self.line("cafe\u{301}", "decomposed")]
        lines += [Self.line("bulk/00007", nil), "", Self.line("other/x", "")]
        let imported = try a.ctl(["import", "-"], stdin: lines.joined(separator: "\n") + "\n", timeout: 60)
        #expect(imported.status == 0, "\(imported)")
        #expect(imported.stdout.contains("imported 12004 lines: 12003 writes, 1 delete"), "\(imported.stdout)")

        // Replicated to b by gossip, in batches.
        #expect(ChildProcess.waitUntil(timeout: 30) { G.value(b, "other/x") == "" && G.value(b, "bulk/11999") == "value 11999 ✓" })
        #expect(G.value(b, "bulk/00007") == nil)
        // Both spellings arrive as two keys.
        #expect(G.value(b, "caf\u{E9}") == "composed" && G.value(b, "cafe\u{301}") == "decomposed")

        let exported = try a.ctl(["export"], timeout: 60)
        #expect(exported.status == 0, "\(exported.stderr)")
        let exportedLines = exported.stdout.split(separator: "\n").map(String.init)
        #expect(exportedLines.count == 12_000 - 1 + 2 + 1)
        let keys = try exportedLines.map { try #require(try JSONParser.parse(Array($0.utf8))["key"]?.stringValue) }
        // Both spellings of "café", byte for byte.
        #expect(keys.contains { Array($0.utf8) == Array("caf\u{E9}".utf8) })
        #expect(keys.contains { Array($0.utf8) == Array("cafe\u{301}".utf8) })
        // In key-byte order, as the store keeps them.
        #expect(keys.map { Array($0.utf8) } == keys.map { Array($0.utf8) }.sorted { $0.lexicographicallyPrecedes($1) })

        // Into a fresh node: the same export, byte for byte.
        _ = try c.start()
        let restored = try c.ctl(["import", "-"], stdin: exported.stdout, timeout: 60)
        #expect(restored.status == 0, "\(restored)")
        #expect(try c.ctl(["export"], timeout: 60).stdout == exported.stdout)
        // A prefix.
        let other = try a.ctl("export", "other/")
        #expect(other.stdout == Self.line("other/x", "") + "\n")
    }

    @Test func aBadLineStopsTheImportBeforeAnythingIsWritten() throws {
        let node = DaemonHarness()
        _ = try node.start()
        let cases: [(String, String)] = [
            (Self.line("a", "1") + "\n{\"key\":\"b\",\"vaule\":\"2\"}\n" + Self.line("c", "3"), "line 2: unexpected field \"vaule\""),
            (Self.line("a", "1") + "\n\n" + "not json\n", "line 3: not valid JSON"),
            (Self.line("a", "1") + "\n" + Self.line("", "x"), "line 2: the key is 0 bytes"),
            (Self.line("a", "1") + "\n{\"key\":\"b\",\"value\":5}", "line 2: \"value\" must be a string"),
            ("{\"key\":\"b\"}", "line 1: no \"value\""),
        ]
        for (input, message) in cases {
            let result = try node.ctl(["import", "-"], stdin: input)
            #expect(result.status == 1, "\(result)")
            #expect(result.stderr.contains(message) && result.stderr.contains("nothing was imported"), "\(result.stderr)")
        }
        #expect(G.value(node, "a") == nil && G.value(node, "c") == nil)
        let missing = try node.ctl("import", node.directory.path + "/no-such-file")
        #expect(missing.status == 1 && missing.stderr.contains("cannot open"), "\(missing)")
    }

    /// Nothing the client sends is refused by a daemon for its content any more (the client
    /// checks the same limits, and values up to 1 MiB replicate), so a stand-in control
    /// socket answers the first batch and refuses the second, as a daemon whose clock is too
    /// far ahead or whose disk is full would.
    @Test func aBatchTheDaemonRefusesIsNamedAndTheOnesBeforeItStay() throws {
        let node = DaemonHarness()
        try FileManager.default.createDirectory(atPath: node.dataDir, withIntermediateDirectories: true)
        let script = """
            import json, os, socket, sys
            path = sys.argv[1]
            server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); server.bind(path); server.listen(1)
            print("ready", flush=True)
            conn, _ = server.accept(); reader = conn.makefile("rb"); batches = 0
            for line in reader:
                request = json.loads(line)
                if request.get("command") != "write-batch":
                    conn.sendall((json.dumps({"id": request.get("id"), "ok": False, "error": {"code": "invalid_argument", "message": "unexpected"}}) + "\\n").encode()); continue
                batches += 1
                if batches == 1:
                    reply = {"id": request.get("id"), "ok": True, "result": {"written": len(request["entries"]), "deleted": 0}}
                else:
                    reply = {"id": request.get("id"), "ok": False, "error": {"code": "unavailable", "message": "this node's clock is ahead (stand-in)"}}
                conn.sendall((json.dumps(reply) + "\\n").encode())
            """
        let server = try ChildProcess("/usr/bin/python3", ["-c", script, node.dataDir + "/control.sock"], directory: node.directory.path, name: "fake-control")
        defer { server.signal(SIGKILL) }
        #expect(ChildProcess.waitUntil(timeout: 10) { server.stdout.contains("ready") })
        var lines = (0..<5_000).map { Self.line("first/\($0)", "ok") }
        lines.append(Self.line("second/big", String(repeating: "x", count: 100_000)))
        lines.append(Self.line("second/after", "never"))
        let result = try node.ctl(["import", "-"], stdin: lines.joined(separator: "\n"), timeout: 60)
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("refused the batch of lines 5001–5002") && result.stderr.contains("lines 1–5000 were imported")
                && result.stderr.contains("clock is ahead"), "\(result.stderr)")
    }
}
