#if canImport(Glibc)
import Glibc
#endif
import ControlProtocol
import JSON
import Wire

// Replication benchmarks over a network of running daemons (perf/run starts and wires them):
//   p2p-sync-bench gossip --sockets S1,S2,... [--writes N] [--interval-ms M] [--seed X]
//       propagation latency: N writes, one every M ms, each from a random node with a unique
//       key; per (write, other node) the time from the `add` ack at the benchmark to the
//       `watch` event (source "remote") on that node's control socket.
//   p2p-sync-bench replicate --sockets S1,S2,... [--writes N] [--pipeline K] [--rss-pids P1,P2,...]
//       replicated write throughput: N writes on the first node, K in flight (1: each waits for
//       its ack), from the first write sent to the last node's `watch` event of the last write.
// Both first open one connection per node that `watch`es a fresh key prefix (and carries the
// `add`s and `status` requests too), and wait until every node's gossipsub mesh is non-empty.
// One thread reads all connections with poll(2); times are CLOCK_MONOTONIC, taken when a
// line's bytes are received.

/// A raw control-socket connection read through poll(2): bytes out, complete lines in.
final class LineConnection {
    let fd: Int32
    let path: String
    private var pending: [UInt8] = []

    init(path: String) {
        self.path = path
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { fail("socket() failed") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { fail("socket path too long: \(path)") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else { fail("cannot connect to \(path): \(String(cString: strerror(errno)))") }
        self.fd = fd
    }

    deinit { close(fd) }

    func send(_ request: ControlRequest) {
        var bytes = request.encoded()
        bytes.append(0x0a)
        sendRaw(bytes)
    }

    func sendRaw(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                fail("writing to \(path): \(String(cString: strerror(errno)))")
            }
            offset += n
        }
    }

    /// One recv (call when poll says readable, or to block for more); the complete lines it finished.
    func receive() -> [[UInt8]] {
        var buffer = [UInt8](repeating: 0, count: 256 * 1024)
        var n: Int
        repeat { n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) } } while n < 0 && errno == EINTR
        if n < 0 { fail("reading from \(path): \(String(cString: strerror(errno)))") }
        if n == 0 { fail("\(path): the daemon closed the connection") }
        pending += buffer[0..<n]
        var lines: [[UInt8]] = []
        var start = 0
        while let newline = pending[start...].firstIndex(of: 0x0a) {
            if newline > start { lines.append(Array(pending[start..<newline])) }
            start = newline + 1
        }
        pending.removeFirst(start)
        return lines
    }

    /// Blocks until the response to a request arrives (skipping watch events) and returns it.
    func response() -> ControlResponse {
        while true {
            for line in receive() {
                guard let parsed = try? ControlResponse.parse(line: line) else { fail("\(path): unparsable line") }
                if case .event = parsed { continue }
                return parsed
            }
        }
    }
}

/// Waits up to `timeout` seconds for input on any connection; returns the lines received, timed.
func pollLines(_ connections: [LineConnection], timeout: Double) -> [(connection: Int, time: Double, response: ControlResponse)] {
    var fds = connections.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
    let ms = Int32(max(0, min(timeout, 60)) * 1000)
    let ready = poll(&fds, nfds_t(fds.count), ms)
    if ready < 0 {
        if errno == EINTR { return [] }
        fail("poll: \(String(cString: strerror(errno)))")
    }
    var raw: [(Int, Double, [[UInt8]])] = []
    for (i, p) in fds.enumerated() where p.revents != 0 {
        let lines = connections[i].receive()
        raw.append((i, monotonicSeconds(), lines))
    }
    var out: [(connection: Int, time: Double, response: ControlResponse)] = []
    for (i, time, lines) in raw {
        for line in lines {
            guard let parsed = try? ControlResponse.parse(line: line) else { fail("\(connections[i].path): unparsable line") }
            out.append((i, time, parsed))
        }
    }
    return out
}


/// Connects to every node, watches a fresh prefix on each, and waits for every gossipsub mesh.
func openNetwork(_ sockets: [String]) -> (connections: [LineConnection], prefix: String, meshSeconds: Double) {
    let prefix = "gbench/\(UInt64.random(in: 0...UInt64.max) % 1_000_000_000)/"
    let start = monotonicSeconds()
    let connections = sockets.map { LineConnection(path: $0) }
    for c in connections { c.send(ControlRequest(id: "watch", command: .watch(prefix: prefix))) }
    for c in connections {
        guard case .success = c.response() else { fail("\(c.path): watch refused") }
    }
    var waiting = Set(connections.indices)
    while !waiting.isEmpty {
        if monotonicSeconds() - start > 120 {
            fail("gossipsub meshes still empty after 120 s on \(waiting.count) of \(sockets.count) nodes: \(waiting.sorted().map { sockets[$0] })")
        }
        for i in waiting { connections[i].send(ControlRequest(id: "status", command: .status)) }
        for i in waiting.sorted() {
            guard case .success(_, let result) = connections[i].response() else { fail("\(sockets[i]): status failed") }
            if let mesh = result["gossip"]?["mesh_peers"]?.arrayValue, !mesh.isEmpty { waiting.remove(i) }
        }
        if !waiting.isEmpty { usleep(50_000) }
    }
    return (connections, prefix, monotonicSeconds() - start)
}

func index(of event: JSON, prefix: String) -> Int? {
    guard let key = event["key"]?.stringValue, key.hasPrefix(prefix) else { return nil }
    return Int(key.dropFirst(prefix.count))
}

func sockets(from arguments: ArraySlice<String>, _ name: String) -> (values: [String], rest: ArraySlice<String>) {
    var rest = arguments
    guard let i = rest.firstIndex(of: "--\(name)"), i + 1 < rest.endIndex else { return ([], rest) }
    let values = rest[i + 1].split(separator: ",").map(String.init)
    rest.removeSubrange(i...(i + 1))
    return (values, rest)
}

func gossipBench(sockets: [String], _ o: [String: Int]) {
    let writes = o["writes"] ?? 50, interval = Double(o["interval-ms"] ?? 50) / 1000
    var rng = SplitMix64(seed: UInt64(o["seed"] ?? Int.random(in: 1...Int.max)))  // a seed reproduces the choice of origins
    let n = sockets.count
    guard n >= 2 else { fail("gossip needs at least 2 sockets") }
    let (connections, prefix, meshSeconds) = openNetwork(sockets)
    let value = String(repeating: "v", count: 16)
    var origin = [Int](repeating: -1, count: writes)
    var sentAt = [Double](repeating: 0, count: writes), ackAt = [Double](repeating: .nan, count: writes)
    var arrival = [[Double]](repeating: [Double](repeating: .nan, count: n), count: writes)
    var remoteEvents = 0, duplicates = 0, localEvents = 0
    let start = monotonicSeconds()
    var next = 0
    var deadline = Double.infinity
    var delivered = 0
    let expected = writes * (n - 1)
    while delivered < expected || ackAt.contains(where: { $0.isNaN }) {
        let now = monotonicSeconds()
        if next < writes && now >= start + Double(next) * interval {
            let o = Int.random(in: 0..<n, using: &rng)
            origin[next] = o
            sentAt[next] = monotonicSeconds()
            connections[o].send(ControlRequest(id: .int(next), command: .put(key: "\(prefix)\(next)", value: value)))
            next += 1
            if next == writes { deadline = monotonicSeconds() + 30 }
            continue
        }
        if now > deadline { break }
        let wake = next < writes ? start + Double(next) * interval : deadline
        for (c, time, response) in pollLines(connections, timeout: wake - now) {
            switch response {
            case .success(let id, _):
                guard let w = id.intValue.map(Int.init), w >= 0, w < writes, c == origin[w] else { continue }
                ackAt[w] = time
            case .failure(let error):
                fail("\(sockets[c]): add failed: \(error.message)")
            case .event(let event):
                guard let w = index(of: event, prefix: prefix), w < writes else { continue }
                if event["source"]?.stringValue != "remote" { localEvents += 1; continue }
                remoteEvents += 1
                if arrival[w][c].isNaN { arrival[w][c] = time; delivered += 1 } else { duplicates += 1 }
            }
        }
    }
    var fromAck: [Double] = [], fromSend: [Double] = [], lastNode: [Double] = [], ackMs: [Double] = []
    var missing = 0, early = 0
    for w in 0..<writes {
        ackMs.append((ackAt[w] - sentAt[w]) * 1000)
        var last = -Double.infinity
        for c in 0..<n where c != origin[w] {
            if arrival[w][c].isNaN { missing += 1; continue }
            let ms = (arrival[w][c] - ackAt[w]) * 1000
            if ms < 0 { early += 1 }
            fromAck.append(ms)
            fromSend.append((arrival[w][c] - sentAt[w]) * 1000)
            last = max(last, ms)
        }
        if last > -Double.infinity { lastNode.append(last) }
    }
    emit(["bench": "gossip", "nodes": .int(n), "writes": .int(writes), "interval_ms": .double(interval * 1000),
          "mesh_wait_s": .double(meshSeconds), "expected_deliveries": .int(expected), "delivered": .int(delivered),
          "missing": .int(missing), "duplicate_events": .int(duplicates), "remote_events": .int(remoteEvents),
          "arrived_before_ack": .int(early),
          "latency_ms": .array(fromAck.map { .double($0) }), "latency_from_send_ms": .array(fromSend.map { .double($0) }),
          "last_node_ms": .array(lastNode.map { .double($0) }), "ack_ms": .array(ackMs.map { .double($0) })])
}

func vmRSSKiB(_ pid: Int) -> Int? {
    guard let file = fopen("/proc/\(pid)/status", "r") else { return nil }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 512)
    while fgets(&line, Int32(line.count), file) != nil {
        let text = String(decoding: line.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if text.hasPrefix("VmRSS:") { return Int(text.dropFirst(6).split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).first ?? "") }
    }
    return nil
}

func replicateBench(sockets: [String], rssPIDs: [Int], _ o: [String: Int]) {
    let writes = o["writes"] ?? 2000, pipeline = o["pipeline"] ?? 1
    let n = sockets.count
    let (connections, prefix, meshSeconds) = openNetwork(sockets)
    let value = String(repeating: "v", count: 16)
    var seen = [Int](repeating: 0, count: writes), duplicates = 0
    var got = [[Bool]](repeating: [Bool](repeating: false, count: n), count: writes)
    var ackAt = [Double](repeating: .nan, count: writes), lastAt = [Double](repeating: .nan, count: writes)
    var maxRSS = [Int](repeating: 0, count: rssPIDs.count)
    func sampleRSS() {
        for (i, pid) in rssPIDs.enumerated() { maxRSS[i] = max(maxRSS[i], vmRSSKiB(pid) ?? 0) }
    }
    sampleRSS()
    let start = monotonicSeconds()
    var sent = 0, acked = 0, delivered = 0, lastEvent = start, lastAck = start, lastSample = start
    let expected = writes * n
    var lastProgress = start
    while delivered < expected || acked < writes {
        if sent < writes && sent - acked < pipeline {
            var batch: [UInt8] = []
            while sent < writes && sent - acked < pipeline {
                batch += ControlRequest(id: .int(sent), command: .put(key: "\(prefix)\(sent)", value: value)).encoded()
                batch.append(0x0a)
                sent += 1
            }
            connections[0].sendRaw(batch)
        }
        let now = monotonicSeconds()
        if now - lastSample > 0.2 { sampleRSS(); lastSample = now }
        if now - lastProgress > 30 { break }
        for (c, time, response) in pollLines(connections, timeout: 0.2) {
            lastProgress = time
            switch response {
            case .success(let id, _):
                guard c == 0, let w = id.intValue.map(Int.init), w >= 0, w < writes else { continue }
                ackAt[w] = time
                acked += 1
                lastAck = time
            case .failure(let error):
                fail("\(sockets[c]): add failed: \(error.message)")
            case .event(let event):
                guard let w = index(of: event, prefix: prefix), w < writes else { continue }
                if got[w][c] { duplicates += 1; continue }
                got[w][c] = true
                seen[w] += 1
                delivered += 1
                lastEvent = time
                if seen[w] == n { lastAt[w] = time }
            }
        }
    }
    sampleRSS()
    let seconds = lastEvent - start
    var lag: [Double] = []
    for w in 0..<writes where !lastAt[w].isNaN && !ackAt[w].isNaN { lag.append((lastAt[w] - ackAt[w]) * 1000) }
    let complete = seen.filter { $0 >= n }.count
    emit(["bench": "replicate", "nodes": .int(n), "writes": .int(writes), "pipeline": .int(pipeline),
          "mesh_wait_s": .double(meshSeconds), "seconds": .double(seconds),
          "writes_per_sec_on_all": .double(Double(complete) / seconds),
          "acks_per_sec": .double(Double(acked) / (lastAck - start)),
          "expected_deliveries": .int(expected), "delivered": .int(delivered), "missing": .int(expected - delivered),
          "duplicate_events": .int(duplicates), "writes_complete_on_all": .int(complete),
          "ack_to_last_node_ms": .array(lag.map { .double($0) }),
          "max_rss_kib": .array(maxRSS.map { .int($0) })])
}
