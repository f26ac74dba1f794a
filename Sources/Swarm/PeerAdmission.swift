import Wire

/// Which peers a connection lets past the security handshake (a private group's members,
/// issue 14): checked the moment the handshake names the peer, before any stream is opened or
/// accepted, so a refused peer gets no identify, no topic and no data. A snapshot, taken when
/// the connection is made; the node closes connections of peers removed later.
public struct PeerAdmission: Sendable {
    public let admitted: Set<PeerID>
    /// Named in the refusal, e.g. "group 1a2b...".
    public let scope: String

    public init(admitted: Set<PeerID>, scope: String) {
        self.admitted = admitted
        self.scope = scope
    }

    /// Why `peer` is refused, or nil when it is admitted.
    public func refusal(of peer: PeerID) -> String? {
        admitted.contains(peer) ? nil : "\(peer) is not a member of \(scope)"
    }
}
