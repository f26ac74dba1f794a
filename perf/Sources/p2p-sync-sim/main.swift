#if canImport(Glibc)
import Glibc
#endif
import GossipSimulation
import NetworkSimulation

// Simulations of many nodes in one process (Tests/NetworkSimulation, Tests/GossipSimulation):
//   p2p-sync-sim gossip [--routers N] [--messages M] [--seed S] [--extra-links L] [--interval-ms I]
//                       [--latency-min-ms A] [--latency-max-ms B] [--loss-permille P] [--drain-ms D]
//       N gossipsub routers (default 1000) on WAN-like links (one-way latency drawn per link from
//       A...B ms, default 20...200; P per mille of message copies lost, default 10), M messages
//       (default 50) from random routers, one every I ms: propagation (publish to delivery at
//       every other router) p50/p99/max ms and message copies received per router per message.
// Prints one JSON line; a summary for people on stderr.

/// Writes to stderr with write(2): Swift 6 refuses the C `stderr` global.
func printError(_ text: String) {
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
}

func fail(_ message: String) -> Never {
    printError("p2p-sync-sim: \(message)\n")
    exit(2)
}

func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func options(_ arguments: ArraySlice<String>) -> [String: UInt64] {
    var result: [String: UInt64] = [:]
    var i = arguments.startIndex
    while i < arguments.endIndex {
        guard arguments[i].hasPrefix("--"), i + 1 < arguments.endIndex, let n = UInt64(arguments[i + 1]) else {
            fail("bad option \(arguments[i]) (options take a whole number)")
        }
        result[String(arguments[i].dropFirst(2))] = n
        i += 2
    }
    return result
}

func number(_ x: Double) -> String { x.isFinite ? String(x) : "null" }

func gossip(_ o: [String: UInt64]) {
    var c = GossipPropagationSimulation.Configuration()
    let known = ["routers", "messages", "seed", "extra-links", "interval-ms", "latency-min-ms", "latency-max-ms", "loss-permille", "drain-ms"]
    if let unknown = o.keys.first(where: { !known.contains($0) }) { fail("unknown option --\(unknown)") }
    c.routers = Int(o["routers"] ?? 1000)
    c.messages = Int(o["messages"] ?? 50)
    c.seed = o["seed"] ?? 1
    c.extraLinksPerRouter = Int(o["extra-links"] ?? UInt64(c.extraLinksPerRouter))
    c.publishIntervalMillis = o["interval-ms"] ?? c.publishIntervalMillis
    c.drainMillis = o["drain-ms"] ?? c.drainMillis
    let lo = o["latency-min-ms"] ?? 20, hi = o["latency-max-ms"] ?? 200
    guard lo <= hi, c.routers >= 2 else { fail("need --latency-min-ms <= --latency-max-ms and at least 2 routers") }
    c.latencyMillis = lo...hi
    c.loss = Double(o["loss-permille"] ?? 10) / 1000
    let started = monotonicSeconds()
    var sim = GossipPropagationSimulation(c)
    let built = monotonicSeconds()
    let r = sim.run()
    let finished = monotonicSeconds()
    let p = r.percentiles
    print("{\"bench\": \"gossip-sim\", \"routers\": \(c.routers), \"messages\": \(c.messages), \"seed\": \(c.seed), "
          + "\"latency_ms\": [\(lo), \(hi)], \"loss\": \(c.loss), \"interval_ms\": \(c.publishIntervalMillis), "
          + "\"average_degree\": \(r.averageDegree), \"average_mesh\": \(r.averageMeshSize), "
          + "\"expected_deliveries\": \(r.expectedDeliveries), \"delivered\": \(r.delivered), \"missing\": \(r.missing), "
          + "\"p50_ms\": \(number(p?.p50 ?? .nan)), \"p90_ms\": \(number(p?.p90 ?? .nan)), \"p99_ms\": \(number(p?.p99 ?? .nan)), "
          + "\"max_ms\": \(number(p?.max ?? .nan)), \"mean_ms\": \(number(p?.mean ?? .nan)), "
          + "\"copies_per_message\": \(r.copiesPerMessage), \"copies_received\": \(r.copiesReceived), \"duplicates\": \(r.duplicates), "
          + "\"copies_lost\": \(r.copiesLost), \"iwant_repaired\": \(r.messagesRepairedByIWANT), \"rpcs\": \(r.rpcsSent), "
          + "\"simulated_s\": \(Double(r.simulatedMillis) / 1000), \"setup_s\": \(built - started), \"run_s\": \(finished - built)}")
    printError("gossip-sim: \(c.routers) routers (degree \(r.averageDegree), mesh \(r.averageMeshSize)), \(c.messages) messages, seed \(c.seed): "
          + "p50 \(p?.p50 ?? .nan) ms, p99 \(p?.p99 ?? .nan) ms, max \(p?.max ?? .nan) ms, \(r.missing) missing; "
          + "\(r.copiesPerMessage) copies per router per message; \(built - started) s set-up, \(finished - built) s run\n")
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "gossip": gossip(options(arguments[1...]))
default:
    fail("usage: p2p-sync-sim gossip [--routers N] [--messages M] [--seed S] [--extra-links L] [--interval-ms I] "
         + "[--latency-min-ms A] [--latency-max-ms B] [--loss-permille P] [--drain-ms D]")
}
