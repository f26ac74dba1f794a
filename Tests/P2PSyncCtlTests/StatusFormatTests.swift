import ControlProtocol
import JSON
import Testing
@testable import p2p_syncctl

/// `p2p-syncctl status` for people: readable lines, no JSON (issue 11). The objects here are
/// shaped as Node.statusJSON, GossipService.statusJSON, ReconcileService.statusJSON and
/// MDNSService.statusJSON send them.
struct StatusFormatTests {
    static let peerA = "12D3KooWM6CgA9iBFZmcYAHA6A2qvbAxqfkmrYiRQuz3XEsk4Ksv"
    static let peerB = "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq"

    static func status(mdns: JSON, reconcilePeers: JSON = .object([:])) -> JSON {
        [
            "peer_id": .string(peerA), "state": "Connected", "uptime_seconds": 3725, "keys": 12, "tombstones": 1,
            "connections": 2, "connected_peers": 2, "topic": "p2p-sync",
            "listen_addrs": ["/ip4/127.0.0.1/tcp/4001", "/ip4/127.0.0.1/udp/4001/quic-v1"],
            "control_clients": 1, "local_writes": 5, "commits": 4, "remote_applied": 40, "remote_superseded": 2,
            "gossip": [
                "topic": "p2p-sync", "mesh_peers": [.string(peerA), .string(peerB)], "topic_peers": 5, "pubsub_peers": 6,
                "queued": 0, "published": 12, "received": 40, "duplicates": 3, "invalid": 0, "invalid_payloads": 0,
                "ignored": 0, "forwarded": 20, "sent_from_queue": 0, "queue_overflow": 0, "ihave_sent": 7,
                "iwant_sent": 1, "iwant_answered": 1, "heartbeats": 3725,
            ],
            "reconcile": ["running": 0, "completed": 4, "failed": 0, "interval_seconds": 30, "peers": reconcilePeers],
            "mdns": mdns,
        ]
    }

    @Test func sectionsAreLinesNotJSON() {
        let mdns: JSON = [
            "enabled": true, "interfaces": ["eth0"], "interfaces_ipv6": ["eth0"], "ipv6_packets_sent": 3,
            "ipv6_packets_received": 2, "queries_sent": 5, "queries_answered": 3, "responses_received": 4,
            "peers_found": 2, "malformed_packets": 0, "known": 2,
        ]
        let peers: JSON = [Self.peerB: [
            "at": "2026-11-30T12:00:00.000Z", "ms": .double(12.3), "entries_sent": 3, "entries_received": 5,
            "bytes_sent": 100, "bytes_received": 200, "rounds": 2, "equal": true,
        ]]
        let text = HumanFormat.render(Self.status(mdns: mdns, reconcilePeers: peers), for: .status)
        #expect(!text.contains("{") && !text.contains("}"), "\(text)")
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.contains("state: Connected"))
        #expect(lines.contains("keys: 12 (1 tombstone)"))
        #expect(lines.contains("connected peers: 2"))
        #expect(lines.contains("uptime: 1 h 2 min"))
        #expect(lines.contains("writes: 5 local in 4 commits; 40 from peers applied, 2 superseded"))
        #expect(lines.contains("gossip: topic p2p-sync, mesh 2 peers (12D3…sk4Ksv, 12D3…o7R3pq), 5 topic peers, 6 pubsub peers, "
                               + "published 12, received 40 (3 duplicates, 0 invalid, 0 with invalid payloads, 0 ignored), "
                               + "forwarded 20, queued 0, IHAVE sent 7, IWANT sent 1, answered 1, 3725 heartbeats"), "\(text)")
        #expect(lines.contains("reconcile: 4 sessions completed, 0 failed, 0 running, every 30 s"))
        #expect(lines.contains("  last with 12D3…o7R3pq: at 2026-11-30T12:00:00.000Z, 12.3 ms, 2 rounds, entries 3 sent / 5 received, "
                               + "bytes 100 sent / 200 received, replicas equal"), "\(text)")
        #expect(lines.contains("mdns: on, interfaces eth0, IPv6 on eth0, 5 queries sent, 3 answered, 4 responses received, "
                               + "2 peers found, 2 known, 0 malformed packets, IPv6 packets 3 sent / 2 received"), "\(text)")
    }

    @Test func mdnsOffIsOneWord() {
        let text = HumanFormat.render(Self.status(mdns: ["enabled": false]), for: .status)
        #expect(text.contains("\nmdns: off\n"), "\(text)")
        #expect(!text.contains("{"))
    }

    @Test func fieldsTheClientDoesNotKnowStillShow() {
        var status = Self.status(mdns: ["enabled": false]).objectValue!
        status["relay"] = ["reservations": 2, "mode": "client"]
        var gossip = status["gossip"]!.objectValue!
        gossip["graylisted"] = 1
        status["gossip"] = .object(gossip)
        let text = HumanFormat.render(.object(status), for: .status)
        #expect(text.contains("relay: mode client, reservations 2\n"), "\(text)")
        #expect(text.contains(", graylisted 1\n"), "\(text)")
        #expect(!text.contains("{"))
    }
}
