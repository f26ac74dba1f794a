import Wire

/// The Identify message (`/ipfs/id/1.0.0`, `/ipfs/id/push/1.0.0`; libp2p-wire.md section 5.1):
/// ```
/// message Identify {
///   optional bytes  publicKey = 1;  repeated bytes listenAddrs = 2;  repeated string protocols = 3;
///   optional bytes  observedAddr = 4;  optional string protocolVersion = 5;
///   optional string agentVersion = 6;  optional bytes signedPeerRecord = 8;
/// }
/// ```
public struct IdentifyMessage: Equatable, Sendable {
    public var protocolVersion: String?
    public var agentVersion: String?
    public var publicKey: [UInt8]?
    public var listenAddrs: [Multiaddr]
    public var observedAddr: Multiaddr?
    public var protocols: [String]
    public var signedPeerRecord: [UInt8]?
    /// Listen addresses in the message that did not parse (skipped, not fatal).
    public var unreadableAddresses = 0

    public init(protocolVersion: String? = nil, agentVersion: String? = nil, publicKey: [UInt8]? = nil,
                listenAddrs: [Multiaddr] = [], observedAddr: Multiaddr? = nil, protocols: [String] = [],
                signedPeerRecord: [UInt8]? = nil) {
        self.protocolVersion = protocolVersion
        self.agentVersion = agentVersion
        self.publicKey = publicKey
        self.listenAddrs = listenAddrs
        self.observedAddr = observedAddr
        self.protocols = protocols
        self.signedPeerRecord = signedPeerRecord
    }

    /// The protobuf bytes, fields in number order.
    public func encoded() -> [UInt8] {
        var w = ProtobufWriter()
        if let publicKey { w.bytesField(1, publicKey) }
        for a in listenAddrs { w.bytesField(2, a.bytes) }
        for p in protocols { w.stringField(3, p) }
        if let observedAddr { w.bytesField(4, observedAddr.bytes) }
        if let protocolVersion { w.stringField(5, protocolVersion) }
        if let agentVersion { w.stringField(6, agentVersion) }
        if let signedPeerRecord { w.bytesField(8, signedPeerRecord) }
        return w.bytes
    }

    public init(decoding bytes: [UInt8]) throws(IdentifyError) {
        self.init()
        var reader = ProtobufReader(bytes)
        while true {
            let next: (field: UInt64, value: ProtobufValue)?
            do { next = try reader.next() } catch { throw .malformed("\(error)") }
            guard let (field, value) = next else { break }
            guard case .bytes(let b) = value else {
                if field <= 8 && field != 7 { throw .malformed("field \(field) has the wrong wire type") }
                continue
            }
            func text() throws(IdentifyError) -> String {
                guard let s = String(validating: b, as: UTF8.self) else { throw .malformed("field \(field) is not UTF-8") }
                return s
            }
            switch field {
            case 1: publicKey = b
            case 2:
                if let a = try? Multiaddr(bytes: b) { listenAddrs.append(a) } else { unreadableAddresses += 1 }
            case 3: protocols.append(try text())
            case 4: observedAddr = try? Multiaddr(bytes: b)
            case 5: protocolVersion = try text()
            case 6: agentVersion = try text()
            case 8: signedPeerRecord = b
            default: continue
            }
        }
    }

    /// This message (a push, or the second part of go's split identify) applied onto
    /// `earlier`: fields it carries replace, missing ones are unchanged.
    public func merged(onto earlier: IdentifyMessage) -> IdentifyMessage {
        var m = earlier
        if let protocolVersion { m.protocolVersion = protocolVersion }
        if let agentVersion { m.agentVersion = agentVersion }
        if let publicKey { m.publicKey = publicKey }
        if !listenAddrs.isEmpty { m.listenAddrs = listenAddrs }
        if let observedAddr { m.observedAddr = observedAddr }
        if !protocols.isEmpty { m.protocols = protocols }
        if let signedPeerRecord { m.signedPeerRecord = signedPeerRecord }
        return m
    }
}

public enum IdentifyError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformed(String)
    case tooLarge(Int)

    public var description: String {
        switch self {
        case .malformed(let why): "malformed identify message: \(why)"
        case .tooLarge(let n): "identify message of \(n) bytes is over the \(IdentifyReader.maxMessageBytes)-byte limit"
        }
    }
}
