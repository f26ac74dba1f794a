import Wire

/// One dial of a peer known at several addresses (issue 13): QUIC first, TCP
/// `DialRace.tcpDelay` later if QUIC has not finished by then (or at once if QUIC failed);
/// within a transport, each address in turn. The first leg secured wins, the other is closed.
final class DialRace {
    /// go-libp2p's and rust's "happy eyeballs" delay for the second transport.
    static let tcpDelay: Duration = .milliseconds(250)

    let peer: PeerID
    /// Connection numbers of the legs dialed so far.
    var members: [Int] = []
    /// The leg that was secured first.
    var winner: Int?
    var finished = false
    var tcpStarted = false
    /// Legs (transports) still trying addresses.
    var legsRunning = 0
    var lastError: PeerError?
    let completion: ((Result<PeerConnection, PeerError>) -> Void)?

    init(peer: PeerID, completion: ((Result<PeerConnection, PeerError>) -> Void)?) {
        self.peer = peer
        self.completion = completion
    }

    func finish(_ result: Result<PeerConnection, PeerError>) {
        guard !finished else { return }
        finished = true
        completion?(result)
    }
}

extension PeerManager {
    /// Dials `peer`, known at `addresses` (any order, with or without `/p2p/`): QUIC addresses
    /// first, TCP ones 250 ms later unless QUIC won by then. `completion` runs once, with the
    /// first connection identified, or the last error when every address failed.
    func dial(_ peer: PeerID, at addresses: [Multiaddr], completion: ((Result<PeerConnection, PeerError>) -> Void)? = nil) {
        if let existing = connection(to: peer) { return completion?(.success(existing)) ?? () }
        let usable = addresses.map { $0.withoutPeerID.appending(.p2p(peer)) }
        let quicLeg = quic == nil ? [] : usable.filter { TCPAddress.isQUIC($0) && (try? TCPAddress.quicEndpoint(of: $0)) != nil }
        let tcpLeg = !tcpEnabled ? [] : usable.filter { (try? TCPAddress.endpoint(of: $0)) != nil }
        guard !quicLeg.isEmpty || !tcpLeg.isEmpty else {
            return completion?(.failure(.unsupportedAddress(addresses.map(\.description).joined(separator: ", ")))) ?? ()
        }
        let race = DialRace(peer: peer, completion: completion)
        if quicLeg.isEmpty { return startTCP(tcpLeg, race: race) }
        startLeg(quicLeg, race: race, isQUIC: true, tcpLeg: tcpLeg)
        guard !tcpLeg.isEmpty else { return }
        loop.after(DialRace.tcpDelay) { [weak self] in
            guard let self, !race.finished, race.winner == nil, !race.tcpStarted else { return }
            self.logger.debug("QUIC to \(peer) has not connected in \(DialRace.tcpDelay); dialing TCP too")
            self.startTCP(tcpLeg, race: race)
        }
    }

    /// Tries one transport's addresses in turn.
    private func runLeg(_ addresses: ArraySlice<Multiaddr>, race: DialRace, isQUIC: Bool, tcpLeg: [Multiaddr]) {
        guard let address = addresses.first else {
            race.legsRunning -= 1
            // QUIC is out of addresses before the TCP delay: TCP at once.
            if isQUIC, !race.tcpStarted, !tcpLeg.isEmpty {
                startTCP(tcpLeg, race: race)
            } else if race.legsRunning == 0 {
                race.finish(.failure(race.lastError ?? .dialFailed(address: "\(race.peer)", reason: "no address answered")))
            }
            return
        }
        dial(address, keep: false, race: race) { [weak self] result in
            switch result {
            case .success(let connection):
                race.finish(.success(connection))
            case .failure(let error):
                race.lastError = error
                guard let self, !race.finished, race.winner == nil || self.connections[race.winner!] == nil else { return }
                self.runLeg(addresses.dropFirst(), race: race, isQUIC: isQUIC, tcpLeg: tcpLeg)
            }
        }
    }

    private func startLeg(_ addresses: [Multiaddr], race: DialRace, isQUIC: Bool, tcpLeg: [Multiaddr]) {
        race.legsRunning += 1
        runLeg(addresses[...], race: race, isQUIC: isQUIC, tcpLeg: tcpLeg)
    }

    private func startTCP(_ tcpLeg: [Multiaddr], race: DialRace) {
        race.tcpStarted = true
        startLeg(tcpLeg, race: race, isQUIC: false, tcpLeg: [])
    }

    /// A connection was secured: if it is a leg of a race, the first leg wins and the others
    /// close. Returns false when this connection lost (it is being closed).
    func settleRace(won connection: PeerConnection) -> Bool {
        guard let race = races[connection.number] else { return true }
        if let winner = race.winner, winner != connection.number, connections[winner] != nil {
            logger.debug("connection \(connection.number) (\(connection.transport)) to \(race.peer) lost the race to connection \(winner)")
            if let survivor = connections[winner] { movePendingConnects(from: connection, to: survivor) }
            connection.close("another transport to the same peer connected first")
            return false
        }
        race.winner = connection.number
        for number in race.members where number != connection.number {
            guard let other = connections[number], other.remotePeer == nil else { continue }
            movePendingConnects(from: other, to: connection)
            other.close("\(connection.transport) connected first")
        }
        return true
    }
}
