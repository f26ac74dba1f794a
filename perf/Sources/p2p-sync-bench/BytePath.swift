#if canImport(Glibc)
import Glibc
#endif
import CMallocCounter
import JSON
import Noise
import P2PCrypto
import Wire
import Yamux

// p2p-sync-bench bytepath [--megabytes N] [--chunk-kib K] [--chacha-milliseconds M]
//
// The byte path of one Noise+yamux stream, in one process and without sockets: a real Noise XX
// handshake between two `NoiseHandshake`s, then a `NoiseSession` and a `YamuxSession` on each
// side, one stream, N MiB one way and then N MiB back, pumped through two in-memory "wires"
// with yamux flow control honoured (the receiver reports what it consumed). Each side's calls
// are timed on their own, so besides the one-thread figure (both sides' work one after the
// other) the benchmark gives the figure two processes on two cores would reach: bytes over the
// busier side's time. Malloc calls are counted by CMallocCounter, linked into this executable only.

/// One end of a secured, multiplexed connection as the byte-path pump drives it. The pump only
/// moves wire bytes and application chunks, so another endpoint (a Swarm `Connection`, say) can
/// take this one's place without touching the pump.
protocol BytePathEndpoint {
    /// Whether the application should write more now (the stream's queue is below the window).
    var wantsMoreInput: Bool { get }
    /// The application writes `chunk` on the benchmark stream.
    mutating func write(_ chunk: [UInt8]) throws
    /// Everything the endpoint has to send, appended to `wire`.
    mutating func flush(into wire: inout [UInt8]) throws
    /// Feeds all of `wire` (the peer's bytes; the callee empties it). Returns the application
    /// bytes delivered on the benchmark stream, which the endpoint has already reported consumed.
    mutating func receive(_ wire: inout [UInt8]) throws -> Int
}

/// The endpoint made of `NoiseSession` and `YamuxSession` on their fast paths: yamux output
/// swapped out (no copy), encrypted straight into the wire buffer; received frames decrypted
/// in place in the wire buffer and lent to yamux, whose data events are slices.
struct NoiseYamuxEndpoint: BytePathEndpoint {
    var noise: NoiseSession
    var yamux: YamuxSession
    var stream: StreamID?
    /// Reused between calls so that the steady state allocates nothing.
    var plaintext: [UInt8] = []
    var events: [YamuxEvent] = []

    init(session: NoiseSession, role: YamuxRole) {
        noise = session
        yamux = YamuxSession(role: role)
    }

    mutating func open() throws { stream = try yamux.openStream() }

    var wantsMoreInput: Bool {
        guard let stream else { return false }
        return yamux.pendingBytes(on: stream) < Int(yamux.configuration.initialWindow)
    }

    mutating func write(_ chunk: [UInt8]) throws {
        guard let stream else { fatalError("bytepath: write before the stream exists") }
        try yamux.write(chunk, on: stream)
    }

    mutating func flush(into wire: inout [UInt8]) throws {
        plaintext.removeAll(keepingCapacity: true)
        yamux.takeOutput(into: &plaintext)
        guard !plaintext.isEmpty else { return }
        try noise.encrypt(plaintext, appendingTo: &wire)
    }

    mutating func receive(_ wire: inout [UInt8]) throws -> Int {
        guard !wire.isEmpty else { return 0 }
        var failure: YamuxError?
        var delivered = 0
        let consumed = try wire.withUnsafeMutableBytes { buffer in
            try noise.decrypt(inPlace: buffer) { plaintext in
                guard failure == nil else { return }
                // Events are handled per frame and dropped before yamux is fed again: their
                // data slices share yamux's input buffer, which must be unshared to grow in place.
                events.removeAll(keepingCapacity: true)
                do throws(YamuxError) { try yamux.receivedBytes(plaintext, into: &events) } catch { failure = error; return }
                for event in events {
                    switch event {
                    case .inboundStream(let id): stream = id
                    case .data(let id, let bytes):
                        yamux.consumed(bytes.count, on: id)
                        delivered += bytes.count
                    default: break
                    }
                }
            }
        }
        events.removeAll(keepingCapacity: true)
        if let failure { throw failure }
        // A partial frame stays at the front for the next call.
        if consumed == wire.count {
            wire.removeAll(keepingCapacity: true)
        } else {
            wire.removeSubrange(0..<consumed)
        }
        return delivered
    }
}

/// A Noise XX handshake between two fresh identities, pumped in memory.
func handshakePair() throws -> (initiator: NoiseSession, responder: NoiseSession) {
    var initiator = NoiseHandshake(role: .initiator, identity: Ed25519PrivateKey.generate(),
                                   staticKey: X25519KeyPair.generate(), ephemeral: X25519KeyPair.generate())
    var responder = NoiseHandshake(role: .responder, identity: Ed25519PrivateKey.generate(),
                                   staticKey: X25519KeyPair.generate(), ephemeral: X25519KeyPair.generate())
    let m2 = try responder.receivedBytes(initiator.start())
    let m3 = try initiator.receivedBytes(m2.send)
    let done = try responder.receivedBytes(m3.send)
    guard let i = m3.completion, let r = done.completion else { fail("bytepath: the handshake did not complete") }
    return (i.session, r.session)
}

/// Wall time of each side's calls while one direction runs.
struct SideClock {
    var seconds = 0.0
    mutating func time<R>(_ body: () throws -> R) rethrows -> R {
        let start = monotonicSeconds()
        defer { seconds += monotonicSeconds() - start }
        return try body()
    }
}

/// Moves `total` bytes from `sender` to `receiver` in `chunk`-sized application writes.
func pump<E: BytePathEndpoint>(_ total: Int, chunk: [UInt8], from sender: inout E, to receiver: inout E) throws
    -> (seconds: Double, senderSeconds: Double, receiverSeconds: Double, allocations: UInt64) {
    var forward: [UInt8] = [], backward: [UInt8] = []
    var written = 0, delivered = 0
    var senderClock = SideClock(), receiverClock = SideClock()
    let allocationsBefore = cmalloc_counter_allocations()
    let start = monotonicSeconds()
    while delivered < total {
        try senderClock.time {
            while written < total && sender.wantsMoreInput {
                let n = min(chunk.count, total - written)
                try sender.write(n == chunk.count ? chunk : Array(chunk[..<n]))
                written += n
            }
            try sender.flush(into: &forward)
        }
        let before = delivered
        try receiverClock.time {
            delivered += try receiver.receive(&forward)
            try receiver.flush(into: &backward)
        }
        try senderClock.time { _ = try sender.receive(&backward) }
        if delivered == before && written == total && forward.isEmpty {
            fail("bytepath: stalled with \(delivered) of \(total) bytes delivered")
        }
    }
    let seconds = monotonicSeconds() - start
    return (seconds, senderClock.seconds, receiverClock.seconds, cmalloc_counter_allocations() - allocationsBefore)
}

/// ChaCha20-Poly1305 IETF sealing 65519-byte messages in place (no allocation): the floor
/// under one side of the byte path.
func chachaInPlaceMBPerSecond(milliseconds: Int) -> Double {
    let key = SecretBytes(copying: SecureRandom.bytes(32))
    var message = [UInt8](repeating: 7, count: NoiseSession.maxPlaintextPerFrame + ChaChaPolyIETF.tagCount)
    var nonce: UInt64 = 0
    let seals = message.withUnsafeMutableBytes { buffer in
        rate(milliseconds: milliseconds) {
            ChaChaPolyIETF.sealInPlace(key: key, nonce: nonce, message: UnsafeMutableRawBufferPointer(rebasing: buffer[..<NoiseSession.maxPlaintextPerFrame]),
                                       tag: buffer.baseAddress! + NoiseSession.maxPlaintextPerFrame)
            nonce += 1
        }
    }
    return seals * Double(NoiseSession.maxPlaintextPerFrame) / 1e6
}

/// ChaCha20-Poly1305 IETF on 65519-byte messages (a full Noise frame), as `crypto` measures it
/// (a new array per seal).
func chachaMBPerSecond(milliseconds: Int) -> Double {
    let key = SecureRandom.bytes(32)
    let message = [UInt8](repeating: 7, count: NoiseSession.maxPlaintextPerFrame)
    var nonce: UInt64 = 0
    let seals = rate(milliseconds: milliseconds) {
        _ = ChaChaPolyIETF.seal(key: key, nonce: nonce, associatedData: [], plaintext: message)
        nonce += 1
    }
    return seals * Double(message.count) / 1e6
}

func bytePathBench(_ o: [String: Int]) {
    let total = (o["megabytes"] ?? 256) << 20
    let chunk = [UInt8](repeating: 0x5a, count: (o["chunk-kib"] ?? 64) << 10)
    do {
        let chacha = chachaMBPerSecond(milliseconds: o["chacha-milliseconds"] ?? 1000)
        let chachaInPlace = chachaInPlaceMBPerSecond(milliseconds: o["chacha-milliseconds"] ?? 1000)
        var row: [String: JSON] = ["bench": "bytepath", "megabytes": .int(total >> 20), "chunk_bytes": .int(chunk.count),
                                   "chacha20poly1305_mb_per_s": .double(chacha),
                                   "chacha20poly1305_in_place_mb_per_s": .double(chachaInPlace)]
        /// Both directions between two endpoints; keys start with `prefix`.
        func measure<E: BytePathEndpoint>(_ client: inout E, _ server: inout E, prefix: String) throws {
            for direction in ["upload", "download"] {
                let result = direction == "upload"
                    ? try pump(total, chunk: chunk, from: &client, to: &server)
                    : try pump(total, chunk: chunk, from: &server, to: &client)
                let busier = max(result.senderSeconds, result.receiverSeconds)
                let twoCores = Double(total) / busier / 1e6
                let key = prefix + direction
                row["\(key)_mb_per_s"] = .double(twoCores)
                row["\(key)_one_thread_mb_per_s"] = .double(Double(total) / result.seconds / 1e6)
                row["\(key)_sender_seconds"] = .double(result.senderSeconds)
                row["\(key)_receiver_seconds"] = .double(result.receiverSeconds)
                row["\(key)_over_chacha"] = .double(twoCores / chacha)
                row["\(key)_over_chacha_in_place"] = .double(twoCores / chachaInPlace)
                row["\(key)_allocations_per_mib"] = .double(Double(result.allocations) / Double(total >> 20))
            }
        }
        // The sessions alone, then two whole Swarm connections (handlers, queues, events).
        let (i, r) = try handshakePair()
        var client = NoiseYamuxEndpoint(session: i, role: .client)
        var server = NoiseYamuxEndpoint(session: r, role: .server)
        try client.open()
        try measure(&client, &server, prefix: "")
        var (dialer, listener) = ConnectionEndpoint.pair()
        try ConnectionEndpoint.connect(&dialer, &listener)
        try measure(&dialer, &listener, prefix: "connection_")
        emit(.object(row))
    } catch {
        fail("bytepath: \(error)")
    }
}
