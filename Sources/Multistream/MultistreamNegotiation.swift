import Wire

/// One multistream-select 1.0 negotiation, on a raw connection or on a new muxed stream
/// (libp2p-wire.md section 2). Sans-I/O: bytes in, bytes out and an outcome.
///
/// ```
/// dialer                                listener
///   /multistream/1.0.0, /proto-a  ->
///                                  <-   /multistream/1.0.0, na
///   /proto-b                      ->
///                                  <-   /proto-b            (echo: agreed)
///   <bytes of /proto-b ...>
/// ```
///
/// The dialer pipelines the header with its first proposal (every implementation accepts
/// that), but it is not lazy: it waits for the echo before handing the stream on. The
/// listener keeps whatever arrives after the agreed proposal: a lazy dialer (rust's V1Lazy,
/// go's lazy client) sends the next protocol's first bytes in the same packet.
public struct MultistreamNegotiation: Sendable {
    public enum Role: Equatable, Sendable {
        /// Proposes these protocols in order of preference.
        case dialer(proposals: [String])
        /// Accepts any of these.
        case listener(supported: [String])
    }

    /// What the caller must do after feeding input.
    public struct Output: Equatable, Sendable {
        /// Bytes to write to the peer, in order.
        public var send: [UInt8] = []
        /// Set once negotiation is over.
        public var agreement: Agreement?

        public init(send: [UInt8] = [], agreement: Agreement? = nil) {
            self.send = send
            self.agreement = agreement
        }
    }

    /// The agreed protocol and the bytes that followed its message, which belong to it.
    public struct Agreement: Equatable, Sendable {
        public var protocolID: String
        public var remainder: [UInt8]

        public init(protocolID: String, remainder: [UInt8]) {
            self.protocolID = protocolID
            self.remainder = remainder
        }
    }

    private enum State: Sendable {
        case awaitingHeader
        /// Dialer: waiting for the answer to `proposals[index]`.
        case awaitingAnswer(index: Int)
        /// Listener: waiting for the next proposal.
        case awaitingProposal
        case done
        case failed
    }

    public let role: Role
    private var state: State = .awaitingHeader
    private var buffer: [UInt8] = []

    /// Creates the negotiation; `start()` gives the first bytes to send.
    public init(role: Role) {
        self.role = role
    }

    /// The bytes to send at once: the header, and for a dialer its first proposal.
    public mutating func start() -> [UInt8] {
        var out = MultistreamMessage.encode(MultistreamMessage.header)
        if case .dialer(let proposals) = role, let first = proposals.first {
            out += MultistreamMessage.encode(first)
        }
        return out
    }

    public var isDone: Bool { if case .done = state { return true } else { return false } }

    /// Feeds bytes from the peer. Throws on a protocol violation or when no protocol is agreed;
    /// the caller then closes the connection or resets the stream.
    public mutating func receivedBytes(_ bytes: [UInt8]) throws(MultistreamError) -> Output {
        var output = Output()
        switch state {
        case .done, .failed: preconditionFailure("MultistreamNegotiation fed bytes in state \(state)")
        default: break
        }
        buffer += bytes
        var offset = 0
        defer { buffer.removeFirst(min(offset, buffer.count)) }
        while case let decoded? = try decodeNext(at: offset) {
            offset += decoded.byteCount
            let token = decoded.token
            do {
                if let agreed = try handle(token, output: &output) {
                    output.agreement = Agreement(protocolID: agreed, remainder: Array(buffer[offset...]))
                    offset = buffer.count
                    state = .done
                    return output
                }
            } catch {
                state = .failed
                throw error
            }
        }
        return output
    }

    private func decodeNext(at offset: Int) throws(MultistreamError) -> (token: String, byteCount: Int)? {
        try MultistreamMessage.decode(buffer[offset...])
    }

    /// Handles one message; returns the agreed protocol when negotiation ends.
    private mutating func handle(_ token: String, output: inout Output) throws(MultistreamError) -> String? {
        switch (state, role) {
        case (.awaitingHeader, .dialer):
            guard token == MultistreamMessage.header else { throw .badHeader(token) }
            state = .awaitingAnswer(index: 0)
            if case .dialer(let proposals) = role, proposals.isEmpty { throw .noCommonProtocol(proposed: []) }
            return nil
        case (.awaitingHeader, .listener):
            guard token == MultistreamMessage.header else { throw .badHeader(token) }
            state = .awaitingProposal
            return nil
        case (.awaitingAnswer(let index), .dialer(let proposals)):
            let proposed = proposals[index]
            if token == proposed { return proposed }
            guard token == MultistreamMessage.notAvailable else {
                throw .unexpectedResponse(proposed: proposed, got: token)
            }
            guard index + 1 < proposals.count else { throw .noCommonProtocol(proposed: proposals) }
            state = .awaitingAnswer(index: index + 1)
            output.send += MultistreamMessage.encode(proposals[index + 1])
            return nil
        case (.awaitingProposal, .listener(let supported)):
            if supported.contains(token) {
                output.send += MultistreamMessage.encode(token)
                return token
            }
            if token == MultistreamMessage.list {
                output.send += MultistreamNegotiation.listResponse(supported)
            } else {
                output.send += MultistreamMessage.encode(MultistreamMessage.notAvailable)
            }
            return nil
        default:
            preconditionFailure("MultistreamNegotiation: impossible state \(state) for role \(role)")
        }
    }

    /// The `ls` answer as the spec describes it: one outer message whose payload is
    /// `LP(proto + "\n")` for each protocol, then a final newline.
    static func listResponse(_ protocols: [String]) -> [UInt8] {
        var payload: [UInt8] = []
        for p in protocols { payload += MultistreamMessage.encode(p) }
        payload.append(0x0a)
        var out: [UInt8] = []
        Varint.append(UInt64(payload.count), to: &out)
        return out + payload
    }
}
