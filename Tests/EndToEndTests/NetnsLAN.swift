import Foundation
import TestSupport

/// A LAN of network namespaces on a Linux bridge (DESIGN.md section 7): one namespace per
/// host with an `eth0` on the bridge, multicast on and routed. Every name carries a per-run
/// prefix, and `tearDown` (also run on deinit) removes all of it.
final class NetnsLAN: @unchecked Sendable {
    let prefix: String
    let bridge: String
    let subnet: String
    let namespaces: [String]
    private var blackholes: [(namespace: String, address: String)] = []
    private var tornDown = false

    static let ip = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "ip"

    /// Why namespaces cannot be used here (not root, no `ip`, the kernel refuses), or nil.
    static func unavailableReason() -> String? {
        guard getuid() == 0 else { return "network-namespace tests need root" }
        let probe = "p2sp" + String(UInt32.random(in: 0..<0xffffff), radix: 16)
        guard (try? run(["netns", "add", probe])) != nil else { return "the kernel refused to create a network namespace" }
        _ = try? run(["netns", "del", probe])
        return nil
    }

    init(hosts: Int) throws {
        let tag = "p2s" + String(UInt32.random(in: 0..<0xfffff), radix: 16)
        prefix = tag
        bridge = "\(tag)br"
        subnet = "10.201.\(Int.random(in: 1...254))"
        namespaces = (1...hosts).map { "\(tag)n\($0)" }
        do {
            try Self.run(["link", "add", bridge, "type", "bridge"])
            try Self.run(["link", "set", bridge, "up"])
            for (i, ns) in namespaces.enumerated() {
                let hostSide = "\(prefix)v\(i + 1)"
                try Self.run(["netns", "add", ns])
                try Self.run(["link", "add", hostSide, "type", "veth", "peer", "name", "eth0", "netns", ns])
                try Self.run(["link", "set", hostSide, "master", bridge])
                try Self.run(["link", "set", hostSide, "up"])
                try Self.run(["-n", ns, "addr", "add", "\(address(i))/24", "dev", "eth0"])
                try Self.run(["-n", ns, "link", "set", "eth0", "multicast", "on"])
                try Self.run(["-n", ns, "link", "set", "eth0", "up"])
                try Self.run(["-n", ns, "link", "set", "lo", "up"])
                try Self.run(["-n", ns, "route", "add", "224.0.0.0/4", "dev", "eth0"])
            }
        } catch {
            tearDown()
            throw error
        }
    }

    func address(_ host: Int) -> String { "\(subnet).\(host + 1)" }

    /// The command line that runs `executable` inside host `host`'s namespace.
    func launcher(_ host: Int) -> [String] { [Self.ip, "netns", "exec", namespaces[host]] }

    /// Drops every packet between the two groups (blackhole routes on both sides).
    func partition(_ a: [Int], _ b: [Int]) throws {
        for (from, to) in [(a, b), (b, a)] {
            for x in from {
                for y in to {
                    try Self.run(["-n", namespaces[x], "route", "add", "blackhole", "\(address(y))/32"])
                    blackholes.append((namespaces[x], address(y)))
                }
            }
        }
    }

    func heal() throws {
        for hole in blackholes { try Self.run(["-n", hole.namespace, "route", "del", "blackhole", "\(hole.address)/32"]) }
        blackholes.removeAll()
    }

    func tearDown() {
        guard !tornDown else { return }
        tornDown = true
        for ns in namespaces { _ = try? Self.run(["netns", "del", ns]) }
        _ = try? Self.run(["link", "del", bridge])
    }

    deinit { tearDown() }

    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ip)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        process.waitUntilExit()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard process.terminationStatus == 0 else { throw NetnsError.command(arguments, output) }
        return output
    }
}

enum NetnsError: Error, CustomStringConvertible {
    case command([String], String)
    var description: String {
        if case .command(let args, let output) = self { return "ip \(args.joined(separator: " ")) failed: \(output)" }
        return ""
    }
}
