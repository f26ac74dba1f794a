// libFuzzer target: a Swarm `Connection` (the listener side, every protocol handler of the
// node registered) fed arbitrary peer bytes, either raw from the first byte (multistream,
// Noise) or, after a real handshake, as the plaintext of well-encrypted Noise frames (yamux,
// multistream on every stream, identify, ping, perf, pubsub, reconcile).

import Noise
import P2PCrypto
import Swarm
import Wire

/// Keys made once: each input replays the same handshake.
nonisolated(unsafe) private var keys: (listener: LocalIdentity, dialer: Ed25519PrivateKey, x: [X25519KeyPair])? = nil

private func fixedKeys() -> (listener: LocalIdentity, dialer: Ed25519PrivateKey, x: [X25519KeyPair]) {
    if let keys { return keys }
    var rng = SplitMix64(seed: 11)
    let made = (LocalIdentity(identity: try! Ed25519PrivateKey(seed: rng.bytes(32)),
                              noiseStatic: try! X25519KeyPair(privateKey: rng.bytes(32)), agentVersion: "fuzz"),
                try! Ed25519PrivateKey(seed: rng.bytes(32)),
                (0..<3).map { _ in try! X25519KeyPair(privateKey: rng.bytes(32)) })
    keys = made
    return made
}

private let registry = ProtocolRegistry([
    IdentifyHandler.registration(), IdentifyHandler.pushRegistration(), PingHandler.registration(),
    PerfHandler.registration(), PubsubHandler.registration(), ReconcileHandler.registration(),
])

/// Beyond not crashing: a closed connection says why and asks for no timer; output after a
/// close is empty.
@_cdecl("LLVMFuzzerTestOneInput")
public func connectionFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let mode = bytes.first else { return 0 }
    let input = Array(bytes.dropFirst())
    let k = fixedKeys()
    var connection = Connection(role: .listener, local: k.listener, registry: registry, ephemeral: k.x[0],
                                expectedPeer: nil, remoteAddress: nil, listenAddresses: [], seed: 1, now: 0)
    var now: UInt64 = 0
    var closed = false
    func check(_ output: ConnectionOutput) {
        if closed { precondition(output.send.isEmpty && output.events.isEmpty, "output after the close") }
        if output.close != nil { closed = true }
        if closed { precondition(connection.deadline == nil, "a closed connection asks for a timer") }
    }
    let greeting = connection.start(now: now)
    check(greeting)

    if mode % 2 == 0 {
        // Raw: the bytes as the socket would deliver them, each chunk sized by a byte before it.
        var offset = 0
        while offset + 1 < input.count, !closed {
            let n = min(input.count - offset - 1, 1 + Int(input[offset]) % 200)
            check(connection.receivedBytes(Array(input[(offset + 1)..<(offset + 1 + n)]), now: now))
            offset += 1 + n
            now += 1_000_000
        }
    } else {
        // A real dialer's handshake, then the input as yamux-level plaintext.
        var dialer = ConnectionUpgrade(role: .dialer, identity: k.dialer, noiseStatic: k.x[1], ephemeral: k.x[2], expectedPeer: nil)
        var toListener = dialer.start()
        var session: NoiseSession?
        var toDialer = greeting.send
        for _ in 0..<10 where session == nil && !closed {
            let out = connection.receivedBytes(toListener, now: now)
            check(out)
            toDialer += out.send
            guard let step = try? dialer.receivedBytes(toDialer) else { return 0 }
            toDialer = []
            toListener = step.send
            session = step.upgraded?.session
        }
        guard var noise = session else { return 0 }
        if !toListener.isEmpty { check(connection.receivedBytes(toListener, now: now)) }
        var offset = 0
        while offset + 1 < input.count, !closed {
            let n = min(input.count - offset - 1, 1 + Int(input[offset]) % 512)
            guard let wire = try? noise.encrypt(Array(input[(offset + 1)..<(offset + 1 + n)])) else { return 0 }
            check(connection.receivedBytes(wire, now: now))
            offset += 1 + n
        }
    }
    // Time passes: handshake and ping time-outs, keep-alives.
    for _ in 0..<3 where !closed {
        guard let due = connection.deadline else { break }
        now = max(now, due)
        check(connection.timerFired(now: now))
    }
    return 0
}
