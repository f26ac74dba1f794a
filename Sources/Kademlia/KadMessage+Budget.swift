import Wire

extension KadMessage {
    /// rust-libp2p drops any Kad message over 16 KiB (`DEFAULT_MAX_PACKET_SIZE`,
    /// libp2p-wire.md section 8.2), so every message we send stays under it.
    public static let rustMaxMessageBytes = 16 * 1024

    /// The protobuf bytes, trimmed to at most `maxBytes`: first each peer's addresses are cut
    /// (to 8, 4, 2, then 1: the first are the ones the peer listed first), then peers are dropped
    /// from the end of `closerPeers` (the farthest), then from the end of `providerPeers`
    /// (providers are the answer to GET_PROVIDERS, so they go last).
    ///
    /// The key and record are never cut: a record with a large value (we accept up to 64 KiB)
    /// gives a message over the budget even with no peers. It is returned as it is then; go and
    /// py accept up to 4 MiB, and rust drops it and fails that one query, which is the most
    /// anyone can do with a value rust could not have stored anyway past its own limit.
    public func encoded(maxBytes: Int) -> [UInt8] {
        if encodedSize <= maxBytes { return encoded() }
        var trimmed = self
        for cap in [8, 4, 2, 1] {
            trimmed = withAddresses(atMost: cap)
            if trimmed.encodedSize <= maxBytes { return trimmed.encoded() }
        }
        var size = trimmed.encodedSize
        while size > maxBytes, let last = trimmed.closerPeers.popLast() { size -= Self.fieldSize(last) }
        while size > maxBytes, let last = trimmed.providerPeers.popLast() { size -= Self.fieldSize(last) }
        return trimmed.encoded()
    }

    /// `encoded().count`, computed without building the peers' bytes twice.
    public var encodedSize: Int {
        var bare = self
        bare.closerPeers = []
        bare.providerPeers = []
        return bare.encoded().count + closerPeers.reduce(0) { $0 + Self.fieldSize($1) }
            + providerPeers.reduce(0) { $0 + Self.fieldSize($1) }
    }

    /// A peer's bytes as a field of the message: one tag byte (fields 8 and 9), its length, itself.
    static func fieldSize(_ peer: KadPeer) -> Int {
        let n = peer.encoded().count
        return 1 + Varint.encodedCount(UInt64(n)) + n
    }

    private func withAddresses(atMost cap: Int) -> KadMessage {
        var m = self
        for i in m.closerPeers.indices { m.closerPeers[i].addresses = Array(m.closerPeers[i].addresses.prefix(cap)) }
        for i in m.providerPeers.indices { m.providerPeers[i].addresses = Array(m.providerPeers[i].addresses.prefix(cap)) }
        return m
    }
}
