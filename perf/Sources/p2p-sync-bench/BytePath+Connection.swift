import JSON
import P2PCrypto
import Swarm
import Wire
import Yamux

/// A stream handler for the benchmark only: writes the chunks it is given, reports what
/// arrives. Registered under its own protocol ID beside identify, as a node registers its own.
struct BenchStreamHandler: StreamHandler {
    static let key = "bench"
    static let protocolID = "/p2p-sync/bench/1.0.0"

    struct Write: Sendable { let chunk: [UInt8] }
    enum Event: Sendable {
        case opened
        case received(Int)
    }

    static func registration() -> ProtocolRegistration {
        ProtocolRegistration(key: key, protocolIDs: [protocolID]) { _, _ in BenchStreamHandler() }
    }

    mutating func negotiated(_ io: inout StreamIO) throws(StreamFailure) { io.report(Event.opened) }
    mutating func received(_ bytes: ArraySlice<UInt8>, _ io: inout StreamIO) throws(StreamFailure) {
        io.report(Event.received(bytes.count))
    }
    mutating func command(_ command: any Sendable, _ io: inout StreamIO) throws(StreamFailure) {
        if let write = command as? Write { io.write(write.chunk) }
    }
}

/// The byte path through a whole Swarm `Connection` (issue 11): upgrade, Noise, yamux,
/// multistream and a handler, with the socket's input decrypted in place as the daemon does.
struct ConnectionEndpoint: BytePathEndpoint {
    var connection: Connection
    var stream: StreamID?
    /// What the connection gave to send, not yet taken by the pump.
    var outgoing: [UInt8] = []
    var delivered = 0

    static func pair() -> (client: ConnectionEndpoint, server: ConnectionEndpoint) {
        let registry = ProtocolRegistry([IdentifyHandler.registration(), BenchStreamHandler.registration()])
        func side(_ role: Connection.Role) -> ConnectionEndpoint {
            let local = LocalIdentity(identity: .generate(), noiseStatic: .generate(), agentVersion: "p2p-sync-bench")
            return ConnectionEndpoint(connection: Connection(role: role, local: local, registry: registry, ephemeral: .generate(),
                                                             expectedPeer: nil, remoteAddress: nil, listenAddresses: [],
                                                             seed: 1, now: 0))
        }
        return (side(.dialer), side(.listener))
    }

    /// Runs the upgrade and opens the benchmark stream; both sides learn its ID.
    static func connect(_ client: inout ConnectionEndpoint, _ server: inout ConnectionEndpoint) throws {
        client.absorb(client.connection.start(now: 0))
        server.absorb(server.connection.start(now: 0))
        var opened = false
        for _ in 0..<100 {
            var wire: [UInt8] = []
            try client.flush(into: &wire)
            _ = try server.receive(&wire)
            try server.flush(into: &wire)
            _ = try client.receive(&wire)
            if !opened, client.connection.remotePeer != nil {
                let (id, output) = client.connection.open(BenchStreamHandler.key, now: 0)
                client.stream = id
                client.absorb(output)
                opened = true
            }
            if client.stream != nil, server.stream != nil, client.connection.queuedBytes(on: client.stream!) == 0 { return }
        }
        fail("bytepath: the connections did not open the benchmark stream")
    }

    var wantsMoreInput: Bool {
        guard let stream else { return false }
        return connection.queuedBytes(on: stream) < 256 * 1024
    }

    mutating func write(_ chunk: [UInt8]) throws {
        guard let stream else { fail("bytepath: write before the stream exists") }
        absorb(connection.send(BenchStreamHandler.Write(chunk: chunk), onStream: stream, now: 0))
    }

    mutating func flush(into wire: inout [UInt8]) throws {
        if wire.isEmpty { swap(&wire, &outgoing) } else { wire.append(contentsOf: outgoing) }
        outgoing.removeAll(keepingCapacity: true)
    }

    mutating func receive(_ wire: inout [UInt8]) throws -> Int {
        guard !wire.isEmpty else { return 0 }
        let before = delivered
        var step: (consumed: Int, output: ConnectionOutput) = (0, ConnectionOutput())
        wire.withUnsafeMutableBytes { step = connection.receivedBytes(inPlace: $0, now: 0) }
        if step.consumed == wire.count { wire.removeAll(keepingCapacity: true) } else { wire.removeSubrange(0..<step.consumed) }
        absorb(step.output)
        return delivered - before
    }

    private mutating func absorb(_ given: consuming ConnectionOutput) {
        var output = given
        defer { connection.recycle(&output) }
        if let reason = output.close { fail("bytepath: connection closed: \(reason)") }
        if outgoing.isEmpty { swap(&outgoing, &output.send) } else { outgoing.append(contentsOf: output.send) }
        for case .handler(let event) in output.events {
            switch event.payload as? BenchStreamHandler.Event {
            case .opened?: stream = event.stream
            case .received(let n)?: delivered += n
            case nil: break
            }
        }
    }
}
