#if canImport(Glibc)
import Glibc
#endif
import ControlProtocol
import Foundation
import JSON
import P2PCrypto

// Benchmarks against running p2p-syncd processes (perf/run starts them):
//   p2p-sync-bench control SOCKET [--count N] [--pipeline K] [--runs R] [--value-bytes B] [--stride S] [--first-run F]
//                               [--first-key K] [--value-tag T]
//       `add` round trips; sequential (1 in flight: one commit per write) or pipelined. Key i of run r
//       is bench/<r>/<K + i * S>; --value-tag T makes values "t<T>-vvv..." (overwrites that change the value).
//   p2p-sync-bench connect SOCKET MULTIADDR [--count N]
//       connection set-up: `connect` (TCP, multistream, Noise, yamux, identify) then `disconnect`.
//   p2p-sync-bench tcp [--bytes N] [--sealed 1]
//       the machine's raw loopback TCP throughput, one stream, for comparison.
//   p2p-sync-bench crypto [--milliseconds N]
//       the crypto floors on one core: ChaCha20-Poly1305 (64 KiB messages, as Noise frames),
//       X25519 and Ed25519 operations per second.
//   p2p-sync-bench gossip --sockets S1,S2,... [--writes N] [--interval-ms M] [--seed X]
//   p2p-sync-bench replicate --sockets S1,S2,... [--writes N] [--pipeline K] [--rss-pids P1,...]
//       replication over a network of daemons: propagation latency and throughput (Gossip.swift).
//   p2p-sync-bench bytepath [--megabytes N] [--chunk-kib K] [--chacha-milliseconds M]
//       one Noise+yamux stream in memory, both directions, beside ChaCha20-Poly1305 (BytePath.swift).
//   p2p-sync-bench udp [--datagrams N] [--bytes B] [--window W]
//       loopback datagrams per second through the Reactor's UDPSocket, without and with GSO (UDP.swift).
//   p2p-sync-bench index [--keys N] [--seed X]
//       the reconcile index at N keys: build, memory per key, a write then a digest, a range's
//       fingerprint (ReplicaIndexBench.swift).
// Each prints one JSON line per measurement.

func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func fail(_ message: String) -> Never {
    Console.error("p2p-sync-bench: \(message)\n")
    exit(1)
}

func options(_ arguments: ArraySlice<String>) -> [String: Int] {
    var result: [String: Int] = [:]
    var i = arguments.startIndex
    while i < arguments.endIndex {
        guard arguments[i].hasPrefix("--"), i + 1 < arguments.endIndex, let n = Int(arguments[i + 1]), n > 0 else {
            fail("bad option \(arguments[i])")
        }
        result[String(arguments[i].dropFirst(2))] = n
        i += 2
    }
    return result
}

func emit(_ json: JSON) {
    print(json.encodedString)
    Console.flush()
}

func controlBench(socket: String, _ o: [String: Int]) {
    let count = o["count"] ?? 2000, pipeline = o["pipeline"] ?? 1, runs = o["runs"] ?? 5
    let valueBytes = o["value-bytes"] ?? 16
    let tag = o["value-tag"].map { "t\($0)-" } ?? ""
    let value = tag + String(repeating: "v", count: max(0, valueBytes - tag.utf8.count))
    // Key i is bench/<run>/<firstKey + i * stride>: a stride spreads a few writes over a large key
    // space; --first-key continues a fill made by an earlier call.
    let stride = o["stride"] ?? 1, firstRun = o["first-run"] ?? 0, firstKey = o["first-key"] ?? 0
    for run in firstRun..<(firstRun + runs) {
        let client: ControlClient
        do { client = try ControlClient(path: socket) } catch { fail("\(error)") }
        let start = monotonicSeconds()
        var sent = 0, acked = 0
        do {
            while acked < count {
                var batch: [UInt8] = []
                while sent < count && sent - acked < pipeline {
                    batch += ControlRequest(id: .int(sent), command: .put(key: "bench/\(run)/\(firstKey + sent * stride)", value: value)).encoded()
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
        emit(["bench": "control", "mode": .string(pipeline == 1 ? "sequential" : "pipelined-\(pipeline)"), "run": .int(run),
              "ops": .int(count), "seconds": .double(seconds), "ops_per_sec": .double(Double(count) / seconds)])
    }
}

func connectBench(socket: String, address: String, _ o: [String: Int]) {
    let count = o["count"] ?? 200
    let client: ControlClient
    do { client = try ControlClient(path: socket) } catch { fail("\(error)") }
    for i in 0..<count {
        let start = monotonicSeconds()
        do {
            guard case .success(_, let result) = try client.call(.connect(multiaddr: address)) else { fail("connect failed") }
            let seconds = monotonicSeconds() - start
            emit(["bench": "connect", "run": .int(i), "ms": .double(seconds * 1000)])
            guard let peer = result["peer_id"]?.stringValue, case .success = try client.call(.disconnect(peerID: peer)) else {
                fail("disconnect failed")
            }
        } catch {
            fail("\(error)")
        }
    }
}

func tcpBench(_ o: [String: Int]) {
    let total = o["bytes"] ?? (1 << 30)
    let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            _ = bind(listener, $0, length)
            _ = getsockname(listener, $0, &length)
        }
    }
    listen(listener, 1)
    let port = address.sin_port
    // --sealed 1: the ceiling of an encrypted stream on this machine. Each side does only what
    // a Noise transport cannot avoid: the sender seals 65,519-byte plaintexts with
    // ChaCha20-Poly1305 into one reused buffer (length prefix, ciphertext, tag) and sends it; the
    // receiver reads whole frames and opens them in place. No multiplexer, no copies, no loop.
    let sealed = (o["sealed"] ?? 0) != 0
    let key = SecretBytes(count: 32) { $0.update(repeating: 7, count: 32) }
    let frameBytes = 2 + 65_519 + 16
    let reader = Thread {
        let fd = accept(listener, nil, nil)
        var buffer = [UInt8](repeating: 0, count: sealed ? frameBytes : 1 << 16)
        var nonce: UInt64 = 0
        while buffer.withUnsafeMutableBytes({ raw -> Bool in
            guard sealed else { return recv(fd, raw.baseAddress, raw.count, 0) > 0 }
            guard recv(fd, raw.baseAddress, 2, Int32(MSG_WAITALL)) == 2 else { return false }
            let length = Int(raw[0]) << 8 | Int(raw[1])
            guard recv(fd, raw.baseAddress! + 2, length, Int32(MSG_WAITALL)) == length else { return false }
            do { try ChaChaPolyIETF.openInPlace(key: key, nonce: nonce, buffer: UnsafeMutableRawBufferPointer(rebasing: raw[2..<(2 + length)])) } catch {
                fail("a sealed frame did not open")
            }
            nonce += 1
            return true
        }) {}
        close(fd)
    }
    reader.start()
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var target = sockaddr_in()
    target.sin_family = sa_family_t(AF_INET)
    target.sin_port = port
    target.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &target) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    let chunk = [UInt8](repeating: 0, count: 1 << 16)
    var frame = [UInt8](repeating: 0, count: frameBytes)
    var nonce: UInt64 = 0
    let start = monotonicSeconds()
    var sent = 0
    while sent < total {
        if sealed {
            // One frame: 65,519 plaintext bytes (the last may be shorter), counted as sent.
            let count = min(65_519, total - sent)
            frame.withUnsafeMutableBytes { out in
                out[0] = UInt8((count + 16) >> 8)
                out[1] = UInt8((count + 16) & 0xff)
                chunk.withUnsafeBytes { plain in
                    _ = ChaChaPolyIETF.seal(key: key, nonce: nonce, plaintext: UnsafeRawBufferPointer(rebasing: plain[..<count]),
                                            into: UnsafeMutableRawBufferPointer(rebasing: out[2...]))
                }
                var offset = 0
                while offset < 2 + count + 16 {
                    let n = send(fd, out.baseAddress! + offset, 2 + count + 16 - offset, 0)
                    guard n > 0 else { fail("send failed") }
                    offset += n
                }
            }
            nonce += 1
            sent += count
            continue
        }
        let n = chunk.withUnsafeBytes { send(fd, $0.baseAddress, min($0.count, total - sent), 0) }
        guard n > 0 else { fail("send failed") }
        sent += n
    }
    shutdown(fd, Int32(SHUT_WR))
    // The reader sees EOF once everything is through; close waits for nothing more.
    var drain = [UInt8](repeating: 0, count: 16)
    _ = drain.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
    let seconds = monotonicSeconds() - start
    close(fd)
    emit(["bench": sealed ? "tcp-sealed" : "tcp", "bytes": .int(total), "seconds": .double(seconds), "mb_per_s": .double(Double(total) / seconds / 1e6)])
}

/// Runs `body` repeatedly for about `milliseconds`; returns operations per second.
func rate(milliseconds: Int, _ body: () -> Void) -> Double {
    let start = monotonicSeconds()
    var count = 0
    while monotonicSeconds() - start < Double(milliseconds) / 1000 {
        for _ in 0..<16 { body() }
        count += 16
    }
    return Double(count) / (monotonicSeconds() - start)
}

func cryptoBench(_ o: [String: Int]) {
    let ms = o["milliseconds"] ?? 1000
    let key = SecureRandom.bytes(32)
    let message = [UInt8](repeating: 7, count: 65519)
    var nonce: UInt64 = 0
    let seals = rate(milliseconds: ms) {
        _ = ChaChaPolyIETF.seal(key: key, nonce: nonce, associatedData: [], plaintext: message)
        nonce += 1
    }
    let a = X25519KeyPair.generate(), b = X25519KeyPair.generate()
    let dh = rate(milliseconds: ms) { _ = try? a.sharedSecret(with: b.publicKey) }
    let keygen = rate(milliseconds: ms) { _ = X25519KeyPair.generate() }
    let identity = Ed25519PrivateKey.generate()
    let signed = Array(repeating: UInt8(1), count: 56)
    let signature = identity.sign(signed)
    let signs = rate(milliseconds: ms) { _ = identity.sign(signed) }
    let verifies = rate(milliseconds: ms) { _ = identity.publicKey.verify(signature: signature, message: signed) }
    emit(["bench": "crypto", "chacha20poly1305_mb_per_s": .double(seals * Double(message.count) / 1e6),
          "x25519_dh_per_s": .double(dh), "x25519_keygen_per_s": .double(keygen),
          "ed25519_sign_per_s": .double(signs), "ed25519_verify_per_s": .double(verifies)])
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "control" where arguments.count >= 2: controlBench(socket: arguments[1], options(arguments[2...]))
case "connect" where arguments.count >= 3: connectBench(socket: arguments[1], address: arguments[2], options(arguments[3...]))
case "gossip":
    let (list, rest) = sockets(from: arguments[1...], "sockets")
    gossipBench(sockets: list, options(rest))
case "replicate":
    let (list, rest) = sockets(from: arguments[1...], "sockets")
    let (pids, rest2) = sockets(from: rest, "rss-pids")
    replicateBench(sockets: list, rssPIDs: pids.compactMap { Int($0) }, options(rest2))
case "tcp": tcpBench(options(arguments[1...]))
case "crypto": cryptoBench(options(arguments[1...]))
case "bytepath": bytePathBench(options(arguments[1...]))
case "udp": udpBench(options(arguments[1...]))
case "index": indexBench(options(arguments[1...]))
default:
    fail("usage: p2p-sync-bench control SOCKET [--count N] [--pipeline K] [--runs R] [--value-bytes B] [--stride S] [--first-run F] [--first-key K] [--value-tag T] | connect SOCKET MULTIADDR [--count N] | gossip --sockets S1,S2,... [--writes N] [--interval-ms M] [--seed X] | replicate --sockets S1,S2,... [--writes N] [--pipeline K] [--rss-pids P1,...] | tcp [--bytes N] [--sealed 1] | crypto [--milliseconds N] | bytepath [--megabytes N] [--chunk-kib K] [--chacha-milliseconds M] | udp [--datagrams N] [--bytes B] [--window W] | index [--keys N] [--seed X]")
}
