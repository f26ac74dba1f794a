import ControlProtocol
import JSON
import Testing
@testable import p2p_syncctl

/// Issue 17 for people: `peers` shows each peer's clock offset, `status` a `clock:` line that
/// leads with the trouble when this node's clock is ahead.
struct ClockFormatTests {
    static let peer = "12D3KooWM6CgA9iBFZmcYAHA6A2qvbAxqfkmrYiRQuz3XEsk4Ksv"

    @Test func peersShowTheClockOffsetAndRefusals() {
        let result: JSON = ["peers": [[
            "peer_id": .string(Self.peer), "state": "Connected", "transport": "quic", "rtt_ms": .double(0.4), "agent": "p2p-sync/0.1.0",
            "clock_offset_ms": .double(299_997.8), "clock_samples": 2, "writes_refused_for_clock": 3,
        ]]]
        let text = HumanFormat.render(result, for: .peers)
        #expect(text == "\(Self.peer)  Connected  quic  rtt 0.4 ms  clock +300.0 s  p2p-sync/0.1.0  (3 of its writes refused here for their clock)\n")
    }

    @Test func aClockAheadLeadsTheStatusLine() {
        let clock: JSON = ["limit_ms": 60_000, "measured_peers": 2, "ahead": true, "ahead_of_peers_ms": .double(300_001.2),
                           "local_writes_refused": 1, "remote_writes_refused": 0, "refused_writes_kept_out": 0,
                           "our_writes_refused_by_peers": 4]
        #expect(HumanFormat.clockLine(clock) == "AHEAD OF PEERS +300.0 s from the median of 2 peers (limit 60 s): local writes refused; fix this clock (timedatectl), 1 local write refused, 0 remote writes refused for their clock, 4 of our writes refused by peers")
        let fine: JSON = ["limit_ms": 2_500, "measured_peers": 1, "ahead": false, "ahead_of_peers_ms": .double(-120.0),
                          "local_writes_refused": 0, "remote_writes_refused": 2, "refused_writes_kept_out": 1,
                          "our_writes_refused_by_peers": 0]
        #expect(HumanFormat.clockLine(fine) == "-0.1 s from the median of 1 peer (limit 2.5 s), 0 local writes refused, 2 remote writes refused for their clock, 1 kept out once no longer ahead")
        #expect(HumanFormat.clockLine(["limit_ms": 60_000, "measured_peers": 0, "ahead": false]) == "no peer measured (limit 60 s)")
    }

    @Test func aClockOffsetThatRoundsToZeroHasNoMinusSign() {
        #expect(HumanFormat.signedSeconds(-0.02) == "+0.0 s")
        #expect(HumanFormat.signedSeconds(-60) == "-0.1 s")
    }
}
