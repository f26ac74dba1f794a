// libFuzzer target: any UDP payload on 5353, through the DNS decoder and the discovery
// machine (as a query from port 5353, as a legacy query, as a response). Must never trap or
// hang (compression-pointer loops, truncated records, oversize names, thousands of records).
// Decoded messages re-encode (when DNS can carry them) to bytes that decode and re-encode to
// the same bytes (labels are kept as text, so a label that is not UTF-8 is normalised once).

import MDNS
import Wire

nonisolated(unsafe) var discovery = MDNSDiscovery(.init(peerID: try! PeerID("12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq"),
                                                        peerName: "fuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzz",
                                                        addresses: [try! Multiaddr("/ip4/10.0.0.1/tcp/4001")]), now: 0)
nonisolated(unsafe) var clock: UInt64 = 0

@_cdecl("LLVMFuzzerTestOneInput")
public func mdnsFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let message = try? DNSMessage(decoding: bytes), let again = try? message.encoded() {
        precondition((try? DNSMessage(decoding: again).encoded()) == again, "DNS message did not round-trip")
    }
    clock += 500
    _ = discovery.received(bytes, from: "10.0.0.2", port: size % 3 == 0 ? 40000 : 5353, now: clock)
    _ = discovery.tick(now: clock)
    return 0
}
