// libFuzzer target: the Kademlia message decoder (dht.proto) and the server that answers it.

import Kademlia
import Wire

/// A message that decodes must encode and decode to itself, fit the decoder's bounds, and stay
/// under the 16 KiB budget when encoded with it (unless its record alone is larger). The
/// server must answer it without trapping; a reply must round-trip too.
@_cdecl("LLVMFuzzerTestOneInput")
public func kadMessageFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let message = try? KadMessage(decoding: bytes) else { return 0 }
    precondition(message.closerPeers.count <= KadMessage.maxPeersPerList && message.providerPeers.count <= KadMessage.maxPeersPerList,
                 "decode kept more peers than the bound")
    precondition((message.closerPeers + message.providerPeers).allSatisfy { $0.addresses.count <= KadMessage.maxAddressesPerPeer },
                 "decode kept more addresses than the bound")
    let again = try? KadMessage(decoding: message.encoded())
    precondition(again == message, "Kad message did not round-trip")
    precondition(message.encodedSize == message.encoded().count, "encodedSize disagrees with encoded()")

    let budget = KadMessage.rustMaxMessageBytes
    let trimmed = message.encoded(maxBytes: budget)
    var bare = message
    bare.closerPeers = []
    bare.providerPeers = []
    precondition(trimmed.count <= max(budget, bare.encoded().count), "the budget was not kept")

    // The server, with a routing table that offers the message's own peers.
    var server = KadServer()
    let sender = message.providerPeers.first?.id ?? (try! PeerID(bytes: [0x12, 0x20] + [UInt8](repeating: 7, count: 32)))
    let table = message.closerPeers + message.providerPeers
    for now: UInt64 in [1_795_608_000_000_000_000, 1_795_608_000_000_000_001] {
        if case .reply(let reply) = server.respond(to: message, from: sender, now: now, closestPeers: { _, n in Array(table.prefix(n)) }) {
            precondition(reply.closerPeers.count <= KadServer.k, "the server answered more than k peers")
            precondition((try? KadMessage(decoding: reply.encoded())) == reply, "a server reply did not round-trip")
        }
    }
    return 0
}
