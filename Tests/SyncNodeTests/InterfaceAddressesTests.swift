import Testing
@testable import SyncNode

/// The machine's IPv4 interfaces, read with getifaddrs and formatted by `IPAddressText`.
struct InterfaceAddressesTests {
    @Test func loopbackIsListedWithItsSubnet() throws {
        let loopback = try #require(InterfaceAddresses.interfaces().first { $0.address == "127.0.0.1" })
        #expect(loopback.loopback && loopback.netmask == "255.0.0.0")
        #expect(loopback.contains("127.9.8.7") && !loopback.contains("10.0.0.1"))
        #expect(InterfaceAddresses.ipv4().first == "127.0.0.1")
    }

    @Test func dottedQuadsBecomeNumbers() {
        #expect(InterfaceAddresses.number("192.168.1.20") == 0xC0A8_0114)
        #expect(InterfaceAddresses.number("255.255.255.0") == 0xFFFF_FF00)
        #expect(InterfaceAddresses.number("1.2.3") == nil)
        #expect(InterfaceAddresses.number("1.2.3.256") == nil)
    }
}
