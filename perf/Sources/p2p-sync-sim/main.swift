#if canImport(Glibc)
import Glibc
#endif
import DHTSimulation
import GossipSimulation
import NetworkSimulation

// Simulations of many nodes in one process (Tests/NetworkSimulation, Tests/GossipSimulation):
//   p2p-sync-sim gossip [--routers N] [--messages M] [--seed S] [--extra-links L] [--interval-ms I]
//                       [--latency-min-ms A] [--latency-max-ms B] [--loss-permille P] [--drain-ms D]
//       N gossipsub routers (default 1000) on WAN-like links (one-way latency drawn per link from
//       A...B ms, default 20...200; P per mille of message copies lost, default 10), M messages
//       (default 50) from random routers, one every I ms: propagation (publish to delivery at
//       every other router) p50/p99/max ms and message copies received per router per message.
//   p2p-sync-sim dht [--nodes N] [--lookups L] [--gone-percent G] [--seed S] [--bootstrap B]
//                    [--refresh-on-join 0|1] [--refresh-rounds R] [--latency-min-ms A] [--latency-max-ms B] [--alpha A] [--max-queries Q] [--lookup-timeout-s T] [--heal-rounds H]
//       N Kademlia DHT servers (default 10000) join on WAN-like links (one-way latency per pair
//       from A...B ms, default 10...100), then G % (default 20) go silent, then L lookups
//       (default 1000) of random keys from live nodes: recall of the true 20 closest live
//       nodes (mean, min), hops median/max, queries per lookup median/p99, latency median/p99.
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

func dht(_ o: [String: UInt64]) {
    var c = DHTLookupSimulation.Configuration()
    let known = ["nodes", "lookups", "gone-percent", "seed", "bootstrap", "refresh-rounds", "refresh-on-join", "latency-min-ms", "latency-max-ms",
                 "alpha", "max-queries", "lookup-timeout-s", "heal-rounds"]
    if let unknown = o.keys.first(where: { !known.contains($0) }) { fail("unknown option --\(unknown)") }
    c.nodes = Int(o["nodes"] ?? 10000)
    c.lookups = Int(o["lookups"] ?? 1000)
    c.gonePercent = Int(o["gone-percent"] ?? 20)
    c.seed = o["seed"] ?? 1
    c.bootstrapPeers = Int(o["bootstrap"] ?? UInt64(c.bootstrapPeers))
    c.refreshRounds = Int(o["refresh-rounds"] ?? UInt64(c.refreshRounds))
    c.refreshOnJoin = (o["refresh-on-join"] ?? 1) != 0
    c.healRounds = Int(o["heal-rounds"] ?? 0)
    c.parameters.alpha = Int(o["alpha"] ?? UInt64(c.parameters.alpha))
    c.parameters.maxQueries = Int(o["max-queries"] ?? UInt64(c.parameters.maxQueries))
    c.parameters.timeout = (o["lookup-timeout-s"] ?? c.parameters.timeout / 1_000_000_000) * 1_000_000_000
    let lo = o["latency-min-ms"] ?? 10, hi = o["latency-max-ms"] ?? 100
    guard lo >= 1, lo <= hi, c.nodes >= 2, c.gonePercent < 100, c.parameters.alpha >= 1 else {
        fail("need 1 <= --latency-min-ms <= --latency-max-ms, at least 2 nodes, --gone-percent below 100, --alpha at least 1")
    }
    c.latencyMillis = lo...hi
    let started = monotonicSeconds()
    var sim = DHTLookupSimulation(c)
    let r = sim.run()
    let finished = monotonicSeconds()
    let rounds = Percentiles(r.rounds), queries = Percentiles(r.queries), latency = Percentiles(r.latencyMillis)
    let timeouts = Percentiles(r.timeouts)
    // One field a line: a single concatenation this long defeats the type checker.
    var fields: [String] = []
    fields.append("\"bench\": \"dht-sim\"")
    fields.append("\"nodes\": \(c.nodes)")
    fields.append("\"lookups\": \(c.lookups)")
    fields.append("\"gone_percent\": \(c.gonePercent)")
    fields.append("\"seed\": \(c.seed)")
    fields.append("\"latency_ms\": [\(lo), \(hi)]")
    fields.append("\"k\": \(c.parameters.k)")
    fields.append("\"alpha\": \(c.parameters.alpha)")
    fields.append("\"max_queries\": \(c.parameters.maxQueries)")
    fields.append("\"bootstrap_peers\": \(c.bootstrapPeers)")
    fields.append("\"refresh_on_join\": \(c.refreshOnJoin)")
    fields.append("\"refresh_rounds\": \(c.refreshRounds)")
    fields.append("\"heal_rounds\": \(c.healRounds)")
    fields.append("\"recall_mean\": \(number(r.meanRecall))")
    fields.append("\"recall_min\": \(number(r.minRecall))")
    fields.append("\"rounds_p50\": \(number(rounds?.p50 ?? .nan))")
    fields.append("\"rounds_max\": \(number(rounds?.max ?? .nan))")
    fields.append("\"queries_p50\": \(number(queries?.p50 ?? .nan))")
    fields.append("\"queries_p99\": \(number(queries?.p99 ?? .nan))")
    fields.append("\"timeouts_p50\": \(number(timeouts?.p50 ?? .nan))")
    fields.append("\"latency_p50_ms\": \(number(latency?.p50 ?? .nan))")
    fields.append("\"latency_p99_ms\": \(number(latency?.p99 ?? .nan))")
    fields.append("\"table_size_mean\": \(number(r.averageTableSize))")
    fields.append("\"gone_share_in_tables\": \(number(r.goneInTables))")
    fields.append("\"maintenance_lookups\": \(r.maintenanceLookups)")
    fields.append("\"maintenance_queries\": \(r.maintenanceQueries)")
    fields.append("\"messages\": \(r.messages)")
    fields.append("\"simulated_s\": \(Double(r.simulatedMillis) / 1000)")
    fields.append("\"wall_s\": \(finished - started)")
    print("{" + fields.joined(separator: ", ") + "}")
    printError("dht-sim: \(c.nodes) nodes, \(c.gonePercent) % gone, \(c.lookups) lookups, seed \(c.seed): recall mean \(r.meanRecall) "
               + "min \(r.minRecall); rounds p50 \(rounds?.p50 ?? .nan) max \(rounds?.max ?? .nan); queries p50 \(queries?.p50 ?? .nan) "
               + "p99 \(queries?.p99 ?? .nan); latency p50 \(latency?.p50 ?? .nan) ms p99 \(latency?.p99 ?? .nan) ms; "
               + "\(finished - started) s wall\n")
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "gossip": gossip(options(arguments[1...]))
case "dht": dht(options(arguments[1...]))
default:
    fail("usage: p2p-sync-sim gossip [--routers N] [--messages M] [--seed S] [--extra-links L] [--interval-ms I] "
         + "[--latency-min-ms A] [--latency-max-ms B] [--loss-permille P] [--drain-ms D]\n"
         + "       p2p-sync-sim dht [--nodes N] [--lookups L] [--gone-percent G] [--seed S] [--bootstrap B] [--refresh-on-join 0|1] [--refresh-rounds R] "
         + "[--latency-min-ms A] [--latency-max-ms B] [--alpha A] [--max-queries Q] [--lookup-timeout-s T] [--heal-rounds H]")
}
