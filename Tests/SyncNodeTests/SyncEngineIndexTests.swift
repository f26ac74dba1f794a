import P2PCrypto
import Reconcile
@testable import SyncNode
import SyncStore
import Testing
import TestSupport

/// The engine's reconcile index, kept up to date by each commit (issue 15), against the
/// index built from the store afresh, as it was after every write before.
@Suite struct SyncEngineIndexTests {
    final class Wall: @unchecked Sendable { var millis: UInt64 = 1_795_000_000_000 }

    static let here: [UInt8] = [0x00, 0x24, 0x08, 0x02]
    static let peers: [[UInt8]] = [[0x00, 0x24, 0x08, 0x01], [0x00, 0x24, 0x08, 0x03]]
    /// Few keys, so that writes overwrite; "é" composed and decomposed are two keys to the store.
    static let keys = ["a", "ab", "b", "k/1", "k/2", "k/10", "\u{e9}", "e\u{301}", "z~", "日本"]

    static func rebuilt(_ store: Store) throws -> ReplicaIndex {
        ReplicaIndex(sortedItems: try store.versions().map { ItemID(key: $0.key, version: $0.version) }, hash: SHA256.hash)
    }

    static func items(_ index: ReplicaIndex) -> [ItemID] { Array(index.items(0..<index.count)) }

    @Test func localAndRemoteWritesKeepTheIndexEqualToARebuild() throws {
        let wall = Wall()
        let store = try Store(path: Store.inMemoryPath)
        let log = LogSink(filter: LogFilter(defaultLevel: .error)).logger("store")
        var engine = try SyncEngine(store: store, localOrigin: Self.here, logger: log, wallMillis: { wall.millis })
        var random = SeededRandom(seed: 15)
        engine.stagePut(key: "before", value: "the first index") { _ in }
        var snapshot = try engine.replicaIndex()
        var snapshotItems = Self.items(snapshot)
        for step in 0..<300 {
            wall.millis += UInt64.random(in: 0..<3, using: &random)
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let key = Self.keys.randomElement(using: &random)!
                switch Int.random(in: 0..<4, using: &random) {
                case 0: engine.stagePut(key: key, value: "v\(step)") { _ in }
                case 1: engine.stageDelete(key: key) { _ in }
                default:
                    // From a peer: newer or older than what is here, so some lose to the merge rule.
                    let millis = wall.millis - UInt64.random(in: 0..<6, using: &random)
                    let version = Version(hlc: HLC(physicalMillis: millis, logical: 0), origin: Self.peers.randomElement(using: &random)!)
                    engine.stageRemote([Entry(key: key, value: Bool.random(using: &random) ? "r\(step)" : nil, version: version)])
                }
            }
            let index = try engine.replicaIndex()
            let expected = try Self.rebuilt(store)
            #expect(Self.items(index) == Self.items(expected), "step \(step)")
            #expect(index.fingerprint == expected.fingerprint, "step \(step)")
            if Int.random(in: 0..<20, using: &random) == 0 {
                // An earlier snapshot, as a running session holds it, has not moved.
                #expect(Self.items(snapshot) == snapshotItems, "step \(step): snapshot")
                snapshot = index
                snapshotItems = Self.items(index)
            }
            if Int.random(in: 0..<50, using: &random) == 0 {
                // A restart: a new engine builds its index from the store.
                engine = try SyncEngine(store: store, localOrigin: Self.here, logger: log, wallMillis: { wall.millis })
            }
        }
    }

    @Test func aCompletionSeesItsWriteInTheIndex() throws {
        let wall = Wall()
        let engine = try SyncEngine(store: try Store(path: Store.inMemoryPath), localOrigin: Self.here,
                                    logger: LogSink(filter: LogFilter(defaultLevel: .error)).logger("store"), wallMillis: { wall.millis })
        _ = try engine.replicaIndex()
        var written: Version?, inIndex: Version?
        engine.stagePut(key: "k", value: "v") { result in
            written = try? result.get().entry.version
            inIndex = try? engine.replicaIndex().version(of: Array("k".utf8))
        }
        engine.commitStaged()
        #expect(written != nil)
        #expect(inIndex == written)
    }
}
