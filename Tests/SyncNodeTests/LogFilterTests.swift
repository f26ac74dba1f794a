import SyncNode
import Testing

@Suite struct LogFilterTests {
    @Test func parsesDefaultAndPerAreaLevels() throws {
        let filter = try LogFilter(parsing: "gossipsub=debug, control=trace,warn")
        #expect(filter.defaultLevel == .warning)
        #expect(filter.level(for: "gossipsub") == .debug)
        #expect(filter.level(for: "control") == .trace)
        #expect(filter.level(for: "store") == .warning)
        #expect(try LogFilter(parsing: "DEBUG").defaultLevel == .debug)
        #expect(try LogFilter(parsing: "").defaultLevel == .info)
    }

    @Test(arguments: ["loud", "gossipsub=", "=debug", "a=b", "info,verbose"])
    func refusesUnknownLevels(_ spec: String) {
        #expect(throws: ConfigurationError.self) { try LogFilter(parsing: spec) }
    }
}
