/// One protocol a connection speaks: the IDs it answers to, when its streams open, and how to
/// make a handler for a stream. Adding a protocol is a handler file plus one registration.
public struct ProtocolRegistration: Sendable {
    /// Names the protocol's events (`HandlerEvent.key`) and commands (`Connection.send(_:to:)`).
    public let key: String
    /// Protocol IDs, the preferred first: we propose them in this order and accept any.
    public let protocolIDs: [String]
    /// We accept streams the peer opens for it (false: we only dial it).
    public let servesInbound: Bool
    /// We open one stream for it as soon as the connection is secured (identify, pubsub).
    public let opensOnConnect: Bool
    /// At most one inbound stream per connection: a new one replaces the old (pubsub, as go does).
    public let oneInboundStream: Bool
    /// Makes the handler: `initiator` when we opened the stream; `request` is what `open` was given.
    public let makeHandler: @Sendable (_ initiator: Bool, _ request: (any Sendable)?) -> any StreamHandler

    public init(key: String, protocolIDs: [String], servesInbound: Bool = true, opensOnConnect: Bool = false,
                oneInboundStream: Bool = false,
                makeHandler: @escaping @Sendable (_ initiator: Bool, _ request: (any Sendable)?) -> any StreamHandler) {
        precondition(!protocolIDs.isEmpty, "protocol \(key) registered without a protocol ID")
        self.key = key
        self.protocolIDs = protocolIDs
        self.servesInbound = servesInbound
        self.opensOnConnect = opensOnConnect
        self.oneInboundStream = oneInboundStream
        self.makeHandler = makeHandler
    }
}

/// The protocols this node speaks, by key and by protocol ID.
public struct ProtocolRegistry: Sendable {
    public private(set) var registrations: [ProtocolRegistration] = []
    private var byKey: [String: Int] = [:]
    private var byProtocolID: [String: Int] = [:]

    public init(_ registrations: [ProtocolRegistration] = []) {
        for registration in registrations { register(registration) }
    }

    public mutating func register(_ registration: ProtocolRegistration) {
        precondition(byKey[registration.key] == nil, "protocol key \(registration.key) registered twice")
        let index = registrations.count
        registrations.append(registration)
        byKey[registration.key] = index
        for id in registration.protocolIDs where registration.servesInbound {
            precondition(byProtocolID[id] == nil, "protocol ID \(id) registered twice")
            byProtocolID[id] = index
        }
    }

    public func registration(key: String) -> ProtocolRegistration? { byKey[key].map { registrations[$0] } }
    public func registration(protocolID: String) -> ProtocolRegistration? { byProtocolID[protocolID].map { registrations[$0] } }

    /// Every protocol ID we accept on inbound streams, in registration order (identify's list).
    public var servedProtocolIDs: [String] {
        registrations.filter(\.servesInbound).flatMap(\.protocolIDs)
    }
}
