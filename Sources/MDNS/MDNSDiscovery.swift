import Wire

/// mDNS peer discovery as a state machine (libp2p-wire.md section 9): answers queries for
/// libp2p's `_p2p._udp.local` (PTR, then TXT `dnsaddr=` strings, SRV and A records in one
/// packet, as go does, which every implementation reads) and for the DNS-SD service
/// `_p2p-sync._tcp.local` (PTR, SRV, TXT `peerid=`, A), and browses both. Bytes and time in;
/// packets to send and discovered or departed peers out. The owner does the sockets.
public struct MDNSDiscovery {
    public static let libp2pService = DNSName("_p2p._udp.local")
    public static let syncService = DNSName("_p2p-sync._tcp.local")
    public static let servicesMeta = DNSName("_services._dns-sd._udp.local")

    public struct Configuration: Sendable {
        public var peerID: PeerID
        /// Random `[a-z0-9]`, 32 to 63 characters (not the peer ID: the spec says so).
        public var peerName: String
        /// Our dialable addresses (without `/p2p/`); the TCP port is taken from them.
        public var addresses: [Multiaddr]
        public var ttlSeconds: UInt32 = 120
        public var firstQueryDelayMillis: UInt64 = 0
        public var maxQueryIntervalMillis: UInt64 = 60_000
        /// Keep each packet under this (one Ethernet frame with IP and UDP headers).
        public var maxPacketBytes = 1400

        public init(peerID: PeerID, peerName: String, addresses: [Multiaddr]) {
            self.peerID = peerID
            self.peerName = peerName
            self.addresses = addresses
        }
    }

    public enum Event: Equatable, Sendable {
        /// A peer answered (or announced) with these addresses, each ending in `/p2p/<id>`.
        case discovered(PeerID, [Multiaddr])
        /// A peer said goodbye (TTL 0) or its records expired.
        case departed(PeerID)
        /// Another host answers with our own peer ID: two nodes share one identity.
        case duplicateOfSelf(peerName: String)
    }

    public struct Packet: Equatable, Sendable {
        public var bytes: [UInt8]
        /// nil: to the multicast group; else a legacy unicast answer to this host and port.
        public var unicastTo: (host: String, port: UInt16)?
        public static func == (a: Packet, b: Packet) -> Bool { a.bytes == b.bytes && a.unicastTo?.host == b.unicastTo?.host && a.unicastTo?.port == b.unicastTo?.port }
    }

    public struct Output: Sendable {
        public var packets: [Packet] = []
        public var events: [Event] = []
    }

    public struct Counters: Equatable, Sendable {
        public var queriesSent = 0
        public var queriesAnswered = 0
        public var responsesReceived = 0
        public var peersDiscovered = 0
        public var malformedPackets = 0
    }

    public private(set) var configuration: Configuration
    public private(set) var counters = Counters()
    /// Peers we know, with their addresses and when their records expire (ms).
    public private(set) var known: [PeerID: (addresses: [Multiaddr], expires: UInt64)] = [:]
    private var nextQueryAt: UInt64
    private var queryInterval: UInt64 = 1000
    private var announcementsLeft = 2
    private var nextAnnouncementAt: UInt64

    public init(_ configuration: Configuration, now: UInt64) {
        self.configuration = configuration
        nextQueryAt = now + configuration.firstQueryDelayMillis
        nextAnnouncementAt = now
    }

    /// When `tick` next has something to do.
    public var nextDeadline: UInt64 {
        var t = nextQueryAt
        if announcementsLeft > 0 { t = min(t, nextAnnouncementAt) }
        for peer in known.values { t = min(t, peer.expires) }
        return t
    }

    public mutating func setAddresses(_ addresses: [Multiaddr]) {
        configuration.addresses = addresses
    }

    // MARK: - Time

    /// Queries on a back-off schedule (1 s, doubling, up to 60 s), the two announcements at
    /// start, and expiry of peers whose records ran out.
    public mutating func tick(now: UInt64) -> Output {
        var output = Output()
        if announcementsLeft > 0, now >= nextAnnouncementAt {
            announcementsLeft -= 1
            nextAnnouncementAt = now + 1000
            if let packet = try? response(for: [Self.libp2pService, Self.syncService], ttl: configuration.ttlSeconds, id: 0, question: nil) {
                output.packets.append(Packet(bytes: packet))
            }
        }
        if now >= nextQueryAt {
            output.packets.append(Packet(bytes: Self.query()))
            counters.queriesSent += 1
            nextQueryAt = now + queryInterval
            queryInterval = min(queryInterval * 2, configuration.maxQueryIntervalMillis)
        }
        for (peer, entry) in known where entry.expires <= now {
            known[peer] = nil
            output.events.append(.departed(peer))
        }
        return output
    }

    /// Queries again soon (e.g. a new interface came up).
    public mutating func requery(now: UInt64) {
        queryInterval = 1000
        nextQueryAt = now
    }

    /// The goodbye: our records with TTL 0, so others forget us at once.
    public mutating func stop() -> Output {
        var output = Output()
        if let packet = try? response(for: [Self.libp2pService, Self.syncService], ttl: 0, id: 0, question: nil) {
            output.packets.append(Packet(bytes: packet))
        }
        return output
    }

    /// One query for both services.
    public static func query() -> [UInt8] {
        let message = DNSMessage(questions: [DNSQuestion(name: libp2pService, type: DNSType.ptr),
                                             DNSQuestion(name: syncService, type: DNSType.ptr)])
        return (try? message.encoded()) ?? []
    }

    // MARK: - Packets in

    /// A packet from `host:port`. Malformed packets are counted and dropped.
    public mutating func received(_ bytes: [UInt8], from host: String, port: UInt16, now: UInt64) -> Output {
        var output = Output()
        let message: DNSMessage
        do { message = try DNSMessage(decoding: bytes) } catch {
            counters.malformedPackets += 1
            return output
        }
        if message.isResponse {
            counters.responsesReceived += 1
            readResponse(message, now: now, into: &output)
        } else {
            answer(message, host: host, port: port, into: &output)
        }
        return output
    }

    private mutating func answer(_ query: DNSMessage, host: String, port: UInt16, into output: inout Output) {
        var services: [DNSName] = []
        var meta = false
        for q in query.questions where q.type == DNSType.ptr || q.type == DNSType.any {
            if q.name == Self.libp2pService || q.name == Self.syncService { services.append(q.name) }
            if q.name == Self.servicesMeta { meta = true }
        }
        guard !services.isEmpty || meta else { return }
        // A query from a port other than 5353 is a legacy unicast query (RFC 6762 section 6.7):
        // answer it directly, with its ID and questions.
        let legacy = port != 5353
        do {
            var bytes: [UInt8]
            if meta && services.isEmpty {
                var m = DNSMessage(flags: DNSMessage.responseFlags)
                for service in [Self.libp2pService, Self.syncService] {
                    m.answers.append(DNSRecord(name: Self.servicesMeta, data: .ptr(service), ttl: 4500))
                }
                bytes = try m.encoded()
            } else {
                bytes = try response(for: services, ttl: legacy ? min(10, configuration.ttlSeconds) : configuration.ttlSeconds,
                                     id: legacy ? query.id : 0, question: legacy ? query.questions : nil)
            }
            output.packets.append(Packet(bytes: bytes, unicastTo: legacy ? (host, port) : nil))
            counters.queriesAnswered += 1
        } catch {
            counters.malformedPackets += 1
        }
    }

    /// Our records for `services`, in one packet: PTR answers, then TXT, SRV and A records.
    func response(for services: [DNSName], ttl: UInt32, id: UInt16, question: [DNSQuestion]?) throws(DNSError) -> [UInt8] {
        var message = DNSMessage(id: id, flags: DNSMessage.responseFlags, questions: question ?? [])
        let host = DNSName([configuration.peerName, "local"])
        let port = configuration.addresses.lazy.compactMap(Self.tcpPort).first ?? 0
        let selfID = configuration.peerID.description
        for service in services {
            if service == Self.libp2pService {
                let instance = Self.libp2pService.prepending(configuration.peerName)
                message.answers.append(DNSRecord(name: Self.libp2pService, data: .ptr(instance), ttl: ttl))
                // One TXT record, one `dnsaddr=` string per address (each at most 255 bytes).
                let strings = configuration.addresses.map { Array("dnsaddr=\($0.withoutPeerID)/p2p/\(selfID)".utf8) }.filter { $0.count <= 255 }
                message.additionals.append(DNSRecord(name: instance, data: .txt(strings), ttl: ttl, cacheFlush: true))
                message.additionals.append(DNSRecord(name: instance, data: .srv(priority: 0, weight: 0, port: port, target: host), ttl: ttl, cacheFlush: true))
            } else if service == Self.syncService {
                let instance = Self.syncService.prepending(selfID)
                message.answers.append(DNSRecord(name: Self.syncService, data: .ptr(instance), ttl: ttl))
                message.additionals.append(DNSRecord(name: instance, data: .srv(priority: 0, weight: 0, port: port, target: host), ttl: ttl, cacheFlush: true))
                message.additionals.append(DNSRecord(name: instance, data: .txt([Array("txtvers=1".utf8), Array("peerid=\(selfID)".utf8)]), ttl: ttl, cacheFlush: true))
            }
        }
        for address in configuration.addresses {
            if let ip4 = Self.ipv4(address), !message.additionals.contains(where: { $0.data == .a(ip4) }) {
                message.additionals.append(DNSRecord(name: host, data: .a(ip4), ttl: ttl, cacheFlush: true))
            }
        }
        var bytes = try message.encoded()
        // Too many addresses for one packet: drop TXT strings from the end until it fits.
        while bytes.count > configuration.maxPacketBytes,
              let i = message.additionals.firstIndex(where: { if case .txt(let s) = $0.data { return s.count > 1 }; return false }),
              case .txt(var strings) = message.additionals[i].data {
            strings.removeLast()
            message.additionals[i].data = .txt(strings)
            bytes = try message.encoded()
        }
        return bytes
    }

    private mutating func readResponse(_ message: DNSMessage, now: UInt64, into output: inout Output) {
        let records = message.records
        var found: [PeerID: (addresses: [Multiaddr], ttl: UInt32)] = [:]
        func add(_ peer: PeerID, _ addresses: [Multiaddr], _ ttl: UInt32) {
            var entry = found[peer] ?? ([], ttl)
            for a in addresses where !entry.addresses.contains(a) { entry.addresses.append(a) }
            entry.ttl = min(entry.ttl, ttl)
            found[peer] = entry
        }
        for record in records {
            guard case .ptr(let target) = record.data else { continue }
            if record.name == Self.libp2pService {
                // go/py/js point at `<name>._p2p._udp.local`, rust at a bare `<name>`: both work.
                let txt = records.filter { $0.name == target && $0.type == DNSType.txt }
                var byPeer: [PeerID: [Multiaddr]] = [:]
                for string in txt.flatMap(\.txtStrings) where string.hasPrefix("dnsaddr") {
                    guard let eq = string.firstIndex(of: "="), let address = try? Multiaddr(String(string[string.index(after: eq)...])),
                          let peer = address.peerID else { continue }
                    byPeer[peer, default: []].append(address)
                }
                for (peer, addresses) in byPeer { add(peer, addresses, record.ttl) }
                if let peerName = target.labels.first, byPeer[configuration.peerID] != nil, peerName.lowercased() != configuration.peerName {
                    output.events.append(.duplicateOfSelf(peerName: peerName))
                }
            } else if record.name == Self.syncService {
                let txt = records.filter { $0.name == target && $0.type == DNSType.txt }.flatMap(\.txtStrings)
                guard let idText = txt.first(where: { $0.hasPrefix("peerid=") })?.dropFirst(7), let peer = try? PeerID(String(idText)) else { continue }
                var addresses: [Multiaddr] = []
                for srv in records where srv.name == target {
                    guard case .srv(_, _, let port, let host) = srv.data else { continue }
                    for a in records where a.name == host {
                        if case .a(let ip) = a.data, let address = try? Multiaddr("/ip4/\(IPAddressText.formatIPv4(ip))/tcp/\(port)/p2p/\(peer)") {
                            addresses.append(address)
                        }
                    }
                }
                add(peer, addresses, record.ttl)
            }
        }
        for (peer, entry) in found.sorted(by: { $0.key < $1.key }) where peer != configuration.peerID {
            if entry.ttl == 0 {
                if known.removeValue(forKey: peer) != nil { output.events.append(.departed(peer)) }
                continue
            }
            guard !entry.addresses.isEmpty else { continue }
            let previous = known[peer]
            known[peer] = (entry.addresses, now + UInt64(entry.ttl) * 1000)
            if previous == nil || previous!.addresses != entry.addresses {
                if previous == nil { counters.peersDiscovered += 1 }
                output.events.append(.discovered(peer, entry.addresses))
            }
        }
    }

    // MARK: - Helpers

    static func tcpPort(_ address: Multiaddr) -> UInt16? {
        for c in address.components { if case .tcp(let p) = c { return p } }
        return nil
    }

    static func ipv4(_ address: Multiaddr) -> [UInt8]? {
        for c in address.components { if case .ip4(let b) = c { return b } }
        return nil
    }

    /// A random peer name: `count` characters of `[a-z0-9]` from `random`.
    public static func randomPeerName<R: RandomNumberGenerator>(count: Int = 32, using random: inout R) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<count).map { _ in alphabet.randomElement(using: &random)! })
    }
}
