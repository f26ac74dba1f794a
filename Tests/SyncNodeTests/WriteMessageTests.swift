import JSON
import P2PCrypto
@_spi(Fuzzing) @testable import SyncNode
import SyncStore
import Testing
import Wire

/// The application messages on the topic (docs/PROTOCOL.md): the seed's shape in, ours out.
@Suite struct WriteMessageTests {
    static let author = try! Ed25519PrivateKey(seed: [UInt8](repeating: 3, count: 32)).publicKey.peerID
    static let other = try! Ed25519PrivateKey(seed: [UInt8](repeating: 4, count: 32)).publicKey.peerID

    @Test func readsTheSeedsPutWithTheAuthorAsOrigin() throws {
        let seed = #"{"Put":{"key":"key1","value":"value1","timestamp":"2026-11-24T12:00:00.123Z"}}"#
        let entries = try WriteMessage.decode(Array(seed.utf8), author: Self.author)
        #expect(entries == .writes([Entry(key: "key1", value: "value1",
                                  version: Version(hlc: HLC(physicalMillis: 1_795_521_600_123, logical: 0), origin: Self.author.bytes))]))
    }

    @Test func ourMessagesCarryHLCAndOriginAndRoundTrip() throws {
        let put = Entry(key: "k", value: "v \"quoted\" ✓", version: Version(hlc: HLC(physicalMillis: 1_795_521_600_123, logical: 7), origin: Self.other.bytes))
        let delete = Entry(key: "gone", value: nil, version: Version(hlc: HLC(physicalMillis: 1_795_521_600_124, logical: 0), origin: Self.other.bytes))
        let single = WriteMessage.encode([put])
        let json = try JSONParser.parse(single)
        #expect(json["Put"]?["timestamp"]?.stringValue == "2026-11-24T12:00:00.123Z")
        #expect(json["Put"]?["hlc"]?.stringValue == "1795521600123:7")
        #expect(json["Put"]?["origin"]?.stringValue == Self.other.description)
        // The origin in the message wins over the author (a write relayed by another node).
        #expect(try WriteMessage.decode(single, author: Self.author) == .writes([put]))
        let batch = WriteMessage.encode([put, delete])
        #expect(try JSONParser.parse(batch)["Batch"]?.arrayValue?.count == 2)
        #expect(try JSONParser.parse(batch)["Batch"]?.arrayValue?[1]["Delete"]?["value"] == nil)
        #expect(try WriteMessage.decode(batch, author: Self.author) == .writes([put, delete]))
    }

    @Test(arguments: [
        "not json", "[]", "{}", #"{"Put":{"key":"k","value":"v","timestamp":"x"},"Delete":{}}"#,
        #"{"Get":{"key":"k"}}"#, #"{"Put":{"value":"v","timestamp":"2026-11-24T12:00:00Z"}}"#,
        #"{"Put":{"key":"k","timestamp":"2026-11-24T12:00:00Z"}}"#, #"{"Put":{"key":"","value":"v","timestamp":"2026-11-24T12:00:00Z"}}"#,
        #"{"Put":{"key":"k","value":"v"}}"#, #"{"Put":{"key":"k","value":"v","timestamp":"2026-13-24T12:00:00Z"}}"#,
        #"{"Put":{"key":"k","value":"v","hlc":"12"}}"#, #"{"Put":{"key":"k","value":"v","hlc":"1:0","origin":"nope"}}"#,
        #"{"Batch":[]}"#, #"{"Batch":[{"Batch":[]}]}"#, #"{"Put":[1]}"#,
    ])
    func refusesMalformedMessages(_ text: String) {
        #expect(throws: WriteMessageError.self) { try WriteMessage.decode(Array(text.utf8), author: Self.author) }
    }

    @Test func refusesOversizedMessagesBeforeParsing() {
        let big = [UInt8](repeating: 0x20, count: WriteMessage.maxReceivedBytes + 1)
        #expect(throws: WriteMessageError.tooLarge(big.count)) { try WriteMessage.decode(big, author: Self.author) }
    }

    @Test func batchesFitTheLimitKeepOrderAndSetAsideWhatCannotFit() throws {
        let version = Version(hlc: HLC(physicalMillis: 1, logical: 0), origin: Self.author.bytes)
        let entries = (0..<100).map { Entry(key: "key\($0)", value: String(repeating: "x", count: 2000), version: version) }
        let huge = Entry(key: "huge", value: String(repeating: "y", count: 70_000), version: version)
        let (messages, tooLarge) = WriteMessage.batches(entries + [huge])
        #expect(tooLarge == [huge])
        #expect(messages.count > 1)
        #expect(messages.allSatisfy { $0.data.count <= WriteMessage.maxPublishedBytes })
        #expect(messages.flatMap(\.entries) == entries)
        for message in messages { #expect(try WriteMessage.decode(message.data, author: Self.author) == .writes(message.entries)) }
    }

    /// The direct encoder writes what the JSON tree would, byte for byte: escapes, control
    /// bytes, non-ASCII, tombstones, dates of any century.
    @Test func writesAreEncodedDirectlyExactlyAsTheJSONTreeWouldBe() throws {
        var rng = SplitMix64(seed: 15)
        let alphabet: [String] = ["a", "Z", "0", " ", "\"", "\\", "\n", "\r", "\t", "\u{1}", "\u{1f}", "\u{7f}", "é", "✓", "😀", "/", "{", "]"]
        for i in 0..<2_000 {
            let key = (0..<Int(rng.next() % 12 + 1)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }.joined()
            let value: String? = i % 7 == 0 ? nil : (0..<Int(rng.next() % 30)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }.joined()
            let millis = rng.next() % 400_000_000_000_000  // up to year 14,645
            let entry = Entry(key: key, value: value, version: Version(hlc: HLC(physicalMillis: millis, logical: UInt32(rng.next() % 70_000)),
                                                                       origin: (i % 2 == 0 ? Self.author : Self.other).bytes))
            #expect(WriteMessage.encodedWrite(entry) == WriteMessage.json(entry).encoded(), "\(entry)")
            var bytes: [UInt8] = []
            Timestamp.appendISO8601(millis: millis, to: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == Timestamp.iso8601(millis: millis))
        }
    }

    @Test func aWriteTooLargeForGossipIsAnnouncedByKeyVersionAndSize() throws {
        let version = Version(hlc: HLC(physicalMillis: 1_795_521_600_123, logical: 2), origin: Self.other.bytes)
        let big = Entry(key: "clé", value: String(repeating: "é", count: 300_000), version: version)
        let data = WriteMessage.announcement(big)
        #expect(data.count < 300)
        let json = try JSONParser.parse(data)
        // The value's SHA-256, so a member can check the value fetched by catch-up (issue 14).
        let hash = SHA256.hash(Array(big.value!.utf8))
        #expect(json["Announce"]?["sha256"]?.stringValue == Base16.encode(hash))
        #expect(json["Announce"]?["key"]?.stringValue == "clé")
        #expect(json["Announce"]?["hlc"]?.stringValue == "1795521600123:2")
        #expect(json["Announce"]?["origin"]?.stringValue == Self.other.description)
        #expect(json["Announce"]?["size"]?.intValue == 600_000)
        #expect(json["Announce"]?["value"] == nil)
        // The announcement names the write whoever passes it on.
        let decoded = try WriteMessage.decode(data, author: Self.author)
        #expect(decoded == .announced(WriteAnnouncement(key: "clé", version: version, valueBytes: 600_000, valueSHA256: hash)))
        #expect(WriteMessage.encode(decoded) == data)
    }

    @Test(arguments: [
        #"{"Announce":{"hlc":"1:0","origin":"12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq","size":1}}"#,
        #"{"Announce":{"key":"k","origin":"12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq","size":1}}"#,
        #"{"Announce":{"key":"k","hlc":"1:0","size":1}}"#,
        #"{"Announce":{"key":"k","hlc":"1:0","origin":"nope","size":1}}"#,
        #"{"Announce":{"key":"k","hlc":"1:0","origin":"12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq"}}"#,
        #"{"Announce":{"key":"k","hlc":"1:0","origin":"12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq","size":1048577}}"#,
        #"{"Announce":{"key":"k","hlc":"1:0","origin":"12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq","size":-1}}"#,
        #"{"Announce":{"key":"","hlc":"1:0","origin":"12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq","size":1}}"#,
        #"{"Announce":[]}"#, #"{"Batch":[{"Announce":{}}]}"#,
    ])
    func refusesMalformedAnnouncements(_ text: String) {
        #expect(throws: WriteMessageError.self) { try WriteMessage.decode(Array(text.utf8), author: Self.author) }
    }

    @Test(arguments: [
        ("1970-01-01T00:00:00Z", UInt64(0)), ("2026-11-24T12:00:00.123Z", 1_795_521_600_123),
        ("2026-11-24T12:00:00.1Z", 1_795_521_600_100), ("2026-11-24T12:00:00.123456789Z", 1_795_521_600_123),
        ("2026-11-24T13:00:00.000+01:00", 1_795_521_600_000), ("2000-02-29T00:00:00Z", 951_782_400_000),
    ])
    func parsesRFC3339(_ text: String, _ millis: UInt64) {
        #expect(Timestamp.parseISO8601(text) == millis)
    }

    @Test func formatsAndParsesEveryDayOfFourCenturies() {
        var millis: UInt64 = 0
        while millis < 13_000_000_000_000 {
            let text = Timestamp.iso8601(millis: millis)
            #expect(Timestamp.parseISO8601(text) == millis, "\(text)")
            millis += 86_400_000 * 37 + 3_723_456
        }
        #expect(Timestamp.parseISO8601("1969-12-31T23:59:59Z") == nil)
        #expect(Timestamp.parseISO8601("2026-11-24T12:00:00") == nil)
        #expect(Timestamp.parseISO8601("2026-11-24T12:00:00.Z") == nil)
    }
}
