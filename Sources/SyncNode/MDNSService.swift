#if canImport(Glibc)
import Glibc
#endif
import JSON
import MDNS
import Reactor
import Wire

/// mDNS on the loop: one UDP socket on 0.0.0.0:5353 shared with other responders, joined to
/// 224.0.0.251 on every interface that is up and multicast-capable (rescanned every 5 s), the
/// discovery machine fed with its packets and timers, and discovered peers handed on.
final class MDNSService {
    static let group = "224.0.0.251"
    static let groupV6 = "ff02::fb"
    static let port: UInt16 = 5353
    static let rescanInterval: Duration = .seconds(5)

    /// Per interface, what `doctor` reports.
    struct InterfaceState {
        var interface: InterfaceAddresses.Interface
        var joined = false
        var joinError: String?
        var sent = 0
        var sendErrors = 0
        var lastSendError: String?
        var received = 0
    }

    private let reactor: Reactor
    private let logger: Logger
    private(set) var machine: MDNSDiscovery
    private(set) var socket: DatagramSocket?
    /// IPv6 (ff02::fb), where IPv6 is up; nil if the host has no IPv6.
    private var socketV6: DatagramSocket?
    private(set) var bindError: String?
    private(set) var interfaces: [String: InterfaceState] = [:]
    /// Per interface name, IPv6 multicast: joined, packets sent, errors.
    private(set) var interfacesV6: [String: (index: UInt32, joined: Bool, sent: Int, sendErrors: Int, received: Int)] = [:]
    private var tickTimer: TimerID?
    private var rescanTimer: TimerID?
    private(set) var duplicateOfSelf: String?
    /// Peers found and their addresses, as long as their records live.
    var found: [PeerID: [Multiaddr]] { machine.known.mapValues(\.addresses) }
    var counters: MDNSDiscovery.Counters { machine.counters }

    var onDiscovered: ((PeerID, [Multiaddr]) -> Void)?
    var onDeparted: ((PeerID) -> Void)?

    init(reactor: Reactor, peerID: PeerID, addresses: [Multiaddr], logger: Logger) {
        self.reactor = reactor
        self.logger = logger
        var random = SystemRandomNumberGenerator()
        let name = MDNSDiscovery.randomPeerName(count: 32, using: &random)
        machine = MDNSDiscovery(.init(peerID: peerID, peerName: name, addresses: MDNSService.advertised(addresses)),
                                now: reactor.now.nanoseconds / 1_000_000)
    }

    /// Addresses worth announcing on a LAN: not loopback.
    static func advertised(_ addresses: [Multiaddr]) -> [Multiaddr] {
        addresses.map(\.withoutPeerID).filter { address in
            !address.components.contains { if case .ip4(let b) = $0 { return b.first == 127 }; return false }
        }
    }

    private var now: UInt64 { reactor.now.nanoseconds / 1_000_000 }

    func start() {
        do {
            let socket = try reactor.bindUDP(host: "0.0.0.0", port: MDNSService.port, reuseAddress: true)
            try socket.setMulticast(ttl: 255, loop: true)
            socket.onDatagram = { [unowned self] bytes, host, port in self.received(bytes, from: host, port: port) }
            self.socket = socket
        } catch {
            bindError = "\(error)"
            logger.warning("mDNS is off: cannot bind UDP \(MDNSService.port): \(error)")
            return
        }
        do {
            let v6 = try reactor.bindUDP(host: "::", port: MDNSService.port, reuseAddress: true)
            try v6.setMulticastV6(hops: 255, loop: true)
            v6.onDatagram = { [unowned self] bytes, host, port in self.receivedV6(bytes, from: host, port: port) }
            socketV6 = v6
        } catch {
            logger.debug("mDNS over IPv6 is off: \(error)")
        }
        rescan()
        schedule()
    }

    func stop() {
        if let tickTimer { reactor.cancel(tickTimer) }
        if let rescanTimer { reactor.cancel(rescanTimer) }
        send(machine.stop().packets)
        socket?.close()
        socket = nil
        socketV6?.close()
        socketV6 = nil
    }

    func setAddresses(_ addresses: [Multiaddr]) { machine.setAddresses(MDNSService.advertised(addresses)) }

    /// Joins the group on new interfaces, forgets vanished ones, and queries again on a change.
    private func rescan() {
        guard let socket else { return }
        let current = InterfaceAddresses.interfaces()
        var changed = false
        for interface in current {
            let key = "\(interface.name) \(interface.address)"
            var state = interfaces[key] ?? InterfaceState(interface: interface)
            state.interface = interface
            if interface.up && interface.multicast && !interface.loopback && !state.joined {
                do {
                    try socket.joinMulticast(group: MDNSService.group, interface: interface.address)
                    state.joined = true
                    state.joinError = nil
                    changed = true
                    logger.debug("mDNS: joined \(MDNSService.group) on \(interface.name) (\(interface.address))")
                } catch {
                    state.joinError = "\(error)"
                }
            }
            interfaces[key] = state
        }
        for (key, state) in interfaces where !current.contains(where: { "\($0.name) \($0.address)" == key }) {
            if state.joined { socket.leaveMulticast(group: MDNSService.group, interface: state.interface.address) }
            interfaces[key] = nil
        }
        if let v6 = socketV6 {
            let current6 = InterfaceAddresses.ipv6Interfaces()
            for interface in current6 where interface.up && interface.multicast && !interface.loopback && interfacesV6[interface.name] == nil {
                do {
                    try v6.joinMulticastV6(group: MDNSService.groupV6, interfaceIndex: interface.index)
                    interfacesV6[interface.name] = (interface.index, true, 0, 0, 0)
                    changed = true
                    logger.debug("mDNS: joined \(MDNSService.groupV6) on \(interface.name)")
                } catch {
                    interfacesV6[interface.name] = (interface.index, false, 0, 0, 0)
                }
            }
            for (name, state) in interfacesV6 where !current6.contains(where: { $0.name == name && $0.index == state.index }) {
                if state.joined { v6.leaveMulticastV6(group: MDNSService.groupV6, interfaceIndex: state.index) }
                interfacesV6[name] = nil
            }
        }
        if changed {
            machine.requery(now: now)
            schedule()
        }
        rescanTimer = reactor.schedule(after: MDNSService.rescanInterval) { [weak self] in self?.rescan() }
    }

    private func schedule() {
        if let tickTimer { reactor.cancel(tickTimer) }
        let delay = machine.nextDeadline > now ? machine.nextDeadline - now : 0
        tickTimer = reactor.schedule(after: .milliseconds(Int64(min(delay, 60_000)))) { [weak self] in
            guard let self else { return }
            self.tickTimer = nil
            self.handle(self.machine.tick(now: self.now))
            self.schedule()
        }
    }

    private func received(_ bytes: [UInt8], from host: String, port: UInt16) {
        for key in interfaces.keys where interfaces[key]!.interface.contains(host) { interfaces[key]!.received += 1 }
        handle(machine.received(bytes, from: host, port: port, now: now))
    }

    private func receivedV6(_ bytes: [UInt8], from host: String, port: UInt16) {
        // Which interface it came in on is not known without IPV6_PKTINFO; count it once.
        if let name = interfacesV6.keys.sorted().first(where: { interfacesV6[$0]!.joined }) { interfacesV6[name]!.received += 1 }
        handle(machine.received(bytes, from: host, port: port, now: now))
    }

    private func handle(_ output: MDNSDiscovery.Output) {
        send(output.packets)
        for event in output.events {
            switch event {
            case .discovered(let peer, let addresses):
                logger.info("mDNS: found \(peer) at \(addresses.map(\.description).joined(separator: ", "))")
                onDiscovered?(peer, addresses)
            case .departed(let peer):
                logger.info("mDNS: \(peer) left")
                onDeparted?(peer)
            case .duplicateOfSelf(let name):
                if duplicateOfSelf == nil {
                    logger.warning("mDNS: another node answers with this node's peer ID (its mDNS name is \(name)): two nodes share one identity.key")
                }
                duplicateOfSelf = name
            }
        }
    }

    /// Multicast goes out on every joined interface; a unicast answer goes straight back.
    private func send(_ packets: [MDNSDiscovery.Packet]) {
        guard let socket else { return }
        for packet in packets {
            if let target = packet.unicastTo {
                // A link-local IPv6 source needs its scope, which we do not have: it gets the multicast answer.
                if target.host.contains(":") {
                    if !target.host.lowercased().hasPrefix("fe80") { try? socketV6?.send(packet.bytes, to: target.host, port: target.port) }
                } else {
                    try? socket.send(packet.bytes, to: target.host, port: target.port)
                }
                continue
            }
            if let v6 = socketV6 {
                for name in interfacesV6.keys.sorted() where interfacesV6[name]!.joined {
                    do {
                        try v6.setMulticastInterfaceV6(interfacesV6[name]!.index)
                        try v6.send(packet.bytes, to: MDNSService.groupV6, port: MDNSService.port)
                        interfacesV6[name]!.sent += 1
                    } catch {
                        interfacesV6[name]!.sendErrors += 1
                    }
                }
            }
            for key in interfaces.keys.sorted() where interfaces[key]!.joined {
                do {
                    try socket.setMulticastInterface(interfaces[key]!.interface.address)
                    try socket.send(packet.bytes, to: MDNSService.group, port: MDNSService.port)
                    interfaces[key]!.sent += 1
                } catch {
                    interfaces[key]!.sendErrors += 1
                    interfaces[key]!.lastSendError = "\(error)"
                }
            }
        }
    }

}
