#if canImport(Glibc)
import Glibc
#endif
import ControlProtocol

// Control-socket round trips against a running p2p-syncd:
//   p2p-sync-bench control SOCKET [--count N] [--pipeline K] [--runs R]
// Prints one JSON line per run: {"bench":"control","mode":...,"ops":N,"seconds":S,"ops_per_sec":X}
// "sequential" waits for each ack before the next add (one commit per write); "pipelined"
// keeps K adds in flight (writes of one loop turn share a commit).

func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func fail(_ message: String) -> Never {
    Console.error("p2p-sync-bench: \(message)\n")
    exit(1)
}

var arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 2, arguments[0] == "control" else {
    fail("usage: p2p-sync-bench control SOCKET [--count N] [--pipeline K] [--runs R] [--value-bytes B]")
}
let socketPath = arguments[1]
var count = 2000, pipeline = 1, runs = 5, valueBytes = 16
var i = 2
while i < arguments.count {
    guard i + 1 < arguments.count, let n = Int(arguments[i + 1]), n > 0 else { fail("bad option \(arguments[i])") }
    switch arguments[i] {
    case "--count": count = n
    case "--pipeline": pipeline = n
    case "--runs": runs = n
    case "--value-bytes": valueBytes = n
    default: fail("unknown option \(arguments[i])")
    }
    i += 2
}

let value = String(repeating: "v", count: valueBytes)
for run in 0..<runs {
    let client: ControlClient
    do { client = try ControlClient(path: socketPath) } catch { fail("\(error)") }
    let start = monotonicSeconds()
    var sent = 0, acked = 0
    do {
        while acked < count {
            var batch: [UInt8] = []
            while sent < count && sent - acked < pipeline {
                batch += ControlRequest(id: .int(sent), command: .put(key: "bench/\(run)/\(sent)", value: value)).encoded()
                batch.append(0x0a)
                sent += 1
            }
            if !batch.isEmpty { try client.sendRaw(batch) }
            guard case .success = try client.readResponse() else { fail("add failed") }
            acked += 1
        }
    } catch {
        fail("\(error)")
    }
    let seconds = monotonicSeconds() - start
    let mode = pipeline == 1 ? "sequential" : "pipelined-\(pipeline)"
    print("{\"bench\":\"control\",\"mode\":\"\(mode)\",\"run\":\(run),\"ops\":\(count),\"seconds\":\(seconds),\"ops_per_sec\":\(Double(count) / seconds)}")
    Console.flush()
}
