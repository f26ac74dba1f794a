/// The pubsub protocols we speak, best first: a dialer proposes them in this order.
public enum PubsubProtocolID: String, CaseIterable, Sendable {
    case meshsub11 = "/meshsub/1.1.0"
    case meshsub10 = "/meshsub/1.0.0"
    case floodsub = "/floodsub/1.0.0"

    /// Floodsub peers get every message of their topics and never join a mesh.
    public var isGossipsub: Bool { self != .floodsub }
    /// Back-off and peer exchange in PRUNE came with v1.1.
    public var supportsBackoff: Bool { self == .meshsub11 }
}
