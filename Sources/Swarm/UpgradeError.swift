import Multistream
import Noise

/// Why a connection could not be upgraded; each closes that one connection.
public enum UpgradeError: Error, Equatable, Sendable, CustomStringConvertible {
    case security(MultistreamError)
    case noise(NoiseError)
    case muxer(MultistreamError)
    case timedOut(phase: String)

    public var description: String {
        switch self {
        case .security(let e): "security negotiation failed: \(e)"
        case .noise(let e): "Noise handshake failed: \(e)"
        case .muxer(let e): "muxer negotiation failed: \(e)"
        case .timedOut(let phase): "connection upgrade timed out while \(phase.lowercased())"
        }
    }
}
