// swift-tools-version:6.0
// The libFuzzer targets, one executable per parser, each an ordinary SwiftPM target that
// imports the project's modules through the root package's P2PSyncModules product.
// Build only with the fuzzer sanitizer, which supplies `main`:
//     swift build -c release --sanitize=fuzzer --sanitize=address
// (fuzz/run and fuzz/replay do this; see fuzz/README.md).
import PackageDescription

let targets = [
    "ConnectionFuzz", "ControlRequestFuzz", "GossipRouterFuzz", "IdentifyFuzz", "JSONFuzz", "KadMessageFuzz", "KeyProtobufFuzz", "MDNSFuzz",
    "MultiaddrBinaryFuzz", "MultiaddrTextFuzz", "MultistreamFuzz", "PeerIDFuzz", "ProtobufReaderFuzz", "GroupFuzz",
    "PrivateNetworkFuzz", "PubsubRPCFuzz", "QUICEndpointFuzz", "ReconcileFuzz", "VarintFuzz", "WriteMessageFuzz", "YamuxFuzz",
]

let package = Package(
    name: "p2p-sync-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "p2p-sync", path: ".."),
    ],
    targets: targets.map { name in
        .executableTarget(name: name, dependencies: [.product(name: "P2PSyncModules", package: "p2p-sync")],
                          path: "Targets/\(name)")
    }
)
