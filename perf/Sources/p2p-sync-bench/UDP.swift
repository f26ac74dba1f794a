#if canImport(Glibc)
import Glibc
#endif
import JSON
import Reactor

// p2p-sync-bench udp [--datagrams N] [--bytes B] [--window W]
//   Loopback UDP through the Reactor's UDPSocket: N datagrams of B bytes (default 1 M of 1,200,
//   a typical QUIC packet) from one socket to another, once with GSO off and once with it on
//   (where the kernel has UDP_SEGMENT). Sender and receiver share the one loop thread, as all
//   QUIC connections of a node will, so the figure is the whole path's cost on one core: the
//   sendmmsg side, the kernel's loopback delivery and the recvmmsg side.
//   At most W datagrams are in flight (default 1,024, ~2.5 MB of receive-buffer truesize), so
//   the receiver's buffer never overflows and nothing is lost: a loss would stall the run.

func udpBench(_ o: [String: Int]) {
    let total = o["datagrams"] ?? 1_000_000, size = o["bytes"] ?? 1200, window = o["window"] ?? 1024
    for gso in [false, true] {
        do {
            try udpRun(total: total, size: size, window: window, gso: gso)
        } catch {
            fail("udp: \(error)")
        }
    }
}

private func udpRun(total: Int, size: Int, window: Int, gso: Bool) throws(ReactorError) {
    let reactor = try Reactor()
    defer { reactor.shutdown() }
    let sender = try reactor.openUDP(bindTo: SocketAddress(host: "127.0.0.1", port: 0))
    let receiver = try reactor.openUDP(bindTo: SocketAddress(host: "127.0.0.1", port: 0))
    sender.gsoEnabled = gso
    if gso, !sender.gsoSupported {
        emit(["bench": "udp", "gso": true, "skipped": "the kernel has no UDP_SEGMENT"])
        return
    }
    let payload = [UInt8](repeating: 0x5a, count: size)
    let destination = receiver.localAddress
    var sent = 0, received = 0, bytes = 0
    var lastProgress = received
    receiver.onDatagrams = { batch in
        for datagram in batch { bytes += datagram.payload.count }
        received += batch.count
        if received == total { reactor.stop() }
    }
    // Top the window up once per turn, after the receiver has read what it could.
    reactor.addBeforeSleep {
        let target = min(total, received + window)
        guard sent < target else { return }
        payload.withUnsafeBytes { raw in
            while sent < target {
                try? sender.send(raw, to: destination)
                sent += 1
            }
        }
        sender.flush()
    }
    // A lost datagram would leave the window open forever: give up after a second of no progress.
    var stalled = false
    func watch() {
        reactor.schedule(after: .seconds(1)) {
            if received == lastProgress { stalled = true; reactor.stop(); return }
            lastProgress = received
            watch()
        }
    }
    watch()
    let start = monotonicSeconds()
    try reactor.run()
    let seconds = monotonicSeconds() - start
    if stalled { fail("udp: stalled at \(received) of \(total) datagrams (sent \(sent), dropped \(sender.droppedSends), failed \(sender.failedSends))") }
    emit(["bench": "udp", "gso": .bool(gso), "datagrams": .int(total), "bytes": .int(size), "window": .int(window),
          "seconds": .double(seconds), "datagrams_per_s": .double(Double(total) / seconds),
          "mb_per_s": .double(Double(bytes) / seconds / 1e6),
          "sendmmsg_calls": .int(sender.sendBatches), "gso_messages": .int(sender.gsoSends),
          "recvmmsg_calls": .int(receiver.receiveBatches), "truncated": .int(receiver.truncatedDatagrams),
          "send_dropped": .int(sender.droppedSends), "send_failed": .int(sender.failedSends),
          "rcvbuf": .int(receiver.receiveBufferBytes)])
}
