import Foundation
import Testing
import TestSupport
import Wire
import P2PCrypto
@testable import LibP2PTLS

/// Our certificate checked by independent code, and py-libp2p's checked by ours:
/// Tests/Interop/py_tls_cert.py runs pyca/cryptography and py-libp2p 0.8.1's
/// `PeerAuthenticator` / `CertificateGenerator`. Needs the interop virtualenv
/// (`scripts/py-venv`, or P2P_SYNC_INTEROP_PYTHON naming its python); skipped, with that
/// message, without it.
@Suite(.enabled(if: InteropPython.path != nil,
                "no interop python: set P2P_SYNC_INTEROP_PYTHON or create .venv-interop with scripts/py-venv"),
       .timeLimit(.minutes(10)))
struct PyTLSInteropTests {
    static let script = InteropPython.repositoryRoot + "/Tests/Interop/py_tls_cert.py"

    /// Runs the script; its one JSON line as a dictionary, and its exit status.
    static func run(_ arguments: [String]) throws -> (status: Int32?, json: [String: Any], stderr: String) {
        let directory = TemporaryDirectory()
        let py = try ChildProcess(try #require(InteropPython.path), [script] + arguments, directory: directory.path, name: "py-tls")
        let status = py.waitForExit(timeout: 60)
        let line = py.stdout.split(separator: "\n").last.map(String.init) ?? ""
        let json = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
        return (status, json, String(py.stderr.suffix(2000)))
    }

    @Test func pyAcceptsOurCertificate() throws {
        let identity = Ed25519PrivateKey.generate()
        let now = Int64(Date().timeIntervalSince1970)
        let certificate = try LibP2PCertificate(identity: identity, now: now)
        let ourID = certificate.peerID.description
        let (status, json, stderr) = try Self.run(["verify", certificate.der.hex, ourID])
        #expect(status == 0, "py: \(json) \(stderr)")
        #expect(json["peer_id"] as? String == ourID)
        #expect(json["version"] as? String == "v3")
        #expect(json["extension_critical"] as? Bool == false)
        #expect(json["extension_count"] as? Int == 1)
        #expect(json["curve"] as? String == "secp256r1")
        #expect(json["signature_hash"] as? String == "sha256")
        #expect(json["not_before"] as? Int == Int(now - 3600))
        #expect(json["not_after"] as? Int == Int(now + 100 * 365 * 86_400))
        // Checked by cryptography, not by py-libp2p's lenient parser.
        #expect(json["independent_signature_check"] as? String == "ed25519")
        #expect((json["serial_bits"] as? Int ?? 0) >= 120)
    }

    @Test func pyRefusesOurCertificateForAnotherPeer() throws {
        let certificate = try LibP2PCertificate(identity: Ed25519PrivateKey.generate(), now: Int64(Date().timeIntervalSince1970))
        let other = PublicKey.ed25519(Ed25519PrivateKey.generate().publicKey).peerID.description
        let (status, json, stderr) = try Self.run(["verify", certificate.der.hex, other])
        #expect(status == 1, "py: \(json) \(stderr)")
        #expect((json["error"] as? String)?.contains("Peer ID mismatch") == true, "py: \(json)")
    }

    @Test func pyRefusesOurCertificateWithATamperedIdentitySignature() throws {
        var profile = LibP2PCertificate.Profile(now: Int64(Date().timeIntervalSince1970))
        profile.corruptIdentitySignature = true
        let certificate = try LibP2PCertificate(identity: Ed25519PrivateKey.generate(), profile: profile)
        let (status, json, stderr) = try Self.run(["verify", certificate.der.hex])
        #expect(status == 1, "py: \(json) \(stderr)")
    }

    @Test func weAcceptPyCertificateWithASecp256k1Identity() throws {
        let (status, json, stderr) = try Self.run(["generate"])
        try #require(status == 0, "py: \(json) \(stderr)")
        let der = Hex.bytes(try #require(json["der"] as? String))
        let peerID = try PeerID(try #require(json["peer_id"] as? String))
        #expect(peerID.description.hasPrefix("16Uiu2HA"))
        let key = try LibP2PTLSVerifier.verify(chain: [der], now: Int64(Date().timeIntervalSince1970), expectedPeer: peerID)
        #expect(key.type == .secp256k1)
        #expect(key.peerID == peerID)
        // py's certificate is valid from a minute ago for a year only.
        #expect(throws: LibP2PTLSError.self) {
            try LibP2PTLSVerifier.verify(chain: [der], now: Int64(Date().timeIntervalSince1970) + 400 * 86_400, expectedPeer: peerID)
        }
    }
}

/// The interop virtualenv's python, found as Tests/EndToEndTests do: P2P_SYNC_INTEROP_PYTHON,
/// else the repository's .venv-interop; nil when neither exists.
enum InteropPython {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    static var path: String? {
        if let explicit = ProcessInfo.processInfo.environment["P2P_SYNC_INTEROP_PYTHON"], !explicit.isEmpty { return explicit }
        let venv = repositoryRoot + "/.venv-interop/bin/python"
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : nil
    }
}
