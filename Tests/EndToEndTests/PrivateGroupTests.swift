import ControlProtocol
import Foundation
import JSON
import Testing
import TestSupport

/// Private groups (issue 14) with real daemons: an admin creates a group and adds a writer, a
/// reader and a member it later removes; they join with the invite line. The outsider is closed
/// right after the handshake and never sees a key, the reader's writes are refused, the removed
/// member is disconnected and its later writes reach no one while its earlier ones stay; the
/// audit log records all of it and `--verify` names an edited line.
@Suite(.serialized, .timeLimit(.minutes(4)))
struct PrivateGroupTests {
    typealias G = GossipReplicationTests

    static func peerID(_ node: DaemonHarness) throws -> String {
        try #require(try G.call(node, .info)["peer_id"]?.stringValue)
    }

    static func members(_ node: DaemonHarness) -> [String: String] {
        guard let list = (try? G.call(node, .members))?["members"]?.arrayValue else { return [:] }
        var out: [String: String] = [:]
        for m in list { if let p = m["peer_id"]?.stringValue, let r = m["role"]?.stringValue { out[p] = r } }
        return out
    }

    @Test func aGroupOfFourWithAReaderARemovedMemberAndAnOutsider() throws {
        let nodes = (0..<5).map { _ in DaemonHarness() }
        try Self.scenario(nodes, start: { node in try node.start() })
    }

    /// The issue's test: on a namespace LAN with mDNS on, members find each other by mDNS, the
    /// outsider finds them too and is refused at every attempt.
    @Test func onANamespaceLANWithMDNS() throws {
        guard let lan = try MDNSLANTests.lanOrSkip(5, "onANamespaceLANWithMDNS") else { return }
        defer { lan.tearDown() }
        let nodes = (0..<5).map { i in
            let node = DaemonHarness()
            node.launcher = lan.launcher(i)
            node.mdns = true
            return node
        }
        defer { for node in nodes { node.daemon?.signal(SIGKILL) } }
        try Self.scenario(nodes, start: { node in try node.start(["--port", "4001"]) })
        // The outsider found the members by mDNS and tried; everyone refused it.
        let outsider = try Self.peerID(nodes[4])
        #expect(((try G.call(nodes[4], .status))["mdns"]?["peers_found"]?.intValue ?? 0) >= 3)
        #expect(G.value(nodes[4], "g/admin") == nil && G.value(nodes[4], "g/writer") == nil)
        #expect(try PeerConnectionTests.peers(nodes[0]).allSatisfy { $0["peer_id"]?.stringValue != outsider || $0["state"]?.stringValue != "Connected" })
    }

    /// nodes: admin, writer, reader, a member removed later, an outsider.
    static func scenario(_ nodes: [DaemonHarness], start: (DaemonHarness) throws -> Void) throws {
        let (admin, writer, reader, removed, outsider) = (nodes[0], nodes[1], nodes[2], nodes[3], nodes[4])
        try start(admin)
        let adminDaemon = try #require(admin.daemon)
        let created = try admin.ctl("group", "create")
        #expect(created.status == 0, "\(created)")
        #expect(created.stdout.contains("this node is its admin"), "\(created)")
        let invite = try admin.ctl("group", "invite")
        #expect(invite.status == 0 && invite.stdout.hasPrefix("p2p-sync-invite:"), "\(invite)")
        let line = invite.stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        for node in [writer, reader, removed, outsider] { try start(node) }
        let (w, r, x, o) = (try Self.peerID(writer), try Self.peerID(reader), try Self.peerID(removed), try Self.peerID(outsider))
        for (peer, role) in [(w, "writer"), (r, "reader"), (x, "writer")] {
            let added = try admin.ctl("members", "add", peer, "--role", role)
            #expect(added.status == 0, "\(added)")
        }
        // Only admins change the membership; a bad role is a usage error.
        #expect(try admin.ctl("members", "add", o, "--role", "owner").status == 2)
        for node in [writer, reader, removed] {
            let joined = try node.ctl("group", "join", line)
            #expect(joined.status == 0, "\(joined)")
        }
        // Every member converges on the same membership (from the signed changes, by catch-up).
        for node in [writer, reader, removed] {
            #expect(ChildProcess.waitUntil(timeout: 30) { Self.members(node).count == 4 }, "\(Self.members(node))")
        }
        #expect(Self.members(reader)[r] == "reader" && Self.members(writer)[w] == "writer")
        let notAdmin = try writer.ctl("members", "add", o, "--role", "writer")
        #expect(notAdmin.status == 1 && notAdmin.stderr.contains("only an admin"), "\(notAdmin)")

        // Writes replicate among members; the reader reads all and writes none.
        _ = try G.call(admin, .put(key: "g/admin", value: "from the admin"))
        _ = try G.call(writer, .put(key: "g/writer", value: "from the writer"))
        _ = try G.call(removed, .put(key: "g/early", value: "before removal"))
        for node in [admin, writer, reader, removed] {
            #expect(ChildProcess.waitUntil(timeout: 20) {
                G.value(node, "g/admin") == "from the admin" && G.value(node, "g/writer") == "from the writer" && G.value(node, "g/early") == "before removal"
            })
        }
        let readerWrite = try reader.ctl("add", "g/reader", "no")
        #expect(readerWrite.status == 1 && readerWrite.stderr.contains("reader"), "\(readerWrite)")
        // Keys of the membership are the node's own.
        #expect(try admin.ctl("add", ".p2p-sync/group/x", "y").status == 1)

        // The outsider is closed right after the handshake and never sees a key.
        let address = try PeerConnectionTests.loopbackAddress(adminDaemon)
        #expect(try outsider.ctl("connect", address).status != 0)
        #expect(ChildProcess.waitUntil(timeout: 10) { ((try? G.call(admin, .status))?["group"]?["refused_connections"]?.intValue ?? 0) >= 1 })
        Thread.sleep(forTimeInterval: 1)
        #expect(G.value(outsider, "g/admin") == nil)

        // The removed member is disconnected by every member; its later writes reach no one.
        let removal = try admin.ctl("members", "remove", x)
        #expect(removal.status == 0, "\(removal)")
        for node in [admin, writer, reader] {
            #expect(ChildProcess.waitUntil(timeout: 20) { Self.members(node)[x] == nil })
        }
        _ = try? removed.ctl("add", "g/late", "after removal")
        _ = try? removed.ctl("connect", address)
        Thread.sleep(forTimeInterval: 3)
        for node in [admin, writer, reader] {
            #expect(G.value(node, "g/late") == nil)
            #expect(G.value(node, "g/early") == "before removal")
        }

        // All of it is in the admin's audit log, which verifies until a line is edited.
        let audit = try admin.ctl("audit")
        #expect(audit.status == 0, "\(audit)")
        for event in ["group-created", "member-set", "member-removed", "connection-refused"] {
            #expect(audit.stdout.contains("\"event\":\"\(event)\""), "\(event): \(audit.stdout)")
        }
        #expect(try admin.ctl("audit", "--verify").status == 0)
        let writerAudit = try writer.ctl("audit")
        #expect(writerAudit.stdout.contains("member-removed"), "\(writerAudit)")
        let path = admin.dataDir + "/audit.log"
        var lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        // Backdate the second line's event by a millennium.
        lines[1] = lines[1].replacingOccurrences(of: "\"time\":\"2", with: "\"time\":\"1")
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: false, encoding: .utf8)
        let verify = try admin.ctl("audit", "--verify")
        #expect(verify.status == 1 && verify.stderr.contains("line 2"), "\(verify)")
    }

    /// A member that serves catch-up alters another author's write and invents one in its name
    /// (it edits its own store while stopped): a new member catching up from it alone refuses
    /// both, keeps the honest writes, and audits the refusals.
    @Test func aMemberServingCatchUpCannotForgeAnotherAuthorsWrites() throws {
        let founder = DaemonHarness(), forger = DaemonHarness(), newcomer = DaemonHarness()
        try founder.start()
        #expect(try founder.ctl("group", "create").status == 0)
        try forger.start()
        let forgerID = try Self.peerID(forger)
        #expect(try founder.ctl("members", "add", forgerID, "--role", "admin").status == 0)
        #expect(try forger.ctl("group", "join", try founder.ctl("group", "invite").stdout.trimmingCharacters(in: .whitespacesAndNewlines)).status == 0)
        #expect(ChildProcess.waitUntil(timeout: 20) { Self.members(forger).count == 2 })
        // The founder writes in two batches (an import, then one add); the forger relays them.
        let lines = (0..<50).map { "{\"key\":\"f/\($0)\",\"value\":\"v\($0)\"}" }.joined(separator: "\n") + "\n"
        #expect(try founder.ctl(["import", "-"], stdin: lines).status == 0)
        _ = try G.call(founder, .put(key: "f/single", value: "one"))
        _ = try G.call(forger, .put(key: "own/forger", value: "honest"))
        #expect(ChildProcess.waitUntil(timeout: 20) { G.value(forger, "f/49") == "v49" && G.value(forger, "f/single") == "one" })
        try newcomer.start()
        let newcomerID = try Self.peerID(newcomer)
        #expect(try forger.ctl("members", "add", newcomerID, "--role", "reader").status == 0)
        founder.daemon?.signal(SIGTERM)
        _ = founder.daemon?.waitForExit(timeout: 10)

        // The forger edits its replica: another value for the founder's f/7, a new write in the
        // founder's name, and the founder's f/single moved to a later version.
        forger.daemon?.signal(SIGTERM)
        #expect(forger.daemon?.waitForExit(timeout: 10) == 0)
        let edit = try ChildProcess("/usr/bin/env", ["python3", "-c", """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            origin, ms = db.execute("SELECT origin, hlc_ms FROM entries WHERE key = 'f/7'").fetchone()
            db.execute("UPDATE entries SET value = 'forged' WHERE key = 'f/7'")
            db.execute("INSERT INTO entries VALUES ('f/invented', 'made up', ?, 0, ?)", (ms + 5, origin))
            db.execute("UPDATE entries SET hlc_ms = hlc_ms + 1000 WHERE key = 'f/single'")
            db.commit()
            """, forger.dataDir + "/store.db"], directory: forger.directory.path, name: "forge")
        #expect(edit.waitForExit(timeout: 20) == 0, "\(edit.stderr)")
        try forger.start()
        // Its invite names its new port.
        let invite = try forger.ctl("group", "invite").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try newcomer.ctl("group", "join", invite).status == 0)
        #expect(ChildProcess.waitUntil(timeout: 30) { G.value(newcomer, "f/49") == "v49" && G.value(newcomer, "own/forger") == "honest" },
                "\((try? G.call(newcomer, .status)) ?? .null) \(newcomer.daemon?.stderr.suffix(3000) ?? "") FORGER \(forger.daemon?.stderr.suffix(3000) ?? "")")
        Thread.sleep(forTimeInterval: 1)
        #expect(G.value(newcomer, "f/7") == nil)
        #expect(G.value(newcomer, "f/invented") == nil)
        #expect(G.value(newcomer, "f/single") == nil)
        #expect(G.value(newcomer, "f/8") == "v8")
        let status = try G.call(newcomer, .status)
        #expect((status["group"]?["refused_writes"]?.intValue ?? 0) >= 3, "\(status["group"] ?? .null)")
        let audit = try newcomer.ctl("audit").stdout
        #expect(audit.contains("\"key\":\"f/7\"") && audit.contains("\"key\":\"f/invented\"") && audit.contains("write-refused"), "\(audit)")
    }

    @Test func aBadInviteIsRefusedWithTheReason() throws {
        let node = DaemonHarness()
        try node.start()
        let bad = try node.ctl("group", "join", "p2p-sync-invite:nothex:peer")
        #expect(bad.status == 1 && bad.stderr.contains("bad invite"), "\(bad)")
        #expect(throws: (any Error).self) { try DaemonHarness().start(["--join", "garbage"]) }
        let members = try node.ctl("members")
        #expect(members.stdout.contains("open mode"), "\(members)")
    }
}
