import Multistream
import Noise
import P2PCrypto
import Wire

/// Turns a raw TCP connection into an authenticated, encrypted one ready for the muxer
/// (libp2p connections spec; libp2p-wire.md sections 2, 3 and 4). Sans-I/O.
///
/// ```
/// raw bytes:   multistream  /multistream/1.0.0 → /noise      (security)
///              Noise XX     -> e   <- e,ee,s,es   -> s,se
/// encrypted:   multistream  /multistream/1.0.0 → /yamux/1.0.0 (muxer)
///              yamux frames ...
/// ```
/// We offer and accept only `/noise` and `/yamux/1.0.0`, the one stack rust-, go-, js- and
/// py-libp2p all share. A go dialer proposes `/tls/1.0.0` first; the listener answers `na`.
public struct ConnectionUpgrade {
    public static let securityProtocol = "/noise"
    public static let muxerProtocol = "/yamux/1.0.0"

    public enum Role: Sendable { case dialer, listener }

    /// The result: who the peer is, the transport cipher, and plaintext already received
    /// after the muxer was agreed (the first yamux frames of a lazy dialer).
    public struct Upgraded {
        public let remotePeer: PeerID
        public let remoteIdentity: PublicKey
        public var session: NoiseSession
        public let muxerBytes: [UInt8]
    }

    public struct Output {
        public var send: [UInt8] = []
        public var upgraded: Upgraded?
    }

    private enum State {
        case negotiatingSecurity(MultistreamNegotiation)
        case handshaking(NoiseHandshake)
        case negotiatingMuxer(MultistreamNegotiation, NoiseSession, PeerID, PublicKey)
        case done
        case failed
    }

    public let role: Role
    private var state: State
    var pendingHandshake: NoiseHandshake?

    /// - Parameters:
    ///   - noiseStatic: the host's Noise static key; `ephemeral`: a fresh key for this handshake.
    ///   - expectedPeer: when dialing a known peer ID, the handshake fails unless the peer proves it.
    public init(role: Role, identity: Ed25519PrivateKey, noiseStatic: X25519KeyPair, ephemeral: X25519KeyPair,
                expectedPeer: PeerID?) {
        self.role = role
        let noiseRole: NoiseHandshake.Role = role == .dialer ? .initiator : .responder
        pendingHandshake = NoiseHandshake(role: noiseRole, identity: identity, staticKey: noiseStatic,
                                          ephemeral: ephemeral, expectedPeer: expectedPeer)
        let multistreamRole: MultistreamNegotiation.Role = role == .dialer
            ? .dialer(proposals: [ConnectionUpgrade.securityProtocol])
            : .listener(supported: [ConnectionUpgrade.securityProtocol])
        state = .negotiatingSecurity(MultistreamNegotiation(role: multistreamRole))
    }

    /// The first bytes to send.
    public mutating func start() -> [UInt8] {
        guard case .negotiatingSecurity(var negotiation) = state else { preconditionFailure("start() called twice") }
        let bytes = negotiation.start()
        state = .negotiatingSecurity(negotiation)
        return bytes
    }

    /// A short name of the current phase, for logs and the peer state shown to users.
    public var phase: String {
        switch state {
        case .negotiatingSecurity: "Handshaking"
        case .handshaking: "Authenticating"
        case .negotiatingMuxer: "Negotiating"
        case .done: "Upgraded"
        case .failed: "Failed"
        }
    }

    public mutating func receivedBytes(_ bytes: [UInt8]) throws(UpgradeError) -> Output {
        var output = Output()
        do {
            try advance(bytes, &output)
        } catch {
            state = .failed
            throw error
        }
        return output
    }

    private mutating func advance(_ bytes: [UInt8], _ output: inout Output) throws(UpgradeError) {
        var input = bytes
        while true {
            switch state {
            case .negotiatingSecurity(var negotiation):
                let result: MultistreamNegotiation.Output
                do { result = try negotiation.receivedBytes(input) } catch { throw .security(error) }
                output.send += result.send
                guard let agreement = result.agreement else {
                    state = .negotiatingSecurity(negotiation)
                    return
                }
                guard var handshake = pendingHandshake else { preconditionFailure("no pending handshake") }
                pendingHandshake = nil
                _ = agreement.protocolID  // only /noise can be agreed
                output.send += handshake.start()
                state = .handshaking(handshake)
                input = agreement.remainder
                if input.isEmpty { return }

            case .handshaking(var handshake):
                let result: NoiseHandshake.Output
                do { result = try handshake.receivedBytes(input) } catch { throw .noise(error) }
                output.send += result.send
                guard let completion = result.completion else {
                    state = .handshaking(handshake)
                    return
                }
                var session = completion.session
                let muxerRole: MultistreamNegotiation.Role = role == .dialer
                    ? .dialer(proposals: [ConnectionUpgrade.muxerProtocol])
                    : .listener(supported: [ConnectionUpgrade.muxerProtocol])
                var negotiation = MultistreamNegotiation(role: muxerRole)
                do { output.send += try session.encrypt(negotiation.start()) } catch { throw .noise(error) }
                let plaintext: [UInt8]
                do { plaintext = try session.decrypt(completion.remainder) } catch { throw .noise(error) }
                state = .negotiatingMuxer(negotiation, session, completion.remotePeer, completion.remoteIdentity)
                try negotiateMuxer(plaintext: plaintext, &output)
                return

            case .negotiatingMuxer(let negotiation, var session, let peer, let identity):
                let plaintext: [UInt8]
                do { plaintext = try session.decrypt(input) } catch { throw .noise(error) }
                state = .negotiatingMuxer(negotiation, session, peer, identity)
                try negotiateMuxer(plaintext: plaintext, &output)
                return

            case .done, .failed:
                preconditionFailure("ConnectionUpgrade fed bytes in state \(phase)")
            }
        }
    }

    /// Feeds decrypted bytes to the muxer negotiation; its answers go out encrypted.
    private mutating func negotiateMuxer(plaintext: [UInt8], _ output: inout Output) throws(UpgradeError) {
        guard case .negotiatingMuxer(var negotiation, var session, let peer, let identity) = state else {
            preconditionFailure("negotiateMuxer in state \(phase)")
        }
        guard !plaintext.isEmpty else { return }
        let result: MultistreamNegotiation.Output
        do { result = try negotiation.receivedBytes(plaintext) } catch { throw .muxer(error) }
        do {
            if !result.send.isEmpty { output.send += try session.encrypt(result.send) }
        } catch { throw .noise(error) }
        guard let agreement = result.agreement else {
            state = .negotiatingMuxer(negotiation, session, peer, identity)
            return
        }
        state = .done
        output.upgraded = Upgraded(remotePeer: peer, remoteIdentity: identity, session: session,
                                   muxerBytes: agreement.remainder)
    }
}
