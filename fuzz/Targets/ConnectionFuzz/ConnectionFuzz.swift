// libFuzzer target: a Swarm `Connection` (the listener side, every protocol handler of the
// node registered) fed arbitrary peer bytes, either raw from the first byte (multistream,
// Noise) or, after a real handshake, as the plaintext of well-encrypted Noise frames (yamux,
// multistream on every stream, identify, ping, perf, pubsub, reconcile).
//
// The handshake uses fixed keys, so it always ends in the same state: it is done once, and
// each input of the second kind starts from a copy of the connected pair (`Connection` and
// `NoiseSession` are values whose only references are immutable key blocks). Raw inputs still
// start from a fresh connection, so the handshake bytes themselves are fuzzed.

import Noise
import P2PCrypto
import Swarm
import Wire

private typealias Keys = (listener: LocalIdentity, dialer: Ed25519PrivateKey, x: [X25519KeyPair])

/// Keys made once: every input uses the same identities and ephemeral keys.
private let keys: Keys = {
    var rng = SplitMix64(seed: 11)
    return (LocalIdentity(identity: try! Ed25519PrivateKey(seed: rng.bytes(32)),
                          noiseStatic: try! X25519KeyPair(privateKey: rng.bytes(32)), agentVersion: "fuzz"),
            try! Ed25519PrivateKey(seed: rng.bytes(32)),
            (0..<3).map { _ in try! X25519KeyPair(privateKey: rng.bytes(32)) })
}()

private let registry = ProtocolRegistry([
    IdentifyHandler.registration(), IdentifyHandler.pushRegistration(), PingHandler.registration(),
    PerfHandler.registration(), PubsubHandler.registration(), ReconcileHandler.registration(),
])

/// A listener connection that has sent its greeting (and nothing else yet).
private func freshListener() -> (Connection, ConnectionOutput) {
    var connection = Connection(role: .listener, local: keys.listener, registry: registry, ephemeral: keys.x[0],
                                expectedPeer: nil, remoteAddress: nil, listenAddresses: [], seed: 1, now: 0)
    let greeting = connection.start(now: 0)
    return (connection, greeting)
}

/// The properties checked on every output: a closed connection says why, asks for no timer
/// and sends nothing more.
private struct Checker {
    var closed = false
    mutating func check(_ output: ConnectionOutput, _ connection: Connection) {
        if closed { precondition(output.send.isEmpty && output.events.isEmpty, "output after the close") }
        if output.close != nil { closed = true }
        if closed { precondition(connection.deadline == nil, "a closed connection asks for a timer") }
    }
}

/// The listener after a real dialer's handshake (multistream, Noise XX, yamux), with the
/// dialer's transport session: made once, copied by each input. Every output on the way was
/// checked; the connection is open.
nonisolated(unsafe) private let connected: (connection: Connection, noise: NoiseSession) = {
    var (connection, greeting) = freshListener()
    var checker = Checker()
    checker.check(greeting, connection)
    var dialer = ConnectionUpgrade(role: .dialer, identity: keys.dialer, noiseStatic: keys.x[1], ephemeral: keys.x[2], expectedPeer: nil)
    var toListener = dialer.start()
    var session: NoiseSession?
    var toDialer = greeting.send
    for _ in 0..<10 where session == nil && !checker.closed {
        let out = connection.receivedBytes(toListener, now: 0)
        checker.check(out, connection)
        toDialer += out.send
        let step = try! dialer.receivedBytes(toDialer)
        toDialer = []
        toListener = step.send
        session = step.upgraded?.session
    }
    guard let noise = session else { fatalError("the fixed handshake did not complete") }
    if !toListener.isEmpty { checker.check(connection.receivedBytes(toListener, now: 0), connection) }
    precondition(!checker.closed, "the fixed handshake closed the connection")
    return (connection, noise)
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func connectionFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let mode = bytes.first else { return 0 }
    let input = Array(bytes.dropFirst())
    var now: UInt64 = 0
    var checker = Checker()
    var connection: Connection

    if mode % 2 == 0 {
        // Raw: the bytes as the socket would deliver them, each chunk sized by a byte before it.
        let greeting: ConnectionOutput
        (connection, greeting) = freshListener()
        checker.check(greeting, connection)
        var offset = 0
        while offset + 1 < input.count, !checker.closed {
            let n = min(input.count - offset - 1, 1 + Int(input[offset]) % 200)
            checker.check(connection.receivedBytes(Array(input[(offset + 1)..<(offset + 1 + n)]), now: now), connection)
            offset += 1 + n
            now += 1_000_000
        }
    } else {
        // After the dialer's handshake, the input as yamux-level plaintext.
        connection = connected.connection
        var noise = connected.noise
        var offset = 0
        while offset + 1 < input.count, !checker.closed {
            let n = min(input.count - offset - 1, 1 + Int(input[offset]) % 512)
            guard let wire = try? noise.encrypt(Array(input[(offset + 1)..<(offset + 1 + n)])) else { return 0 }
            checker.check(connection.receivedBytes(wire, now: now), connection)
            offset += 1 + n
        }
    }
    // Time passes: handshake and ping time-outs, keep-alives.
    for _ in 0..<3 where !checker.closed {
        guard let due = connection.deadline else { break }
        now = max(now, due)
        checker.check(connection.timerFired(now: now), connection)
    }
    return 0
}
