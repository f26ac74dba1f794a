import ControlProtocol
import Foundation
import Testing
import TestSupport

/// Bad input on the control socket gets an error or a closed connection, never a crash or a
/// stuck loop, and the daemon keeps serving everyone else.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ControlSocketAbuseTests {
    @Test func thousandMalformedRequestsLeaveTheDaemonServing() throws {
        let node = DaemonHarness()
        let daemon = try node.start()
        let bystander = try node.client()
        var rng = SeededRandom(seed: 2026)
        var errorsSeen = 0

        for round in 0..<1_000 {
            let client = try node.client()
            switch round % 5 {
            case 0:  // random bytes, newline-terminated so the daemon must parse them
                try client.sendRaw(rng.bytes(Int.random(in: 1..<200, using: &rng)).map { $0 == 0x0a ? 0x20 : $0 } + [0x0a])
                if case .failure = try client.readResponse() { errorsSeen += 1 }
            case 1:  // bad JSON
                let junk = ["{", "{\"command\":", "[1,2", "\"str\"", "{\"command\":\"add\",\"key\":}", "nul", "{}}"]
                try client.sendRaw(Array(junk[round / 5 % junk.count].utf8) + [0x0a])
                if case .failure = try client.readResponse() { errorsSeen += 1 }
            case 2:  // unknown command or wrong argument types
                let bad = [#"{"command":"launch-missiles"}"#, #"{"command":"add","key":1,"value":2}"#, #"{"command":"get"}"#,
                           #"{"command":"list","limit":-1}"#, #"{"command":"add","key":"","value":"v"}"#]
                try client.sendRaw(Array(bad[round / 5 % bad.count].utf8) + [0x0a])
                if case .failure = try client.readResponse() { errorsSeen += 1 }
            case 3:  // half a request, then hang up
                try client.sendRaw(Array(#"{"command":"add","key":"half","va"#.utf8))
            default:  // random bytes with no newline, then hang up
                try client.sendRaw(rng.bytes(Int.random(in: 1..<5_000, using: &rng)))
            }
        }
        #expect(errorsSeen == 600)

        // A 10 MiB line: refused with one error, then the same connection still works.
        let big = try node.client()
        try big.sendRaw([UInt8](repeating: UInt8(ascii: "a"), count: 10 << 20) + [0x0a])
        guard case .failure(let error) = try big.readResponse() else {
            Issue.record("a 10 MiB line was not refused"); return
        }
        #expect(error.code == .lineTooLong)
        guard case .success = try big.call(.status) else { Issue.record("status failed after the long line"); return }

        guard case .success(_, let status) = try bystander.call(.status) else {
            Issue.record("the bystander lost its session"); return
        }
        #expect(status["state"]?.stringValue == "Listening")
        #expect(daemon.isRunning)
        // Nothing half-written was stored.
        #expect(try node.ctl("get", "half").status == 1)
        #expect(try node.ctl("list").stdout == "")
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        let node = DaemonHarness()
        try node.start()
        let client = try node.client()
        var batch: [UInt8] = []
        for i in 0..<200 {
            batch += ControlRequest(id: .int(i), command: .put(key: "p\(i)", value: "\(i)")).encoded() + [0x0a]
            batch += ControlRequest(id: .int(1000 + i), command: .get(key: "p\(i)")).encoded() + [0x0a]
        }
        try client.sendRaw(batch)
        for i in 0..<200 {
            guard case .success(let id, _) = try client.readResponse() else { Issue.record("add \(i) failed"); return }
            #expect(id.intValue == Int64(i))
            guard case .success(let getID, let result) = try client.readResponse() else { Issue.record("get \(i) failed"); return }
            #expect(getID.intValue == Int64(1000 + i))
            #expect(result["value"]?.stringValue == "\(i)")
        }
    }
}
