import P2PCrypto
import QUIC
import Reactor
import Swarm
import Wire

/// One QUIC connection's share of a UDP socket: where its datagrams go, and how it leaves the
/// routing table. The `PeerConnection` that owns it sends through it.
final class QUICLink {
    let handle: Int
    let remote: SocketAddress
    let quic: QUICConnection
    weak var connection: PeerConnection?
    private unowned let listener: QUICTransport.Listener

    init(handle: Int, remote: SocketAddress, quic: QUICConnection, listener: QUICTransport.Listener) {
        self.handle = handle
        self.remote = remote
        self.quic = quic
        self.listener = listener
    }

    func send(_ datagrams: DatagramBatch) {
        datagrams.forEachDatagram { listener.send($0, to: remote) }
        listener.socket.flush()
    }

    func close() { listener.remove(handle) }
}

/// The QUIC v1 transport's I/O (issue 13): one UDP socket per listen address, shared by every
/// connection on it (our dials leave from it too, so peers see our listening port); each
/// datagram goes to the connection its connection ID names (`QUICEndpoint`), new client
/// Initials become inbound connections.
final class QUICTransport {
    /// One bound UDP socket and the connections on it.
    final class Listener {
        let socket: UDPSocket
        var endpoint: QUICEndpoint
        var links: [Int: QUICLink] = [:]
        unowned let transport: QUICTransport

        init(socket: UDPSocket, endpoint: QUICEndpoint, transport: QUICTransport) {
            self.socket = socket
            self.endpoint = endpoint
            self.transport = transport
        }

        func send(_ datagram: UnsafeRawBufferPointer, to remote: SocketAddress) {
            do { try socket.send(datagram, to: remote) } catch {
                transport.logger.debug("QUIC: cannot send a datagram to \(remote): \(error)")
            }
        }

        func remove(_ handle: Int) {
            links[handle] = nil
            endpoint.unregister(handle)
        }

        /// Connections accepted or dialed whose handshake has not finished.
        var halfOpen: Int { links.values.reduce(0) { $0 + ($1.quic.handshakeCompleted ? 0 : 1) } }
    }

    private let reactor: Reactor
    let tls: LibP2PQUICTLS
    fileprivate let logger: Logger
    private(set) var listeners: [Listener] = []
    private var nextHandle = 1
    /// A client Initial became a connection: the swarm adopts it (sets `link.connection`) or
    /// refuses it (closes the link).
    var onAccept: ((QUICLink) -> Void)?
    /// Initials that did not decrypt or were refused, and Retry or Version Negotiation replies.
    private(set) var initialsRefused = 0
    private(set) var retriesSent = 0

    init(reactor: Reactor, identity: Ed25519PrivateKey, logger: Logger) throws(QUICError) {
        self.reactor = reactor
        self.logger = logger
        tls = try LibP2PQUICTLS(identity: identity, wallClock: { Int64(WallClock.nowMillis() / 1000) })
    }

    /// Binds a UDP socket for `/ip4|ip6/HOST/udp/PORT/quic-v1`; returns the bound port.
    func listen(host: String, port: UInt16) throws(ReactorError) -> UInt16 {
        let socket = try reactor.openUDP(bindTo: try SocketAddress(host: host, port: port))
        let local = QUICAddress(host: socket.localAddress.host, port: socket.localAddress.port)!
        let endpoint = QUICEndpoint(local: local, tls: tls, random: { SecureRandom.bytes($0) })
        let listener = Listener(socket: socket, endpoint: endpoint, transport: self)
        socket.onDatagrams = { [unowned self, unowned listener] batch in self.received(batch, on: listener) }
        listeners.append(listener)
        return socket.localAddress.port
    }

    var now: UInt64 { reactor.now.nanoseconds }

    /// One receive batch: datagrams for existing connections are grouped per connection and
    /// handed over together (one answer per connection per batch); new Initials, replies and
    /// drops are dealt with in order.
    private func received(_ batch: UDPReceiveBatch, on listener: Listener) {
        var order: [Int] = []
        var grouped: [Int: [UnsafeRawBufferPointer]] = [:]
        for datagram in batch {
            let decision = listener.endpoint.route(datagram.payload, from: Self.quicAddress(datagram.source),
                                                   halfOpen: listener.halfOpen, now: now)
            switch decision {
            case .deliver(let handle):
                if grouped[handle] == nil { order.append(handle) }
                grouped[handle, default: []].append(datagram.payload)
            case .accept(let quic):
                accept(quic, datagram, on: listener)
            case .reply(let bytes):
                retriesSent += 1
                bytes.withUnsafeBytes { listener.send($0, to: datagram.source) }
            case .drop(let why):
                logger.trace("QUIC: dropped a datagram from \(datagram.source): \(why)")
            }
        }
        for handle in order {
            guard let link = listener.links[handle], let datagrams = grouped[handle] else { continue }
            link.connection?.receivedDatagrams(datagrams)
            if listener.links[handle] != nil { listener.endpoint.register(link.quic, as: handle) }
        }
        listener.socket.flush()
    }

    private func accept(_ quic: QUICConnection, _ datagram: UDPDatagram, on listener: Listener) {
        // The Initial must decrypt into a ClientHello before anything is kept: a forged one
        // costs no connection, no log line above debug.
        do { try quic.receive(datagram.payload, now: now) } catch {
            logger.debug("QUIC: refused an Initial from \(datagram.source): \(error)")
            initialsRefused += 1
            return
        }
        guard quic.receivedCryptoData else {
            logger.debug("QUIC: dropped an Initial from \(datagram.source) that does not decrypt")
            initialsRefused += 1
            return
        }
        let link = add(quic, remote: datagram.source, on: listener)
        onAccept?(link)
        guard link.connection != nil else {
            listener.remove(link.handle)
            return
        }
        if listener.links[link.handle] != nil { listener.endpoint.register(quic, as: link.handle) }
    }

    private func add(_ quic: QUICConnection, remote: SocketAddress, on listener: Listener) -> QUICLink {
        let link = QUICLink(handle: nextHandle, remote: remote, quic: quic, listener: listener)
        nextHandle += 1
        listener.links[link.handle] = link
        listener.endpoint.register(quic, as: link.handle)
        return link
    }

    /// A client connection to `host:port` from the listening socket of the same address family.
    func dial(host: String, port: UInt16, expectedPeer: PeerID?) throws(PeerError) -> QUICLink {
        let remote: SocketAddress
        do { remote = try SocketAddress(host: host, port: port) } catch {
            throw .dialFailed(address: "\(host):\(port)", reason: "\(error)")
        }
        guard let listener = listeners.first(where: { $0.socket.localAddress.family == remote.family }),
              let remoteAddress = QUICAddress(host: remote.host, port: port) else {
            throw .dialFailed(address: remote.text, reason: "no QUIC socket for that address family (is QUIC off?)")
        }
        let local = QUICAddress(host: listener.socket.localAddress.host, port: listener.socket.localAddress.port)!
        do {
            let quic = try QUICConnection(dialing: remoteAddress, from: local, expectedPeer: expectedPeer, tls: tls,
                                          now: now, random: { SecureRandom.bytes($0) })
            return add(quic, remote: remote, on: listener)
        } catch {
            throw .dialFailed(address: remote.text, reason: "\(error)")
        }
    }

    private static func quicAddress(_ address: SocketAddress) -> QUICAddress {
        QUICAddress(host: address.host, port: address.port) ?? QUICAddress(host: "0.0.0.0", port: 0)!
    }

    func close() {
        for listener in listeners { listener.socket.close() }
        listeners.removeAll()
    }
}
