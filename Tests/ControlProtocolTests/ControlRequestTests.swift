import ControlProtocol
import JSON
import Testing

@Suite struct ControlRequestTests {
    private func parse(_ text: String) throws(ControlError) -> ControlRequest {
        try ControlRequest.parse(line: Array(text.utf8))
    }

    @Test func parsesEveryCommandAndAlias() throws {
        #expect(try parse(#"{"command":"status"}"#) == ControlRequest(command: .status))
        #expect(try parse(#"{"id":3,"command":"set","key":"k","value":"v"}"#) == ControlRequest(id: 3, command: .put(key: "k", value: "v")))
        #expect(try parse(#"{"command":"put","key":"k","value":""}"#).command == .put(key: "k", value: ""))
        #expect(try parse(#"{"command":"rm","key":"k"}"#).command == .delete(key: "k"))
        #expect(try parse(#"{"command":"ls","prefix":"a/","limit":5}"#).command == .list(prefix: "a/", limit: 5))
        #expect(try parse(#"{"command":"list","prefix":null}"#).command == .list(prefix: nil, limit: nil))
        #expect(try parse(#"{"command":"watch"}"#).command == .watch(prefix: nil))
        #expect(try parse(#"{"command":"list","after":"k/9","limit":10}"#).command == .list(prefix: nil, limit: 10, after: "k/9"))
        #expect(try parse(#"{"command":"write-batch","entries":[{"key":"a","value":"1"},{"key":"b","value":null},{"key":"c"}]}"#).command
                == .writeBatch([BatchWrite(key: "a", value: "1"), BatchWrite(key: "b", value: nil), BatchWrite(key: "c", value: nil)]))
        #expect(try parse(#"{"command":"connect","multiaddr":"/ip4/127.0.0.1/tcp/1"}"#).command == .connect(multiaddr: "/ip4/127.0.0.1/tcp/1"))
        #expect(try parse(#"{"command":"disconnect","peer":"12D3"}"#).command == .disconnect(peerID: "12D3"))
    }

    @Test func encodedRequestsParseBack() throws {
        let commands: [ControlCommand] = [.status, .info, .peers, .put(key: "k\n", value: "v \"q\""), .get(key: "é"),
                                          .delete(key: "x"), .list(prefix: "p", limit: 2), .list(prefix: nil, limit: nil),
                                          .watch(prefix: "w"), .connect(multiaddr: "/ip4/1.2.3.4/tcp/5"), .disconnect(peerID: "p"),
                                          .ping(peerID: "p", count: 3), .dht, .dhtFindPeer(peerID: "12D3"),
                                          .dhtProviders(topic: nil), .dhtProviders(topic: "t"), .dhtPut(key: "k", value: "v"),
                                          .dhtGet(key: "k"), .list(prefix: "p", limit: 5, after: "p/é"),
                                          .writeBatch([BatchWrite(key: "k", value: "v"), BatchWrite(key: "gone", value: nil)]), .writeBatch([])]
        for (i, command) in commands.enumerated() {
            let request = ControlRequest(id: .int(i), command: command)
            #expect(try ControlRequest.parse(line: request.encoded()) == request)
        }
    }

    @Test func errorsHaveCodesAndKeepTheID() {
        func code(_ text: String) -> ControlError.Code? {
            do { _ = try parse(text); return nil } catch { return error.code }
        }
        #expect(code("not json") == .badRequest)
        #expect(code(#"{"command":"write-batch"}"#) == .invalidArgument)
        #expect(code(#"{"command":"write-batch","entries":[{"key":1,"value":"v"}]}"#) == .invalidArgument)
        #expect(code(#"{"command":"write-batch","entries":[{"key":"k","value":2}]}"#) == .invalidArgument)
        let tooMany = "[" + Array(repeating: #"{"key":"k","value":"v"}"#, count: BatchWrite.maxPerRequest + 1).joined(separator: ",") + "]"
        #expect(code(#"{"command":"write-batch","entries":"# + tooMany + "}") == .invalidArgument)
        #expect(code("[1,2]") == .badRequest)
        #expect(code(#"{"id":1}"#) == .badRequest)
        #expect(code(#"{"command":5}"#) == .badRequest)
        #expect(code(#"{"command":"launch"}"#) == .unknownCommand)
        #expect(code(#"{"command":"add","key":"k"}"#) == .invalidArgument)
        #expect(code(#"{"command":"get","key":7}"#) == .invalidArgument)
        #expect(code(#"{"command":"list","limit":0}"#) == .invalidArgument)
        #expect(code(#"{"command":"list","limit":"3"}"#) == .invalidArgument)
        #expect(code(#"{"command":"ping","peer":"p","count":0}"#) == .invalidArgument)
        #expect(code(#"{"command":"dht-find-peer"}"#) == .invalidArgument)
        #expect(code(#"{"command":"dht-put","key":"k"}"#) == .invalidArgument)
        do {
            _ = try parse(#"{"id":"abc","command":"get"}"#)
            Issue.record("expected an error")
        } catch {
            #expect(error.id == "abc")
            #expect(error.message == "get needs \"key\"")
        }
    }

    @Test func responsesRoundTrip() throws {
        let responses: [ControlResponse] = [
            .success(id: 1, result: ["value": "v"]),
            .failure(ControlError(.notFound, "key not found: k", id: 2)),
            .event(["key": "k", "deleted": true]),
        ]
        for response in responses {
            let line = response.encoded()
            #expect(line.last == 0x0a)
            #expect(try ControlResponse.parse(line: Array(line.dropLast())) == response)
        }
    }
}
