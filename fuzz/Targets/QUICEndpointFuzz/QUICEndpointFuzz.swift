// libFuzzer target: a QUIC server endpoint (QUIC, on ngtcp2) fed one datagram from an unknown
// address, as a UDP socket would: random bytes, or (first byte odd) a real client Initial
// with the input's bytes XORed into it, so the fuzzer works on near-valid packets whose
// header parses.

import P2PCrypto
import QUIC
import Wire

/// Made once: the server's TLS (certificate) and a real client Initial.
nonisolated(unsafe) let serverTLS = try! LibP2PQUICTLS(identity: try! Ed25519PrivateKey(seed: [UInt8](repeating: 1, count: 32)),
                                                      wallClock: { 1_800_000_000 })
let clientInitial: [UInt8] = {
    let tls = try! LibP2PQUICTLS(identity: try! Ed25519PrivateKey(seed: [UInt8](repeating: 2, count: 32)), wallClock: { 1_800_000_000 })
    var random = SplitMix64(seed: 3)
    let client = try! QUICConnection(dialing: QUICAddress(host: "10.0.0.2", port: 4001)!, from: QUICAddress(host: "10.0.0.1", port: 5000)!,
                                     expectedPeer: nil, tls: tls, now: 1_000_000_000, random: { random.bytes($0) })
    var first: [UInt8] = []
    try! client.datagrams(now: 1_000_000_000) { if first.isEmpty { first = Array($0) } }
    return first
}()

/// Properties: a reply (Version Negotiation, Retry) is never larger than three times the
/// datagram; a connection is kept only for a datagram that decrypts into TLS data; a closed
/// connection asks for no timer; nothing establishes from one datagram.
@_cdecl("LLVMFuzzerTestOneInput")
public func quicEndpointFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    var datagram = Array(input.dropFirst())
    if input[0] & 1 == 1 {
        datagram = clientInitial
        for (i, byte) in input.dropFirst().enumerated() { datagram[(i * 37) % datagram.count] ^= byte }
        if input[0] & 2 == 2 { datagram = Array(datagram.prefix(Int(input[0]) * 5)) }
    }
    var random = SplitMix64(seed: 9)
    var endpoint = QUICEndpoint(local: QUICAddress(host: "10.0.0.2", port: 4001)!, tls: serverTLS, random: { random.bytes($0) })
    endpoint.retryThreshold = input[0] & 4 == 4 ? 0 : 64
    let now: UInt64 = 2_000_000_000
    let decision = datagram.withUnsafeBytes { endpoint.route($0, from: QUICAddress(host: "10.0.0.1", port: 5000)!, halfOpen: 0, now: now) }
    switch decision {
    case .reply(let bytes):
        precondition(bytes.count <= 3 * max(datagram.count, 1), "a reply of \(bytes.count) bytes to \(datagram.count)")
    case .deliver:
        preconditionFailure("an empty endpoint routed a datagram to a connection")
    case .drop:
        break
    case .accept(let connection):
        datagram.withUnsafeBytes { try? connection.receive($0, now: now) }
        var sent = 0
        try? connection.datagrams(now: now) { sent += $0.count }
        if connection.receivedCryptoData {
            precondition(sent <= 3 * datagram.count, "sent \(sent) bytes to an unvalidated address that sent \(datagram.count)")
        }
        precondition(!connection.takeEvents().contains { if case .established = $0 { true } else { false } },
                     "one datagram established a connection")
        if connection.closedReason != nil { precondition(connection.deadline == nil, "a closed connection asks for a timer") }
        if let due = connection.deadline { try? connection.timerFired(now: due) }
    }
    return 0
}
