import Gossipsub
import Identify
import Multistream
import Noise
import P2PCrypto
import Perf
import Ping
import Reactor
import Swarm
import Wire
import Yamux

/// One libp2p connection to a peer: the raw socket, the upgrade (multistream, Noise,
/// multistream), then yamux streams, each negotiated with multistream and served by a
/// protocol machine (Identify, Ping). The machines do the protocol work; this class only
/// moves bytes between them and the socket.
final class PeerConnection {
    enum Direction: String { case outbound, inbound }

    static let identifyProtocol = "/ipfs/id/1.0.0"
    static let identifyPushProtocol = "/ipfs/id/push/1.0.0"
    static let pingProtocol = "/ipfs/ping/1.0.0"
    static let reconcileProtocol = "/p2p-sync/reconcile/1.0.0"
    /// Reconcile messages: item lists of a large difference can be several MiB.
    static let maxReconcileFrame = 16 << 20
    static let servedProtocols = [identifyProtocol, identifyPushProtocol, pingProtocol, PerfProtocol.id, reconcileProtocol]
        + PubsubProtocolID.allCases.map(\.rawValue)
    /// Pubsub RPCs we accept (DESIGN.md section 6: go and py send up to 1 MiB).
    static let maxPubsubFrame = 1 << 20
    /// A peer that lets this much pile up unread on its pubsub stream is dropped.
    static let maxPubsubBacklog = 16 << 20

    /// Bulk senders (perf) keep at most this much queued in yamux and in the socket's output,
    /// topping up as the window and the socket drain: memory stays bounded whatever the size.
    static let bulkQueuedInMuxer = 256 * 1024
    static let bulkQueuedInSocket = 4 << 20
    static let bulkChunk = [UInt8](repeating: 0, count: 64 * 1024)

    /// A perf run we started: `upload` bytes out, `download` bytes expected back.
    struct PerfRun {
        let upload: Int
        let download: Int
        let started: Instant
        var firstByteAt: Instant?
        var received = 0
        let completion: (Result<PerfMeasurement, PeerError>) -> Void
    }

    /// What a stream is doing now.
    private enum StreamRole {
        case negotiatingInbound(MultistreamNegotiation)
        case negotiatingOutbound(MultistreamNegotiation, purpose: OutboundPurpose)
        case identifyServed
        case identifyReading(IdentifyReader)
        case pingServing(PingResponder)
        case pingWaiting(PingInitiator)
        case perfServing(PerfServer)
        /// Sending bulk bytes (perf download as server) or waiting for them (perf client).
        case perfTransfer
        /// The peer's pubsub stream: RPCs in, nothing out.
        case pubsubReading(RPCFrameReader)
        /// Our pubsub stream to the peer: RPCs out; anything the peer sends on it is ignored.
        case pubsubWriting
        /// A reconciliation (either side may have opened it); frames go to `onReconcileFrame`.
        case reconcile(LengthPrefixedReader)
    }

    private enum OutboundPurpose { case identify, ping, perf, pubsub, reconcile }

    let number: Int
    let direction: Direction
    let connection: StreamConnection
    /// The address we dialed (outbound) or the peer's socket address (inbound).
    let address: String
    let expectedPeer: PeerID?
    private(set) var remotePeer: PeerID?
    private(set) var state: PeerState
    private(set) var identified: IdentifyMessage?
    private(set) var lastRTT: Duration?
    private(set) var openedAt: Instant

    private let local: LocalPeer
    private let logger: Logger
    private var upgrade: ConnectionUpgrade?
    private var noise: NoiseSession?
    private var yamux: YamuxSession?
    private var streams: [StreamID: StreamRole] = [:]
    private var pingCompletions: [StreamID: (Result<Duration, PeerError>) -> Void] = [:]
    private var perfRuns: [StreamID: PerfRun] = [:]
    /// Streams with bulk bytes still to send, and how many.
    private var bulk: [StreamID: Int] = [:]
    private var closed = false

    var onUpgraded: ((PeerConnection) -> Void)?
    var onIdentified: ((PeerConnection) -> Void)?
    var onRTT: ((PeerConnection, Duration) -> Void)?
    var onClosed: ((PeerConnection, String) -> Void)?
    /// The peer speaks pubsub (the protocol given): its stream or ours was agreed, whichever
    /// came first. RPCs sent before our stream is open wait for it.
    var onPubsubReady: ((PeerConnection, PubsubProtocolID) -> Void)?
    var onPubsubRPC: ((PeerConnection, PubsubRPC) -> Void)?

    /// A reconcile stream was agreed (`initiator`: we opened it).
    var onReconcileStream: ((PeerConnection, StreamID, _ initiator: Bool) -> Void)?
    var onReconcileFrame: ((PeerConnection, StreamID, [UInt8]) -> Void)?
    /// The stream ended: nil when the peer closed it normally, else why it failed.
    var onReconcileEnded: ((PeerConnection, StreamID, String?) -> Void)?
    /// A reconciliation is running on this connection (`peers` shows Syncing).
    var syncing = false

    private var pubsubOutbound: StreamID?
    private var pubsubInbound: StreamID?
    private(set) var pubsubProtocol: PubsubProtocolID?
    /// Frames sent before our pubsub stream is agreed (it may not even be open yet: the
    /// peer's stream and its first RPC can arrive in the same read as the handshake's end).
    private var pubsubWaiting: [[UInt8]] = []
    /// The peer refused every pubsub protocol on our stream: nothing to wait for.
    private var pubsubRefused = false

    init(number: Int, direction: Direction, connection: StreamConnection, address: String, expectedPeer: PeerID?,
         local: LocalPeer, logger: Logger, now: Instant) {
        self.number = number
        self.direction = direction
        self.connection = connection
        self.address = address
        self.expectedPeer = expectedPeer
        self.local = local
        self.logger = logger
        self.openedAt = now
        state = direction == .outbound ? .connecting : .handshaking
        upgrade = ConnectionUpgrade(role: direction == .outbound ? .dialer : .listener, identity: local.identity,
                                    noiseStatic: local.noiseStatic, ephemeral: .generate(), expectedPeer: expectedPeer)
        connection.onRead = { [weak self] ring in
            guard let self else { return }
            let bytes = ring.read(ring.readableBytes)
            self.received(bytes)
        }
        connection.onClose = { [weak self] reason in
            self?.finish(Self.describe(reason))
        }
        connection.onWritable = { [weak self] in
            self?.topUpBulk()
        }
        if direction == .outbound {
            connection.onConnected = { [weak self] in self?.begin() }
        } else {
            begin()
        }
    }

    var label: String { remotePeer.map { "\($0)" } ?? expectedPeer.map { "\($0)" } ?? address }

    private func begin() {
        guard !closed, var upgrade else { return }
        state = .handshaking
        connection.write(upgrade.start())
        self.upgrade = upgrade
    }

    /// Closes the connection; `reason` is logged and shown in `peers`.
    func close(_ reason: String) {
        guard !closed else { return }
        if var yamux {
            yamux.goAway(code: 0)
            self.yamux = yamux
            flush()
        }
        connection.close()
        finish(reason)
    }

    private func finish(_ reason: String) {
        guard !closed else { return }
        closed = true
        state = remotePeer != nil && state == .connected ? .disconnected : .failed
        for id in Array(pingCompletions.keys) { finishPing(id, .failure(.dialFailed(address: address, reason: reason))) }
        for (_, run) in perfRuns { run.completion(.failure(.dialFailed(address: address, reason: reason))) }
        perfRuns.removeAll()
        onClosed?(self, reason)
    }

    private static func describe(_ reason: CloseReason) -> String {
        switch reason {
        case .endOfFile: "peer closed the connection"
        case .closedLocally: "closed"
        case .outputOverflow: "peer stopped reading (output buffer full)"
        case .error(let errno): "\(errno)"
        }
    }

    // MARK: - Bytes in

    private func received(_ bytes: [UInt8]) {
        guard !closed else { return }
        do {
            if var upgrade {
                let output = try upgrade.receivedBytes(bytes)
                self.upgrade = upgrade
                if !output.send.isEmpty { connection.write(output.send) }
                state = PeerState(rawValue: upgrade.phase) ?? state
                if let upgraded = output.upgraded {
                    try becomeMuxed(upgraded)
                }
                return
            }
            guard var noise, var yamux else { return }
            let plaintext = try noise.decrypt(bytes)
            self.noise = noise
            let events = try yamux.receivedBytes(plaintext)
            self.yamux = yamux
            for event in events { try handle(event) }
            topUpBulk()
            pumpBacklog()
            flush()
        } catch {
            logger.info("connection \(number) to \(label) (\(address)) failed: \(error)")
            close("\(error)")
        }
    }

    private func becomeMuxed(_ upgraded: ConnectionUpgrade.Upgraded) throws {
        upgrade = nil
        noise = upgraded.session
        remotePeer = upgraded.remotePeer
        yamux = YamuxSession(role: direction == .outbound ? .client : .server)
        state = .identifying
        logger.debug("connection \(number): secured with \(upgraded.remotePeer) (\(address))")
        onUpgraded?(self)
        guard !closed else { return }
        // Our streams first, so that anything the early bytes trigger can use them.
        openStream(for: .identify)
        if openStream(for: .pubsub) == nil { pubsubRefused = true }
        if !upgraded.muxerBytes.isEmpty, var yamux {
            let events = try yamux.receivedBytes(upgraded.muxerBytes)
            self.yamux = yamux
            for event in events { try handle(event) }
        }
        flush()
    }

    private func handle(_ event: YamuxEvent) throws {
        switch event {
        case .inboundStream(let id):
            var negotiation = MultistreamNegotiation(role: .listener(supported: PeerConnection.servedProtocols))
            streams[id] = .negotiatingInbound(negotiation)
            write(negotiation.start(), on: id)
            streams[id] = .negotiatingInbound(negotiation)
        case .data(let id, let bytes):
            yamux?.consumed(bytes.count, on: id)
            if var run = perfRuns[id], case .perfTransfer? = streams[id] {
                if run.firstByteAt == nil { run.firstByteAt = Instant.now() }
                run.received += bytes.count
                perfRuns[id] = run
                return
            }
            try streamData(Array(bytes), on: id)
        case .remoteClosedWrite(let id):
            streamEnded(id)
        case .streamReset(let id), .streamClosed(let id):
            if id == pubsubOutbound { pubsubOutbound = nil; logger.debug("connection \(number): \(label) closed our pubsub stream") }
            if id == pubsubInbound { pubsubInbound = nil }
            if case .reconcile? = streams[id] {
                streams[id] = nil
                onReconcileEnded?(self, id, event == .streamReset(id) ? "the peer reset the stream" : "stream closed")
            }
            streams[id] = nil
            bulk[id] = nil
            if let run = perfRuns.removeValue(forKey: id), event == .streamReset(id) {
                run.completion(.failure(.dialFailed(address: address, reason: "perf stream reset by the peer")))
            }
            finishPing(id, .failure(.dialFailed(address: address, reason: "ping stream closed before the answer")))
        case .goAway(let code):
            logger.debug("connection \(number): peer sent GoAway \(code)")
            close("peer sent GoAway (code \(code))")
        default:
            break
        }
    }

    private func streamData(_ bytes: [UInt8], on id: StreamID) throws {
        guard let role = streams[id] else { return }
        switch role {
        case .negotiatingInbound(var negotiation):
            let output: MultistreamNegotiation.Output
            do { output = try negotiation.receivedBytes(bytes) } catch {
                logger.debug("connection \(number): stream negotiation failed: \(error)")
                reset(id)
                return
            }
            write(output.send, on: id)
            guard let agreement = output.agreement else { streams[id] = .negotiatingInbound(negotiation); return }
            switch agreement.protocolID {
            case PeerConnection.identifyProtocol:
                streams[id] = .identifyServed
                write(IdentifyResponder.response(identifyMessage()), on: id)
                try? yamux?.closeWrite(id)
            case PeerConnection.identifyPushProtocol:
                streams[id] = .identifyReading(IdentifyReader())
                if !agreement.remainder.isEmpty { try streamData(agreement.remainder, on: id) }
            case PerfProtocol.id:
                streams[id] = .perfServing(PerfServer())
                if !agreement.remainder.isEmpty { try streamData(agreement.remainder, on: id) }
            case PeerConnection.reconcileProtocol:
                streams[id] = .reconcile(LengthPrefixedReader(maxFrameBytes: PeerConnection.maxReconcileFrame))
                onReconcileStream?(self, id, false)
                if closed { return }
                if !agreement.remainder.isEmpty { try streamData(agreement.remainder, on: id) }
            case let proto where PubsubProtocolID(rawValue: proto) != nil:
                // One inbound pubsub stream per peer: a new one replaces the old (as go does).
                if let old = pubsubInbound, old != id { reset(old) }
                pubsubInbound = id
                streams[id] = .pubsubReading(RPCFrameReader(maxFrameBytes: PeerConnection.maxPubsubFrame))
                announcePubsub(PubsubProtocolID(rawValue: proto)!)
                if closed { return }
                if !agreement.remainder.isEmpty { try streamData(agreement.remainder, on: id) }
            default:  // ping
                streams[id] = .pingServing(PingResponder())
                if !agreement.remainder.isEmpty { try streamData(agreement.remainder, on: id) }
            }
        case .negotiatingOutbound(var negotiation, let purpose):
            let output: MultistreamNegotiation.Output
            do { output = try negotiation.receivedBytes(bytes) } catch {
                logger.debug("connection \(number): \(purpose) negotiation failed: \(error)")
                if purpose == .pubsub { pubsubRefused = true; pubsubWaiting.removeAll() }
                if purpose == .reconcile { onReconcileEnded?(self, id, "the peer does not speak \(PeerConnection.reconcileProtocol)") }
                reset(id)
                return
            }
            write(output.send, on: id)
            guard let agreement = output.agreement else { streams[id] = .negotiatingOutbound(negotiation, purpose: purpose); return }
            switch purpose {
            case .identify:
                streams[id] = .identifyReading(IdentifyReader())
            case .ping:
                let initiator = PingInitiator(payload: SecureRandom.bytes(32), now: Instant.now().nanoseconds)
                write(initiator.request(), on: id)
                streams[id] = .pingWaiting(initiator)
            case .perf:
                let download = UInt64(perfRuns[id]?.download ?? 0)
                write(PerfProtocol.header(downloadBytes: download), on: id)
                streams[id] = .perfTransfer
                bulk[id] = perfRuns[id]?.upload ?? 0
            case .pubsub:
                streams[id] = .pubsubWriting
                pubsubOutbound = id
                let proto = PubsubProtocolID(rawValue: agreement.protocolID) ?? .meshsub11
                logger.debug("connection \(number): pubsub with \(label) on \(proto.rawValue)")
                for frame in pubsubWaiting { enqueue(frame, on: id) }
                pubsubWaiting.removeAll()
                announcePubsub(proto)
            case .reconcile:
                streams[id] = .reconcile(LengthPrefixedReader(maxFrameBytes: PeerConnection.maxReconcileFrame))
                onReconcileStream?(self, id, true)
            }
            if !agreement.remainder.isEmpty { try streamData(agreement.remainder, on: id) }
        case .identifyServed, .perfTransfer, .pubsubWriting:
            break
        case .reconcile(var reader):
            let frames: [[UInt8]]
            do { frames = try reader.receivedBytes(bytes) } catch {
                reset(id)
                onReconcileEnded?(self, id, "\(error)")
                return
            }
            streams[id] = .reconcile(reader)
            for frame in frames {
                onReconcileFrame?(self, id, frame)
                if closed || streams[id] == nil { return }
            }
        case .pubsubReading(var reader):
            // A malformed or oversized RPC throws: the connection closes and the reason is logged.
            let frames = try reader.receivedBytes(bytes)
            streams[id] = .pubsubReading(reader)
            for frame in frames {
                let rpc = try PubsubRPC(decoding: frame)
                onPubsubRPC?(self, rpc)
                if closed { return }
            }
        case .perfServing(var server):
            server.receivedBytes(bytes)
            streams[id] = .perfServing(server)
        case .identifyReading(var reader):
            try reader.receivedBytes(bytes)
            streams[id] = .identifyReading(reader)
        case .pingServing(var responder):
            write(responder.receivedBytes(bytes), on: id)
            streams[id] = .pingServing(responder)
        case .pingWaiting(var initiator):
            if let result = try initiator.receivedBytes(bytes, now: Instant.now().nanoseconds) {
                let rtt = Duration.nanoseconds(Int64(result.rttNanoseconds))
                lastRTT = rtt
                onRTT?(self, rtt)
                finishPing(id, .success(rtt))
                try? yamux?.closeWrite(id)
                streams[id] = .identifyServed  // done; ignore anything else on it
            } else {
                streams[id] = .pingWaiting(initiator)
            }
        }
    }

    private func streamEnded(_ id: StreamID) {
        if case .perfTransfer? = streams[id], let run = perfRuns.removeValue(forKey: id) {
            let now = Instant.now()
            let first = run.firstByteAt ?? now
            run.completion(.success(PerfMeasurement(uploadBytes: run.upload, downloadBytes: run.received,
                                                    upload: first.duration(since: run.started), download: now.duration(since: first))))
            streams[id] = nil
            return
        }
        guard let role = streams[id] else { return }
        if case .reconcile = role {
            streams[id] = nil
            try? yamux?.closeWrite(id)
            onReconcileEnded?(self, id, nil)
            return
        }
        if case .perfServing(let server) = role {
            do {
                bulk[id] = Int(try server.receivedEndOfStream())
                streams[id] = .perfTransfer
            } catch {
                logger.debug("connection \(number): \(error)")
                reset(id)
            }
            return
        }
        if case .identifyReading(var reader) = role {
            do {
                let message = try reader.receivedEndOfStream()
                if let previous = identified { identified = message.merged(onto: previous) } else { identified = message }
                if state == .identifying { state = .connected }
                onIdentified?(self)
            } catch {
                logger.info("connection \(number): bad identify from \(label): \(error)")
            }
        }
        try? yamux?.closeWrite(id)
        streams[id] = nil
    }

    // MARK: - Bytes out

    @discardableResult
    private func openStream(for purpose: OutboundPurpose) -> StreamID? {
        guard var yamux else { return nil }
        do {
            let id = try yamux.openStream()
            self.yamux = yamux
            let proto: String
            switch purpose {
            case .identify: proto = PeerConnection.identifyProtocol
            case .ping: proto = PeerConnection.pingProtocol
            case .perf: proto = PerfProtocol.id
            case .pubsub: proto = ""
            case .reconcile: proto = PeerConnection.reconcileProtocol
            }
            let proposals = purpose == .pubsub ? PubsubProtocolID.allCases.map(\.rawValue) : [proto]
            var negotiation = MultistreamNegotiation(role: .dialer(proposals: proposals))
            write(negotiation.start(), on: id)
            streams[id] = .negotiatingOutbound(negotiation, purpose: purpose)
            return id
        } catch {
            logger.debug("connection \(number): cannot open a stream: \(error)")
            return nil
        }
    }

    /// Measures the round trip once (`/ipfs/ping/1.0.0`); the result arrives through `onRTT`.
    /// Runs `/perf/1.0.0` on a new stream: sends `upload` bytes, asks for `download` back.
    func perf(upload: Int, download: Int, completion: @escaping (Result<PerfMeasurement, PeerError>) -> Void) {
        guard yamux != nil, !closed else { return completion(.failure(.dialFailed(address: address, reason: "not connected"))) }
        guard let id = openStream(for: .perf) else {
            return completion(.failure(.dialFailed(address: address, reason: "cannot open a stream")))
        }
        perfRuns[id] = PerfRun(upload: upload, download: download, started: Instant.now(), completion: completion)
        flush()
    }

    /// Queues more bulk bytes while the muxer and the socket have room; a stream whose bytes
    /// are all queued is half-closed.
    private func topUpBulk() {
        guard !bulk.isEmpty, !closed else { return }
        for (id, remaining) in bulk {
            var left = remaining
            while left > 0, let pending = yamux?.pendingBytes(on: id), pending < PeerConnection.bulkQueuedInMuxer,
                  connection.pendingOutputBytes < PeerConnection.bulkQueuedInSocket {
                let n = min(PeerConnection.bulkChunk.count, left)
                write(n == PeerConnection.bulkChunk.count ? PeerConnection.bulkChunk : Array(PeerConnection.bulkChunk[0..<n]), on: id)
                left -= n
                flush()
            }
            if left == 0 {
                bulk[id] = nil
                try? yamux?.closeWrite(id)
            } else {
                bulk[id] = left
            }
        }
        flush()
    }

    /// Opens a reconcile stream; `onReconcileStream` follows once the peer agrees.
    func openReconcile() -> StreamID? {
        guard yamux != nil, !closed, let id = openStream(for: .reconcile) else { return nil }
        flush()
        return id
    }

    func sendReconcile(_ message: [UInt8], on id: StreamID) {
        guard !closed, case .reconcile? = streams[id] else { return }
        enqueue(LengthPrefixedReader.frame(message), on: id)
        flush()
    }

    /// Ends our side of a reconcile stream (the session is over) once its queue has drained.
    func finishReconcile(_ id: StreamID) {
        if backlog[id] != nil { closeWhenDrained.insert(id); return }
        try? yamux?.closeWrite(id)
        flush()
    }
    private var closeWhenDrained: Set<StreamID> = []

    /// Abandons a reconcile stream (the peer misbehaved, or a limit was hit).
    func abortReconcile(_ id: StreamID) {
        guard streams[id] != nil else { return }
        reset(id)
        flush()
    }

    private func announcePubsub(_ proto: PubsubProtocolID) {
        guard pubsubProtocol == nil else { return }
        pubsubProtocol = proto
        onPubsubReady?(self, proto)
    }

    /// Sends one RPC on our pubsub stream, or holds it until the stream is agreed.
    func sendPubsub(_ rpc: PubsubRPC) {
        guard !closed else { return }
        guard let id = pubsubOutbound else {
            if !pubsubRefused { pubsubWaiting.append(RPCFrameReader.frame(rpc.encoded())) }
            return
        }
        enqueue(RPCFrameReader.frame(rpc.encoded()), on: id)
        let waiting = queuedBytes(on: id)
        if waiting > PeerConnection.maxPubsubBacklog {
            logger.info("connection \(number): \(label) is not reading its pubsub stream (\(waiting) bytes waiting); closing")
            close("peer stopped reading pubsub messages")
            return
        }
        flush()
    }

    /// One ping on a new stream; `completion` gets the round trip or the reason it failed.
    func ping(completion: ((Result<Duration, PeerError>) -> Void)? = nil) {
        guard yamux != nil, !closed else {
            completion?(.failure(.dialFailed(address: address, reason: "not connected")))
            return
        }
        if let id = openStream(for: .ping), let completion { pingCompletions[id] = completion }
        flush()
    }

    private func finishPing(_ id: StreamID, _ result: Result<Duration, PeerError>) {
        pingCompletions.removeValue(forKey: id)?(result)
    }

    private func write(_ bytes: [UInt8], on id: StreamID) {
        guard !bytes.isEmpty, var yamux else { return }
        do {
            try yamux.write(bytes, on: id)
        } catch {
            logger.debug("connection \(number): write on stream \(id) refused: \(error)")
        }
        self.yamux = yamux
    }

    /// Bytes for a stream beyond what yamux should hold (its window plus a little): they wait
    /// here and go to yamux as the peer's window opens, so a large message is never refused.
    private var backlog: [StreamID: [UInt8]] = [:]
    static let muxerQueueTarget = 256 * 1024

    /// Queues `bytes` for `id` behind anything already waiting, then moves what fits to yamux.
    private func enqueue(_ bytes: [UInt8], on id: StreamID) {
        guard !bytes.isEmpty else { return }
        backlog[id, default: []] += bytes
        pumpBacklog()
    }

    /// Bytes waiting for a stream, in yamux and in the backlog.
    private func queuedBytes(on id: StreamID) -> Int { (yamux?.pendingBytes(on: id) ?? 0) + (backlog[id]?.count ?? 0) }

    private func pumpBacklog() {
        guard !backlog.isEmpty, yamux != nil else { return }
        for (id, waiting) in backlog {
            guard streams[id] != nil else { backlog[id] = nil; continue }
            var rest = waiting[...]
            while !rest.isEmpty, let pending = yamux?.pendingBytes(on: id), pending < PeerConnection.muxerQueueTarget {
                let n = min(rest.count, 64 * 1024)
                write(Array(rest.prefix(n)), on: id)
                rest = rest.dropFirst(n)
            }
            backlog[id] = rest.isEmpty ? nil : Array(rest)
            if rest.isEmpty, closeWhenDrained.remove(id) != nil { try? yamux?.closeWrite(id) }
        }
    }

    private func reset(_ id: StreamID) {
        yamux?.reset(id)
        streams[id] = nil
        finishPing(id, .failure(.dialFailed(address: address, reason: "ping stream refused")))
    }

    /// Encrypts whatever yamux has queued and hands it to the socket.
    private func flush() {
        guard !closed, var yamux, var noise else { return }
        let plaintext = yamux.takeOutput()
        self.yamux = yamux
        guard !plaintext.isEmpty else { return }
        do {
            connection.write(try noise.encrypt(plaintext))
            self.noise = noise
        } catch {
            close("\(error)")
        }
    }

    private func identifyMessage() -> IdentifyMessage {
        var observed: Multiaddr?
        if let colon = connection.remoteAddress.lastIndex(of: ":") {
            let host = connection.remoteAddress[..<colon].trimmingCharacters(in: "[]")
            let port = connection.remoteAddress[connection.remoteAddress.index(after: colon)...]
            observed = try? Multiaddr("/\(host.contains(":") ? "ip6" : "ip4")/\(host)/tcp/\(port)")
        }
        return IdentifyMessage(protocolVersion: "ipfs/0.1.0", agentVersion: ProductVersion.agent,
                               publicKey: local.identity.publicKey.libp2pProtobuf,
                               listenAddrs: local.listenAddresses.map(\.withoutPeerID), observedAddr: observed,
                               protocols: PeerConnection.servedProtocols, signedPeerRecord: nil)
    }
}

/// One perf run's result.
struct PerfMeasurement {
    let uploadBytes: Int
    let downloadBytes: Int
    /// From the stream's opening to the first byte back (the server answers after our EOF).
    let upload: Duration
    /// From the first byte back to the peer's EOF.
    let download: Duration
}

/// What every connection needs to know about this node.
final class LocalPeer {
    let identity: Ed25519PrivateKey
    let peerID: PeerID
    /// One Noise static key for the life of the process (py does the same; go makes one per
    /// handshake); never written to disk, as the spec advises.
    let noiseStatic: X25519KeyPair
    var listenAddresses: [Multiaddr] = []

    init(identity: Ed25519PrivateKey) {
        self.identity = identity
        peerID = identity.publicKey.peerID
        noiseStatic = .generate()
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        var s = self
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}
