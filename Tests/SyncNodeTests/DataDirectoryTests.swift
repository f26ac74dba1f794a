import Foundation
import P2PCrypto
import SyncNode
import Testing
import TestSupport

@Suite struct DataDirectoryTests {
    @Test func resolvesExplicitThenEnvironmentThenHome() throws {
        #expect(try DataDirectory.resolve(explicit: "/x", environment: ["P2P_SYNC_HOME": "/y", "HOME": "/h"]).path == "/x")
        #expect(try DataDirectory.resolve(explicit: nil, environment: ["P2P_SYNC_HOME": "/y", "HOME": "/h"]).path == "/y")
        #expect(try DataDirectory.resolve(explicit: nil, environment: ["HOME": "/h"]).path == "/h/.local/share/p2p-sync")
        #expect(throws: ConfigurationError.noDataDirectory) { try DataDirectory.resolve(explicit: nil, environment: [:]) }
    }

    @Test func createsNestedDirectoriesPrivately() throws {
        let temp = TemporaryDirectory()
        let dir = DataDirectory(path: temp.file("a/b/c"))
        try dir.create()
        var info = stat()
        #expect(stat(dir.path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o700)
    }

    @Test func aSecondLockOnTheSameDirectoryIsRefused() throws {
        let temp = TemporaryDirectory()
        let dir = DataDirectory(path: temp.path)
        var first: DirectoryLock? = try dir.lock()
        do {
            _ = try dir.lock()
            Issue.record("second lock succeeded")
        } catch {
            guard case .alreadyRunning(_, let pid) = error else { Issue.record("wrong error \(error)"); return }
            #expect(pid == String(getpid()))
        }
        first = nil
        _ = first
        _ = try dir.lock()  // released with its holder
    }

    @Test func identityIsCreatedOnceThenReloaded() throws {
        let temp = TemporaryDirectory()
        let path = temp.file("identity.key")
        let (made, created) = try IdentityFile.loadOrCreate(path: path)
        #expect(created)
        let (loaded, createdAgain) = try IdentityFile.loadOrCreate(path: path)
        #expect(!createdAgain)
        #expect(loaded.publicKey == made.publicKey)
        #expect(made.publicKey.peerID.description.hasPrefix("12D3KooW"))
        let bytes = try #require(FileManager.default.contents(atPath: path))
        #expect(Array(bytes.prefix(4)) == [0x08, 0x01, 0x12, 0x40])
    }

    @Test func aDamagedIdentityIsReportedNotReplaced() throws {
        let temp = TemporaryDirectory()
        let path = temp.file("identity.key")
        FileManager.default.createFile(atPath: path, contents: Data([0x08, 0x01, 0x12, 0x40, 0x00]))
        #expect(throws: ConfigurationError.self) { try IdentityFile.loadOrCreate(path: path) }
        #expect(FileManager.default.contents(atPath: path)?.count == 5)
    }
}
