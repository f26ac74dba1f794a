import P2PCrypto
import Wire

/// What every connection needs to know about this node's identity.
public struct LocalIdentity: Sendable {
    public let identity: Ed25519PrivateKey
    public let peerID: PeerID
    /// One Noise static key for the life of the process (py does the same; go makes one per
    /// handshake); never written to disk, as the spec advises.
    public let noiseStatic: X25519KeyPair
    /// identify's `agentVersion`.
    public let agentVersion: String

    public init(identity: Ed25519PrivateKey, noiseStatic: X25519KeyPair, agentVersion: String) {
        self.identity = identity
        peerID = identity.publicKey.peerID
        self.noiseStatic = noiseStatic
        self.agentVersion = agentVersion
    }
}
