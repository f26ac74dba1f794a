// libFuzzer target: the application message decoder (`{"Put":...}`, `{"Delete":...}`,
// `{"Batch":[...]}`, `{"Announce":...}`), fed what a peer might publish. Accepted messages
// re-encode to bytes that decode to the same writes or announcement.

@_spi(Fuzzing) import SyncNode
import SyncStore
import Wire

let author = try! PeerID("12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq")

@_cdecl("LLVMFuzzerTestOneInput")
public func writeMessageFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let payload = try? WriteMessage.decode(bytes, author: author) else { return 0 }
    let again = try? WriteMessage.decode(WriteMessage.encode(payload), author: author)
    precondition(again == payload, "writes did not round-trip")
    return 0
}
