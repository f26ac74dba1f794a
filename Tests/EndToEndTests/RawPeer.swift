import Foundation
@testable import Noise
import P2PCrypto
@testable import Swarm
import Wire

/// A hand-driven TCP client for bad-input tests: blocking socket, optional libp2p upgrade,
/// then whatever bytes the test wants to send.
final class RawPeer {
    let fd: Int32
    var session: NoiseSession?

    init(port: UInt16) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { close(fd); throw RawPeerError.connectFailed(errno) }
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    /// Bytes available within `timeout` seconds; nil once the daemon closed the connection.
    func receive(timeout: Double) -> [UInt8]? {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, Int32(timeout * 1000)) > 0 else { return [] }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return n <= 0 ? nil : Array(buffer[0..<n])
    }

    /// Waits until the daemon closes the connection, reading and dropping what it sends.
    func waitForClose(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if receive(timeout: 0.2) == nil { return true }
        }
        return false
    }

    /// Runs the real upgrade as a dialer; leaves any bytes after it unread. With
    /// `badSignature`, our Noise payload signs a static key other than the one we use.
    func upgrade(badSignature: Bool = false) throws {
        var upgrade = ConnectionUpgrade(role: .dialer, identity: .generate(), noiseStatic: .generate(),
                                        ephemeral: .generate(), expectedPeer: nil)
        if badSignature { upgrade.pendingHandshake?.signedStaticKeyOverride = X25519KeyPair.generate().publicKey }
        send(upgrade.start())
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            guard let bytes = receive(timeout: 0.5) else { throw RawPeerError.closedDuringUpgrade }
            if bytes.isEmpty { continue }
            let output = try upgrade.receivedBytes(bytes)
            send(output.send)
            if let upgraded = output.upgraded {
                session = upgraded.session
                return
            }
        }
        throw RawPeerError.upgradeTimedOut
    }

    /// Sends plaintext through the Noise session.
    func sendEncrypted(_ plaintext: [UInt8]) throws {
        guard var s = session else { throw RawPeerError.notUpgraded }
        send(try s.encrypt(plaintext))
        session = s
    }
}

enum RawPeerError: Error {
    case connectFailed(Int32)
    case closedDuringUpgrade
    case upgradeTimedOut
    case notUpgraded
}
