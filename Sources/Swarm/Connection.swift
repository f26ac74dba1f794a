import DequeModule
import QUIC
import Identify
import Multistream
import Noise
import PrivateNetwork
import P2PCrypto
import Wire
import Yamux

/// One libp2p connection over a byte stream (TCP), sans-I/O: bytes, time and commands in;
/// bytes for the socket, events for the node and a deadline out (issue 11).
///
/// ```
/// raw bytes ─► ConnectionUpgrade (multistream /noise, Noise XX, multistream /yamux/1.0.0)
///           ─► NoiseSession (transport frames) ─► YamuxSession (streams)
///           ─► per stream: multistream ─► the handler registered for the agreed protocol
/// ```
/// The connection also keeps itself honest: a handshake that is not identified within
/// `handshakeTimeout` fails, and an identified peer is pinged every `keepAliveInterval`; one
/// that does not answer within the ping time-out is taken for gone (TCP alone would take many
/// minutes to notice a pulled cable or a partition).
public struct Connection {
    public enum Role: Sendable { case dialer, listener }

    /// A connection that is not secured, muxed and identified by then is closed (issue 3).
    public static let handshakeTimeout: UInt64 = 10_000_000_000
    /// go pings every 30 s, rust every 15 s; 15 s keeps the RTT in `peers` fresh.
    public static let keepAliveInterval: UInt64 = 15_000_000_000
    /// Bytes a stream may have in the muxer (its window plus a little) before the rest waits in
    /// the connection's queue: enough to keep a 256 KiB window full.
    static let muxerQueueTarget = 256 * 1024
    /// The registration whose streams carry keep-alive pings.
    static let keepAliveKey = PingHandler.key

    /// One stream: its negotiation, then its handler; bytes the handler wrote wait in `outbox`
    /// until the protocol is agreed and the muxer has room.
    struct Slot: Sendable {
        let key: String?
        let initiator: Bool
        var negotiation: MultistreamNegotiation?
        var protocolID: String?
        var handler: (any StreamHandler)?
        var outbox = Deque<ArraySlice<UInt8>>()
        var outboxBytes = 0
        var closeWhenDrained = false
        var finSent = false
        var remoteClosed = false
    }

    public let role: Role
    public internal(set) var state: PeerState
    public internal(set) var context: ConnectionContext
    /// The peer's identify message, once received (later pushes merged onto it).
    public private(set) var identified: IdentifyMessage?
    /// The last keep-alive round trip, in nanoseconds.
    public private(set) var lastRTT: UInt64?
    public var remotePeer: PeerID? { context.remotePeer }

    let registry: ProtocolRegistry
    var upgrade: ConnectionUpgrade?
    private var noise: NoiseSession?
    var yamux: YamuxSession
    /// The QUIC connection under this one, when the transport is QUIC (its own TLS and
    /// streams: no upgrade, Noise or yamux).
    var quic: QUICConnection?
    var muxed = false
    var closed = false
    var streams: [StreamID: Slot] = [:]
    /// Streams with queued bytes, a pending FIN or a bulk sender: the ones `pump` visits.
    private var active: Set<StreamID> = []
    let openedAt: UInt64
    private var nextKeepAlive: UInt64?
    var random: SplitMix64
    var output = ConnectionOutput()
    /// Yamux events of the current input, and the error that stopped it, if any.
    private var muxerEvents: [YamuxEvent]? = []
    private var muxerError: (any Error)?
    /// Plaintext yamux wants sent, before encryption (reused: swapped with yamux's own).
    private var plaintextOut: [UInt8] = []
    /// Buffers lent to each handler callback's `StreamIO` (nil while lent).
    private var spareWrites: [[UInt8]]? = []
    private var spareEvents: [ConnectionEvent]? = []
    private var activeOrder: [StreamID]? = []
    /// Handlers' deadlines by stream, refreshed after each callback (so `deadline` does not
    /// visit every stream).
    private var handlerDeadlines: [StreamID: UInt64] = [:]
    /// Per registration key, our oldest open stream (the one `send(_:to:)` addresses).
    private var firstOutbound: [String: StreamID] = [:]
    /// A private network's XSalsa20 layer under everything (libp2p pnet), when the node has a
    /// swarm key: every byte in and out of a TCP connection passes it.
    private var privateNetwork: PrivateNetworkLayer?
    /// Set for a node in a private group: peers it does not admit are closed at once.
    public var admission: PeerAdmission?
    /// Output buffers the caller gave back (`recycle`), for the next output.
    private var recycledSend: [UInt8] = []
    private var recycledDatagrams = DatagramBatch()

    /// - Parameters:
    ///   - ephemeral: a fresh X25519 key for this handshake.
    ///   - expectedPeer: when dialing a known peer ID, the handshake fails unless the peer proves it.
    ///   - seed: for the connection's non-secret randomness (ping payloads).
    ///   - privateNetwork: the pnet layer (a swarm key and our nonce), for a node in a private network.
    public init(role: Role, local: LocalIdentity, registry: ProtocolRegistry, ephemeral: X25519KeyPair,
                expectedPeer: PeerID?, remoteAddress: Multiaddr?, listenAddresses: [Multiaddr], seed: UInt64, now: UInt64,
                privateNetwork: PrivateNetworkLayer? = nil) {
        self.privateNetwork = privateNetwork
        self.role = role
        self.registry = registry
        context = ConnectionContext(local: local, remotePeer: nil, remoteAddress: remoteAddress,
                                    listenAddresses: listenAddresses, servedProtocols: registry.servedProtocolIDs)
        upgrade = ConnectionUpgrade(role: role == .dialer ? .dialer : .listener, identity: local.identity,
                                    noiseStatic: local.noiseStatic, ephemeral: ephemeral, expectedPeer: expectedPeer)
        yamux = YamuxSession(role: role == .dialer ? .client : .server)
        state = role == .dialer ? .connecting : .handshaking
        random = SplitMix64(seed: seed)
        openedAt = now
    }

    /// A connection over QUIC (issue 13): TLS 1.3 and the streams are QUIC's own, so there is
    /// no upgrade, Noise or yamux; each QUIC stream is negotiated with multistream and handed to
    /// the same handlers as a yamux stream. The dialer's first datagrams come from `start`.
    public init(quic: QUICConnection, role: Role, local: LocalIdentity, registry: ProtocolRegistry,
                remoteAddress: Multiaddr?, listenAddresses: [Multiaddr], seed: UInt64, now: UInt64) {
        self.role = role
        self.registry = registry
        context = ConnectionContext(local: local, remotePeer: nil, remoteAddress: remoteAddress,
                                    listenAddresses: listenAddresses, servedProtocols: registry.servedProtocolIDs)
        upgrade = nil
        yamux = YamuxSession(role: role == .dialer ? .client : .server)
        self.quic = quic
        state = .handshaking
        random = SplitMix64(seed: seed)
        openedAt = now
    }

    // MARK: - Events in

    /// The transport is up (a dialer's TCP connect finished; a listener's at once): the first bytes.
    public mutating func start(now: UInt64) -> ConnectionOutput {
        if quic != nil {
            guard !closed else { return take() }
            output.events.append(.stateChanged(.handshaking))
            flush(now: now)
            return take()
        }
        guard !closed, upgrade != nil, state == .connecting || state == .handshaking else { return take() }
        state = .handshaking
        output.send += upgrade!.start()
        output.events.append(.stateChanged(.handshaking))
        return take()
    }

    /// Bytes from the socket.
    public mutating func receivedBytes(_ bytes: [UInt8], now: UInt64) -> ConnectionOutput {
        bytes.withUnsafeBytes { receivedBytes($0, now: now) }
    }

    /// Bytes from the socket, lent: Noise copies them once into its frame buffer.
    public mutating func receivedBytes(_ bytes: UnsafeRawBufferPointer, now: UInt64) -> ConnectionOutput {
        guard privateNetwork != nil, !closed else { return receivedPlaintext(bytes, now: now) }
        // Under a private network: decrypted in a copy, then the buffered path takes it all.
        var copy = Array(bytes)
        return copy.withUnsafeMutableBytes { buffer in
            guard let nonce = revealPrivateNetwork(buffer, now: now) else { return take() }
            let output = receivedPlaintext(UnsafeRawBufferPointer(rebasing: buffer[nonce...]), now: now)
            privateNetwork?.consumed(buffer.count - nonce)
            return output
        }
    }

    /// Decrypts a private network's new bytes in place; the count of nonce bytes at the front
    /// to drop, or nil when the connection failed (another key, or none).
    private mutating func revealPrivateNetwork(_ buffer: UnsafeMutableRawBufferPointer, now: UInt64) -> Int? {
        do {
            return try privateNetwork!.reveal(buffer)
        } catch {
            output.events.append(.privateNetworkRefused(error))
            fail("\(error)", now: now)
            return nil
        }
    }

    private mutating func receivedPlaintext(_ bytes: UnsafeRawBufferPointer, now: UInt64) -> ConnectionOutput {
        guard !closed else { return take() }
        if upgrade != nil {
            receivedDuringUpgrade(Array(bytes), now: now)
        } else if muxed {
            var session = noise.take()!
            let decrypted = Result { () throws(NoiseError) in
                try session.decrypt(bytes) { plaintext in muxerInput(plaintext, now: now) }
            }
            finishDecrypting(session, decrypted, now: now)
        }
        finishTurn(now: now)
        return take()
    }

    /// The short byte path (issue 11): the socket's input region, lent mutable; whole Noise
    /// frames are decrypted in place there and their plaintext goes straight to yamux. Returns
    /// how many bytes were used: a partial frame at the end stays with the caller, who passes
    /// it again, front first, with what follows (its buffer must hold a whole frame, 65,537 bytes).
    public mutating func receivedBytes(inPlace buffer: UnsafeMutableRawBufferPointer, now: UInt64) -> (consumed: Int, output: ConnectionOutput) {
        guard privateNetwork != nil, !closed else { return receivedPlaintext(inPlace: buffer, now: now) }
        guard let nonce = revealPrivateNetwork(buffer, now: now) else { return (buffer.count, take()) }
        let step = receivedPlaintext(inPlace: UnsafeMutableRawBufferPointer(rebasing: buffer[nonce...]), now: now)
        privateNetwork?.consumed(step.consumed)
        return (nonce + step.consumed, step.output)
    }

    private mutating func receivedPlaintext(inPlace buffer: UnsafeMutableRawBufferPointer, now: UInt64) -> (consumed: Int, output: ConnectionOutput) {
        // Until the muxer runs, and while Noise still holds part of a frame from the upgrade,
        // the buffered path takes everything.
        guard !closed, muxed, noise?.bufferedBytes == 0 else {
            return (buffer.count, receivedPlaintext(UnsafeRawBufferPointer(buffer), now: now))
        }
        var session = noise.take()!
        let decrypted = Result { () throws(NoiseError) in
            try session.decrypt(inPlace: buffer) { plaintext in muxerInput(plaintext, now: now) }
        }
        finishDecrypting(session, decrypted.map { _ in () }, now: now)
        finishTurn(now: now)
        // After a failure the connection is over: everything counts as used.
        return ((try? decrypted.get()) ?? buffer.count, take())
    }

    /// The session is back from decrypting (it was taken out so that the muxer could be fed
    /// from inside its `deliver`); a Noise or muxer error ends the connection.
    private mutating func finishDecrypting(_ session: NoiseSession, _ decrypted: Result<Void, NoiseError>, now: UInt64) {
        noise = session
        do {
            try decrypted.get()
            try throwMuxerError()
        } catch {
            fail("\(error)", now: now)
        }
    }

    mutating func finishTurn(now: UInt64) {
        if !closed { pump(now: now) }
        // Also after a failure: the GoAway yamux queued for it.
        flush(now: now)
    }

    /// The clock reached `deadline`.
    public mutating func timerFired(now: UInt64) -> ConnectionOutput {
        guard !closed else { return take() }
        if let quic, let due = quic.deadline, now >= due {
            quicTimerFired(quic, now: now)
            if closed { return take() }
        }
        if state != .connected, now >= openedAt + Connection.handshakeTimeout {
            fail("handshake timed out after \(Connection.handshakeTimeout / 1_000_000_000) s in state \(state.rawValue)", now: now)
            return take()
        }
        if let due = nextKeepAlive, now >= due {
            nextKeepAlive = nil
            _ = openStream(key: Connection.keepAliveKey, request: PingHandler.Request(token: PingHandler.keepAliveToken), now: now)
        }
        for (id, due) in handlerDeadlines.sorted(by: { $0.key < $1.key }) {
            guard now >= due else { continue }
            callHandler(id, now: now) { handler, io throws(StreamFailure) in handler.timerFired(&io) }
            if closed { return take() }
        }
        pump(now: now)
        flush(now: now)
        return take()
    }

    /// The socket closed under us (EOF, error): nothing more can be sent.
    public mutating func transportClosed(_ reason: String, now: UInt64) -> ConnectionOutput {
        guard !closed else { return take() }
        finish(reason, now: now)
        output.send.removeAll()
        return take()
    }

    /// Closes the connection politely (yamux GoAway) with `reason` for logs and `peers`.
    public mutating func close(_ reason: String, now: UInt64) -> ConnectionOutput {
        guard !closed else { return take() }
        if muxed {
            yamux.goAway(code: 0)
            flush(now: now)
        }
        if let quic {
            let last = quic.close(reason: reason, now: now)
            if !last.isEmpty { output.datagrams.append(last) }
        }
        finish(reason, now: now)
        return take()
    }

    /// Opens a stream for the protocol registered under `key`; its handler gets `request`.
    /// Nil when the connection is not muxed yet or the muxer refuses another stream.
    public mutating func open(_ key: String, request: (any Sendable)? = nil, now: UInt64) -> (StreamID?, ConnectionOutput) {
        guard !closed, muxed else { return (nil, take()) }
        let id = openStream(key: key, request: request, now: now)
        pump(now: now)
        flush(now: now)
        return (id, take())
    }

    /// Gives `command` to the handler of our first open stream registered under `key` (the
    /// pubsub stream we opened at connect). Returns false when there is none.
    public mutating func send(_ command: any Sendable, to key: String, now: UInt64) -> (Bool, ConnectionOutput) {
        guard !closed, let id = firstOutbound[key] else {
            return (false, take())
        }
        return (true, send(command, onStream: id, now: now))
    }

    /// Gives `command` to the handler of stream `id` (ignored if the stream is gone).
    public mutating func send(_ command: any Sendable, onStream id: StreamID, now: UInt64) -> ConnectionOutput {
        guard !closed, streams[id] != nil else { return take() }
        callHandler(id, now: now) { handler, io throws(StreamFailure) in try handler.command(command, &io) }
        if !closed {
            pump(now: now)
            flush(now: now)
        }
        return take()
    }

    /// Our listen addresses changed (identify answers carry them).
    public mutating func setListenAddresses(_ addresses: [Multiaddr]) { context.listenAddresses = addresses }

    /// When `timerFired` is next due: the handshake time-out, the next keep-alive, or a handler's.
    public var deadline: UInt64? {
        guard !closed else { return nil }
        var next: UInt64? = state == .connected ? nil : openedAt + Connection.handshakeTimeout
        if let k = nextKeepAlive { next = min(next ?? k, k) }
        if let q = quic?.deadline { next = min(next ?? q, q) }
        for d in handlerDeadlines.values { next = min(next ?? d, d) }
        return next
    }

    public var isClosed: Bool { closed }
    /// Bytes waiting to be sent on stream `id`: in its queue and in the muxer.
    public func queuedBytes(on id: StreamID) -> Int { (streams[id]?.outboxBytes ?? 0) + muxPending(id) }
    /// Streams open now (for `peers` and tests).
    public var streamCount: Int { streams.count }

    // MARK: - Upgrade

    private mutating func receivedDuringUpgrade(_ bytes: [UInt8], now: UInt64) {
        do {
            let result = try upgrade!.receivedBytes(bytes)
            output.send += result.send
            if let phase = PeerState(rawValue: upgrade!.phase), phase != state, result.upgraded == nil {
                state = phase
                output.events.append(.stateChanged(phase))
            }
            if let upgraded = result.upgraded { try becomeMuxed(upgraded, now: now) }
        } catch {
            fail("\(error)", now: now)
        }
    }

    private mutating func becomeMuxed(_ upgraded: ConnectionUpgrade.Upgraded, now: UInt64) throws {
        upgrade = nil
        noise = upgraded.session
        if refuseIfNotAdmitted(upgraded.remotePeer, now: now) { return }
        muxed = true
        context.remotePeer = upgraded.remotePeer
        state = .identifying
        output.events.append(.secured(upgraded.remotePeer))
        output.events.append(.stateChanged(.identifying))
        // Our streams first, so that whatever the early bytes trigger (the peer's hello RPC
        // in the same read as the handshake's end) finds them open.
        for registration in registry.registrations where registration.opensOnConnect {
            _ = openStream(key: registration.key, request: nil, now: now)
        }
        if !upgraded.muxerBytes.isEmpty {
            upgraded.muxerBytes.withUnsafeBytes { muxerInput($0, now: now) }
            try throwMuxerError()
        }
    }

    /// Closes the connection if `admission` refuses `peer`, before any stream exists.
    mutating func refuseIfNotAdmitted(_ peer: PeerID, now: UInt64) -> Bool {
        guard let why = admission?.refusal(of: peer) else { return false }
        context.remotePeer = peer
        output.events.append(.peerRefused(peer, why))
        fail(why, now: now)
        return true
    }

    // MARK: - Streams

    /// One Noise frame's plaintext: yamux parses it and its events are handled at once, then
    /// dropped, so that yamux's input buffer is unshared when the next frame is appended (the
    /// data events are slices of it). The first error stops the rest and is thrown afterwards
    /// by `throwMuxerError` (a Noise `deliver` closure cannot throw).
    private mutating func muxerInput(_ plaintext: UnsafeRawBufferPointer, now: UInt64) {
        guard muxerError == nil, !closed, plaintext.count > 0 else { return }
        var events = muxerEvents.take() ?? []
        defer {
            events.removeAll(keepingCapacity: true)
            muxerEvents = events
        }
        do {
            try yamux.receivedBytes(plaintext, into: &events)
            try handle(events, now: now)
        } catch {
            muxerError = error
        }
    }

    /// Throws the error that stopped the muxer's input, if any.
    private mutating func throwMuxerError() throws(any Error) {
        if let error = muxerError {
            muxerError = nil
            throw error
        }
    }

    mutating func handle(_ events: [YamuxEvent], now: UInt64) throws {
        for event in events {
            if closed { return }
            switch event {
            case .inboundStream(let id):
                var negotiation = MultistreamNegotiation(role: .listener(supported: context.servedProtocols))
                streams[id] = Slot(key: nil, initiator: false, negotiation: nil)
                muxWrite(negotiation.start(), on: id)
                streams[id]?.negotiation = negotiation
            case .data(let id, let bytes):
                muxConsumed(bytes.count, on: id)
                streamData(bytes, on: id, now: now)
            case .remoteClosedWrite(let id):
                guard streams[id] != nil else { continue }
                streams[id]?.remoteClosed = true
                if streams[id]?.negotiation != nil {
                    endStream(id, .refused("the peer closed the stream during negotiation"), now: now)
                    muxReset(id)
                } else {
                    callHandler(id, now: now) { handler, io throws(StreamFailure) in try handler.remoteClosedWrite(&io) }
                }
            case .streamReset(let id):
                endStream(id, .reset, now: now)
            case .streamClosed(let id):
                endStream(id, .closed, now: now)
            case .goAway(let code):
                fail("peer sent GoAway (code \(code))", now: now)
            case .pong:
                break
            }
        }
    }

    private mutating func streamData(_ bytes: ArraySlice<UInt8>, on id: StreamID, now: UInt64) {
        guard streams[id] != nil else { return }
        guard streams[id]!.negotiation != nil else {
            callHandler(id, now: now) { handler, io throws(StreamFailure) in try handler.received(bytes, &io) }
            return
        }
        let result: MultistreamNegotiation.Output
        do {
            result = try streams[id]!.negotiation!.receivedBytes(Array(bytes))
        } catch {
            let initiator = streams[id]!.initiator
            output.events.append(.notice("stream \(id): \(initiator ? "the peer refused our protocol" : "negotiation failed"): \(error)"))
            endStream(id, .refused("\(error)"), now: now)
            muxReset(id)
            return
        }
        if !result.send.isEmpty { muxWrite(result.send, on: id) }
        guard let agreement = result.agreement else { return }
        streams[id]!.negotiation = nil
        streams[id]!.protocolID = agreement.protocolID
        if !streams[id]!.initiator {
            // Listener: the handler is born with the agreement.
            guard let registration = registry.registration(protocolID: agreement.protocolID) else {
                preconditionFailure("multistream agreed \(agreement.protocolID), which no registration serves")
            }
            if registration.oneInboundStream {
                for (other, slot) in streams where other != id && !slot.initiator && slot.key == registration.key {
                    endStream(other, .reset, now: now)
                    muxReset(other)
                }
            }
            var slot = streams[id]!
            slot = Slot(key: registration.key, initiator: false, negotiation: nil, protocolID: agreement.protocolID,
                        handler: registration.makeHandler(false, nil), remoteClosed: slot.remoteClosed)
            streams[id] = slot
        }
        callHandler(id, now: now) { handler, io throws(StreamFailure) in try handler.negotiated(&io) }
        if !agreement.remainder.isEmpty {
            streamData(agreement.remainder[...], on: id, now: now)
        }
        if streams[id] != nil { active.insert(id) }
    }

    mutating func openStream(key: String, request: (any Sendable)?, now: UInt64) -> StreamID? {
        guard let registration = registry.registration(key: key) else {
            preconditionFailure("no protocol registered under \(key)")
        }
        let id: StreamID
        do { id = try muxOpen() } catch {
            output.events.append(.notice("cannot open a \(key) stream: \(error)"))
            return nil
        }
        var negotiation = MultistreamNegotiation(role: .dialer(proposals: registration.protocolIDs))
        muxWrite(negotiation.start(), on: id)
        streams[id] = Slot(key: key, initiator: true, negotiation: negotiation, handler: registration.makeHandler(true, request))
        if firstOutbound[key] == nil { firstOutbound[key] = id }
        callHandler(id, now: now) { handler, io throws(StreamFailure) in handler.opened(&io) }
        return streams[id] == nil ? nil : id
    }

    /// Runs one handler callback, then carries out what it asked for.
    private mutating func callHandler(_ id: StreamID, now: UInt64,
                                      _ body: (inout any StreamHandler, inout StreamIO) throws(StreamFailure) -> Void) {
        // Take the handler out while it runs, so that it (and its buffers) are uniquely
        // referenced: no copy-on-write of the handler's box on every call.
        guard var handler = streams[id]?.handler.take() else { return }
        let (key, protocolID, initiator, outboxBytes) = streams[id].map { ($0.key, $0.protocolID, $0.initiator, $0.outboxBytes) }!
        var io = StreamIO(stream: id, protocolID: protocolID, initiator: initiator, now: now, context: context,
                          key: key ?? "", queuedBefore: outboxBytes + muxPending(id), random: random,
                          writes: spareWrites.take() ?? [], events: spareEvents.take() ?? [])
        defer {
            // Keep the buffers (their capacity) for the next callback.
            io.writes.removeAll(keepingCapacity: true)
            io.events.removeAll(keepingCapacity: true)
            spareWrites = io.writes
            spareEvents = io.events
        }
        var failure: StreamFailure?
        do { try body(&handler, &io) } catch { failure = error }
        random = io.random
        if streams[id] != nil {
            handlerDeadlines[id] = handler.deadline
            streams[id]!.handler = handler
        }
        apply(io, on: id, now: now)
        switch failure {
        case .resetStream(let why)?:
            output.events.append(.notice("\(key ?? "stream") stream \(id) reset: \(why)"))
            endStream(id, .reset, now: now, tellHandler: false)
            muxReset(id)
        case .closeConnection(let why)?:
            fail(why, now: now)
        case nil:
            break
        }
    }

    private mutating func apply(_ io: StreamIO, on id: StreamID, now: UInt64) {
        for event in io.events { route(event, now: now) }
        if streams[id] != nil {
            if io.wantsReset {
                forget(id)
                muxReset(id)
            } else {
                for chunk in io.writes { streams[id]!.outbox.append(chunk[...]) }
                streams[id]!.outboxBytes += io.writtenBytes
                if io.wantsCloseWrite { streams[id]!.closeWhenDrained = true }
                active.insert(id)
            }
        }
        if let reason = io.closeConnectionReason { fail(reason, now: now) }
    }

    /// Forgets a stream and tells its handler why.
    private mutating func endStream(_ id: StreamID, _ reason: StreamEnd, now: UInt64, tellHandler: Bool = true) {
        guard streams[id] != nil else { return }
        if tellHandler {
            callHandler(id, now: now) { handler, io throws(StreamFailure) in handler.ended(reason, &io) }
        }
        forget(id)
    }

    /// Drops every trace of a stream.
    private mutating func forget(_ id: StreamID) {
        if let key = streams.removeValue(forKey: id)?.key, firstOutbound[key] == id { firstOutbound[key] = nil }
        active.remove(id)
        handlerDeadlines[id] = nil
    }

    /// Moves queued bytes into the muxer as far as its queue target allows, sends due FINs, and
    /// lets bulk senders top up.
    mutating func pump(now: UInt64) {
        guard muxed, !active.isEmpty else { return }
        // In stream order (a simulation replays exactly), through a reused buffer.
        var order = activeOrder.take() ?? []
        defer {
            order.removeAll(keepingCapacity: true)
            activeOrder = order
        }
        order.append(contentsOf: active)
        order.sort()
        for id in order {
            guard streams[id] != nil, streams[id]!.negotiation == nil else { continue }
            var rounds = 0
            while true {
                drainOutbox(id)
                guard let slot = streams[id], slot.outbox.isEmpty, !slot.closeWhenDrained,
                      slot.handler?.wantsWritable == true, muxPending(id) < Connection.muxerQueueTarget,
                      rounds < 64 else { break }
                rounds += 1
                callHandler(id, now: now) { handler, io throws(StreamFailure) in handler.writable(&io) }
                if closed { return }
            }
            if let slot = streams[id], slot.outbox.isEmpty, slot.handler?.wantsWritable != true, !slot.closeWhenDrained {
                active.remove(id)
            }
        }
    }

    private mutating func drainOutbox(_ id: StreamID) {
        while var chunk = streams[id]?.outbox.first {
            let room = Connection.muxerQueueTarget - muxPending(id)
            guard room > 0 else { return }
            streams[id]!.outbox.removeFirst()
            if chunk.count > room {
                // Slices: the rest waits without a copy.
                streams[id]!.outbox.prepend(chunk.dropFirst(room))
                chunk = chunk.prefix(room)
            }
            streams[id]!.outboxBytes -= chunk.count
            do { try muxWrite(chunk, on: id) } catch {
                output.events.append(.notice("write on stream \(id) refused: \(error)"))
            }
        }
        guard let slot = streams[id], slot.outbox.isEmpty, slot.closeWhenDrained, !slot.finSent else { return }
        muxCloseWrite(id)
        streams[id]!.finSent = true
        streams[id]!.closeWhenDrained = false
        // Both directions done: yamux forgets the stream without an event, so do we.
        if slot.remoteClosed { forget(id) }
    }

    /// Encrypts whatever the muxer has queued.
    mutating func flush(now: UInt64) {
        if quic != nil { return flushQUIC(now: now) }
        // Nil while a receive path has the session out: it flushes once the session is back.
        guard muxed, noise != nil, yamux.outputBytes > 0 else { return }
        yamux.takeOutput(into: &plaintextOut)
        defer { plaintextOut.removeAll(keepingCapacity: true) }
        // No reserveCapacity: into an empty `send`, Noise writes a buffer made at its size.
        do {
            try noise!.encrypt(plaintextOut, appendingTo: &output.send)
        } catch {
            fail("\(error)", now: now)
        }
    }

    // MARK: - Identify and keep-alive

    /// The identify handler's findings arrive here first: the connection becomes Connected.
    private mutating func noteIdentified(_ message: IdentifyMessage, now: UInt64) {
        identified = identified.map { message.merged(onto: $0) } ?? message
        if state == .identifying {
            state = .connected
            output.events.append(.stateChanged(.connected))
            // The first ping at once: `peers` shows a round trip as soon as a peer connects.
            if registry.registration(key: Connection.keepAliveKey) != nil { nextKeepAlive = now }
        }
    }

    /// Events from handlers pass here: identify makes the connection Connected, keep-alive
    /// pings are the connection's own business, everything else goes up to the node.
    private mutating func route(_ event: ConnectionEvent, now: UInt64) {
        switch event {
        case .identified(let message):
            noteIdentified(message, now: now)
            output.events.append(.identified(identified ?? message))
        case .handler(let e):
            guard e.key == Connection.keepAliveKey, let ping = e.payload as? PingHandler.Event,
                  ping.token == PingHandler.keepAliveToken else {
                output.events.append(event)
                return
            }
            switch ping.outcome {
            case .success(let rtt):
                lastRTT = rtt
                output.events.append(.roundTrip(nanoseconds: rtt))
                if !closed { nextKeepAlive = now + Connection.keepAliveInterval }
            case .failure(.timedOut(let limit)):
                output.events.append(.notice("no answer to a keep-alive ping in \(limit / 1_000_000_000) s; closing the connection"))
                fail("no answer to ping in \(limit / 1_000_000_000) s", now: now)
            case .failure:
                // The peer does not speak ping, or the stream broke: not a sign that it is gone.
                if !closed { nextKeepAlive = now + Connection.keepAliveInterval }
            }
        default:
            output.events.append(event)
        }
    }

    mutating func take() -> ConnectionOutput {
        // Everything this step sends, encrypted for the private network as it leaves.
        if privateNetwork != nil { privateNetwork!.conceal(&output.send) }
        var next = ConnectionOutput()
        swap(&next.send, &recycledSend)
        swap(&next.datagrams, &recycledDatagrams)
        defer { output = next }
        return output
    }

    /// Gives an output's send buffer back once the caller has written it out, so the next
    /// output reuses its capacity instead of allocating (optional: the byte path's steady
    /// state). Pass the caller's only copy, or the buffer is copied rather than reused.
    public mutating func recycle(_ used: inout ConnectionOutput) {
        if used.datagrams.bytes.capacity > recycledDatagrams.bytes.capacity {
            used.datagrams.removeAll()
            swap(&used.datagrams, &recycledDatagrams)
        }
        if used.send.capacity > recycledSend.capacity {
            used.send.removeAll(keepingCapacity: true)
            swap(&used.send, &recycledSend)
        }
    }

    // MARK: - Ending

    mutating func fail(_ reason: String, now: UInt64) {
        guard !closed else { return }
        if let quic {
            // Application error 1: the peer broke a protocol (0 is a polite close).
            let last = quic.close(code: 1, reason: reason, now: now)
            if !last.isEmpty { output.datagrams.append(last) }
        }
        if muxed {
            // GoAway code 1: protocol error (yamux spec); queued by yamux itself on its own errors.
            flush(now: now)
        }
        finish(reason, now: now)
    }

    private mutating func finish(_ reason: String, now: UInt64) {
        guard !closed else { return }
        for id in streams.keys.sorted() {
            callHandler(id, now: now) { handler, io throws(StreamFailure) in handler.ended(.connectionClosed(reason), &io) }
        }
        closed = true
        streams.removeAll()
        active.removeAll()
        handlerDeadlines.removeAll()
        firstOutbound.removeAll()
        nextKeepAlive = nil
        let newState: PeerState = state == .connected ? .disconnected : .failed
        state = newState
        output.events.append(.stateChanged(newState))
        output.close = reason
    }
}
