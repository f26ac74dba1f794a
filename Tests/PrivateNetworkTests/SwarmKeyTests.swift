import P2PCrypto
import PrivateNetwork
import Testing
import TestSupport
import Wire

/// go-libp2p's swarm.key format: what go and rust write reads, and every malformed file is
/// refused with a message that says what is wrong.
@Suite struct SwarmKeyTests {
    static let hex = "5c06d16d84d9d495022dc37e6021249eb48f1d7ca23133f28d22073649365a5f"

    static func key(_ text: String) throws(SwarmKeyError) -> [UInt8] {
        try SwarmKey(fileContents: Array(text.utf8)).secret.array
    }

    @Test func readsBase16Base64AndBinary() throws {
        let expected = Hex.bytes(Self.hex)
        #expect(try Self.key("/key/swarm/psk/1.0.0/\n/base16/\n\(Self.hex)\n") == expected)
        #expect(try Self.key("/key/swarm/psk/1.0.0/\n/base16/\n\(Self.hex.uppercased())") == expected)
        // go trims a CR before each newline (a file written on Windows).
        #expect(try Self.key("/key/swarm/psk/1.0.0/\r\n/base16/\r\n\(Self.hex)\r\n") == expected)
        #expect(try Self.key("/key/swarm/psk/1.0.0/\n/base64/\nXAbRbYTZ1JUCLcN+YCEknrSPHXyiMTPyjSIHNkk2Wl8=\n") == expected)
        let binary = Array("/key/swarm/psk/1.0.0/\n/bin/\n".utf8) + expected
        #expect(try SwarmKey(fileContents: binary).secret.array == expected)
    }

    @Test func writesWhatItReads() throws {
        let key = SwarmKey.generate()
        let text = String(decoding: key.fileContents, as: UTF8.self)
        #expect(text.hasPrefix("/key/swarm/psk/1.0.0/\n/base16/\n"))
        #expect(text.count == 22 + 9 + 64 + 1)
        #expect(try SwarmKey(fileContents: key.fileContents).secret.array == key.secret.array)
        #expect(try SwarmKey(fileContents: key.fileContents).identifier == key.identifier)
        #expect(SwarmKey.generate().identifier != key.identifier)
        #expect(key.identifier.count == 16)
    }

    @Test func refusesMalformedFiles() {
        let cases: [(String, SwarmKeyError)] = [
            ("", .truncated),
            ("/key/swarm/psk/1.0.0/\n", .truncated),
            ("/key/swarm/psk/2.0.0/\n/base16/\n\(Self.hex)\n", .badHeader("/key/swarm/psk/2.0.0/")),
            ("/key/swarm/psk/1.0.0/\n/base32/\n\(Self.hex)\n", .unknownEncoding("/base32/")),
            ("/key/swarm/psk/1.0.0/\n/base16/\n\(Self.hex.dropLast(2))\n", .wrongLength(31)),
            ("/key/swarm/psk/1.0.0/\n/base16/\n\(Self.hex)00\n", .wrongLength(33)),
            ("/key/swarm/psk/1.0.0/\n/base16/\n\(Self.hex.dropLast())\n", .badDigits("an odd number of hex digits (63)")),
            ("/key/swarm/psk/1.0.0/\n/base16/\nzz\(Self.hex.dropFirst(2))\n", .badDigits("a character that is not a hex digit at position 1")),
            ("/key/swarm/psk/1.0.0/\n/base64/\nXAbRbYTZ1JUC*cN+YCEknrSPHXyiMTPyjSIHNkk2Wl8=\n",
             .badDigits("a character that is not standard base64 at position 13")),
            ("/key/swarm/psk/1.0.0/\n/bin/\nshort", .wrongLength(5)),
        ]
        for (text, error) in cases {
            #expect(throws: error, "\(text.debugDescription)") { try Self.key(text) }
        }
        // Every message says what to do or what is wrong, never just a code.
        #expect(SwarmKeyError.truncated.description.contains("keygen swarm-key"))
    }
}
