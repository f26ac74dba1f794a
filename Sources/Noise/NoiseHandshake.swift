import P2PCrypto
import Wire

/// The libp2p Noise XX handshake (`/noise`, `Noise_XX_25519_ChaChaPoly_SHA256`;
/// libp2p-wire.md sections 3.1-3.5, specs noise/README.md). Sans-I/O: the ephemeral and static
/// keys are handed in, bytes go in and out.
///
/// ```
/// XX:
///   -> e                       (32 bytes, no payload)
///   <- e, ee, s, es            (32 + 48 + payload + 16)
///   -> s, se                   (48 + payload + 16)
/// ```
/// Every message travels as `uint16_be(len) ‖ message`. The payloads carry each side's
/// identity key and its signature over the Noise static key; the remote peer ID is derived
/// from that and, when we dialed a known peer, checked against the one we meant to reach.
public struct NoiseHandshake {
    public enum Role: Sendable { case initiator, responder }

    /// What a completed handshake gives: the remote identity and the transport ciphers.
    public struct Completion {
        public let remotePeer: PeerID
        /// The peer's identity key: any libp2p key type (Ed25519, secp256k1, ECDSA P-256, RSA).
        public let remoteIdentity: PublicKey
        public let session: NoiseSession
        /// Bytes after the last handshake message: already transport data.
        public internal(set) var remainder: [UInt8]
    }

    public struct Output {
        public var send: [UInt8] = []
        public var completion: Completion?
    }

    private enum State {
        case initiatorAwaitingMessage2
        case responderAwaitingMessage1
        case responderAwaitingMessage3
        case done
        case failed
    }

    public let role: Role
    private let identity: Ed25519PrivateKey
    private let staticKey: X25519KeyPair
    private let ephemeral: X25519KeyPair
    private let expectedPeer: PeerID?
    private var symmetric = SymmetricState()
    private var state: State
    private var remoteEphemeral: [UInt8] = []
    private var framer = NoiseFramer()
    /// Tests only: sign this key instead of our static key, to play a peer whose identity
    /// signature does not cover the static key it uses (libp2p noise spec: must be refused).
    var signedStaticKeyOverride: [UInt8]?
    /// Tests only: send this identity key protobuf and signature instead of our own, to play a
    /// peer with a secp256k1, ECDSA or RSA identity whose signature over our (fixed) static key
    /// was made by another implementation.
    var identityPayloadOverride: (identityKey: [UInt8], identitySignature: [UInt8])?

    /// - Parameters:
    ///   - staticKey: the Noise static key (separate from the identity key; per host or per handshake).
    ///   - ephemeral: a fresh key for this handshake only.
    ///   - expectedPeer: the peer ID we dialed, checked against the identity the peer proves.
    public init(role: Role, identity: Ed25519PrivateKey, staticKey: X25519KeyPair, ephemeral: X25519KeyPair,
                expectedPeer: PeerID? = nil) {
        self.role = role
        self.identity = identity
        self.staticKey = staticKey
        self.ephemeral = ephemeral
        self.expectedPeer = expectedPeer
        state = role == .initiator ? .initiatorAwaitingMessage2 : .responderAwaitingMessage1
    }

    /// The bytes to send first: message 1 for the initiator, nothing for the responder.
    public mutating func start() -> [UInt8] {
        guard role == .initiator else { return [] }
        // -> e ; the empty payload is "encrypted" without a key, i.e. only hashed.
        symmetric.mixHash(ephemeral.publicKey)
        let payload = (try? symmetric.encryptAndHash([])) ?? []
        return NoiseFramer.frame(ephemeral.publicKey + payload)
    }

    /// Feeds bytes from the peer.
    public mutating func receivedBytes(_ bytes: [UInt8]) throws(NoiseError) -> Output {
        var output = Output()
        framer.append(bytes)
        while let message = try framer.nextFrame() {
            do {
                try handle(message, output: &output)
            } catch {
                state = .failed
                throw error
            }
            if var completion = output.completion {
                completion.remainder = framer.takeBuffered()
                output.completion = completion
                return output
            }
        }
        return output
    }

    private mutating func handle(_ message: [UInt8], output: inout Output) throws(NoiseError) {
        switch state {
        case .responderAwaitingMessage1:
            // <- e (message 1 carries an empty payload)
            guard message.count == 32 else { throw .unexpectedFrameLength(message: 1, got: message.count) }
            remoteEphemeral = message
            symmetric.mixHash(remoteEphemeral)
            _ = try symmetric.decryptAndHash([], stage: "message 1")
            // -> e, ee, s, es, payload
            var reply = ephemeral.publicKey
            symmetric.mixHash(ephemeral.publicKey)
            try mixDH(ephemeral, remoteEphemeral)
            reply += try symmetric.encryptAndHash(staticKey.publicKey)
            try mixDH(staticKey, remoteEphemeral)
            reply += try symmetric.encryptAndHash(makePayload())
            output.send += NoiseFramer.frame(reply)
            state = .responderAwaitingMessage3

        case .initiatorAwaitingMessage2:
            // <- e, ee, s, es, payload
            guard message.count >= 32 + 48 + 16 else { throw .frameTooShort(expected: 96, got: message.count) }
            remoteEphemeral = Array(message[0..<32])
            symmetric.mixHash(remoteEphemeral)
            try mixDH(ephemeral, remoteEphemeral)
            let remoteStatic = try symmetric.decryptAndHash(Array(message[32..<80]), stage: "message 2 static key")
            try mixDH(ephemeral, remoteStatic)
            let payload = try symmetric.decryptAndHash(Array(message[80...]), stage: "message 2 payload")
            let (peer, key) = try verify(payload: payload, remoteStatic: remoteStatic)
            // -> s, se, payload
            var reply = try symmetric.encryptAndHash(staticKey.publicKey)
            try mixDH(staticKey, remoteEphemeral)
            reply += try symmetric.encryptAndHash(makePayload())
            output.send += NoiseFramer.frame(reply)
            let (toResponder, toInitiator) = symmetric.split()
            output.completion = Completion(remotePeer: peer, remoteIdentity: key,
                                           session: NoiseSession(sending: toResponder, receiving: toInitiator), remainder: [])
            state = .done

        case .responderAwaitingMessage3:
            // <- s, se, payload
            guard message.count >= 48 + 16 else { throw .frameTooShort(expected: 64, got: message.count) }
            let remoteStatic = try symmetric.decryptAndHash(Array(message[0..<48]), stage: "message 3 static key")
            try mixDH(ephemeral, remoteStatic)
            let payload = try symmetric.decryptAndHash(Array(message[48...]), stage: "message 3 payload")
            let (peer, key) = try verify(payload: payload, remoteStatic: remoteStatic)
            let (toResponder, toInitiator) = symmetric.split()
            output.completion = Completion(remotePeer: peer, remoteIdentity: key,
                                           session: NoiseSession(sending: toInitiator, receiving: toResponder), remainder: [])
            state = .done

        case .done, .failed:
            preconditionFailure("NoiseHandshake fed a message in state \(state)")
        }
    }

    /// The handshake hash, for tests against the spec transcript.
    public var handshakeHash: [UInt8] { symmetric.handshakeHash }

    private func dh(_ local: X25519KeyPair, _ remote: [UInt8]) throws(NoiseError) -> [UInt8] {
        do { return try local.sharedSecret(with: remote) } catch { throw .invalidPublicKey }
    }

    /// MixKey(DH(local, remote)); the shared secret is wiped once mixed in.
    private mutating func mixDH(_ local: X25519KeyPair, _ remote: [UInt8]) throws(NoiseError) {
        var secret = try dh(local, remote)
        symmetric.mixKey(secret)
        SecretBytes.wipe(&secret)
    }

    private func makePayload() -> [UInt8] {
        if let identityPayloadOverride {
            return NoiseHandshakePayload(identityKey: identityPayloadOverride.identityKey,
                                         identitySignature: identityPayloadOverride.identitySignature).encoded()
        }
        let signature = identity.sign(NoiseHandshakePayload.signaturePrefix + (signedStaticKeyOverride ?? staticKey.publicKey))
        return NoiseHandshakePayload(identityKey: identity.publicKey.libp2pProtobuf, identitySignature: signature).encoded()
    }

    /// Checks the peer's payload (libp2p-wire.md §3.3): its identity key, of any libp2p key type,
    /// must have signed `"noise-libp2p-static-key:" ‖ rs` for the static key `rs` this handshake
    /// delivered; the peer ID comes from that key (identity multihash for Ed25519 and secp256k1,
    /// sha2-256 for ECDSA and RSA) and must be the one we dialed, if we dialed one.
    private func verify(payload bytes: [UInt8], remoteStatic: [UInt8]) throws(NoiseError) -> (PeerID, PublicKey) {
        let payload = try NoiseHandshakePayload(decoding: bytes)
        let key: PublicKey
        do {
            key = try PublicKey(libp2pProtobuf: payload.identityKey)
        } catch {
            throw .unsupportedIdentityKey("\(error)")
        }
        guard key.verify(signature: payload.identitySignature, message: NoiseHandshakePayload.signaturePrefix + remoteStatic) else {
            throw .badIdentitySignature
        }
        let peer = key.peerID
        if let expectedPeer, expectedPeer != peer { throw .peerIDMismatch(expected: expectedPeer, got: peer) }
        return (peer, key)
    }
}
