import JSON

/// One line the daemon sends: a response to a request, or an event of a `watch`.
///
/// `{"id":7,"ok":true,"result":{...}}`, `{"id":7,"ok":false,"error":{"code":"not_found","message":"..."}}`,
/// `{"event":{...}}` (docs/CONTROL.md).
public enum ControlResponse: Equatable, Sendable {
    case success(id: JSON, result: JSON)
    case failure(ControlError)
    case event(JSON)

    public func encoded() -> [UInt8] {
        let json: JSON
        switch self {
        case .success(let id, let result):
            json = ["id": id, "ok": true, "result": result]
        case .failure(let error):
            json = ["id": error.id, "ok": false,
                    "error": ["code": .string(error.code.rawValue), "message": .string(error.message)]]
        case .event(let event):
            json = ["event": event]
        }
        var bytes = json.encoded()
        bytes.append(0x0a)
        return bytes
    }

    /// Parses a line from the daemon (client side).
    public static func parse(line: [UInt8]) throws(ControlError) -> ControlResponse {
        let json: JSON
        do {
            json = try JSONParser.parse(line)
        } catch {
            throw ControlError(.internal, "daemon sent a line that is not JSON: \(error)")
        }
        if let event = json["event"] { return .event(event) }
        guard let ok = json["ok"]?.boolValue else {
            throw ControlError(.internal, "daemon sent a line without \"ok\" or \"event\"")
        }
        let id = json["id"] ?? .null
        if ok { return .success(id: id, result: json["result"] ?? .null) }
        let codeText = json["error"]?["code"]?.stringValue ?? "internal"
        let message = json["error"]?["message"]?.stringValue ?? "the daemon reported an error without a message"
        return .failure(ControlError(ControlError.Code(rawValue: codeText) ?? .internal, message, id: id))
    }
}
