import ControlProtocol
import Testing
import TestSupport

@Suite struct LineFramerTests {
    @Test func splitsLinesAndDropsCarriageReturns() {
        var framer = LineFramer()
        let events = framer.receivedBytes(Array("a\nbc\r\n\nd".utf8))
        #expect(events == [.line(Array("a".utf8)), .line(Array("bc".utf8)), .line([])])
        #expect(framer.bufferedBytes == 1)
        #expect(framer.receivedBytes(Array("e\n".utf8)) == [.line(Array("de".utf8))])
    }

    @Test func givesTheSameLinesWhateverTheSplit() {
        let input = Array("{\"command\":\"status\"}\nsecond line\n\nthird\n".utf8)
        var whole = LineFramer()
        let expected = whole.receivedBytes(input)
        for split in 0...input.count {
            var framer = LineFramer()
            let events = framer.receivedBytes(input[..<split]) + framer.receivedBytes(input[split...])
            #expect(events == expected, "split at \(split)")
        }
        var bytewise = LineFramer()
        #expect(input.flatMap { bytewise.receivedBytes([$0]) } == expected)
    }

    @Test func refusesAnOverlongLineOnceThenResynchronises() {
        var framer = LineFramer(maxLineBytes: 10)
        var events = framer.receivedBytes(Array("0123456789".utf8))
        #expect(events.isEmpty)
        events = framer.receivedBytes(Array("ABCDEF".utf8))
        #expect(events == [.tooLong(seen: 16)])
        events = framer.receivedBytes([UInt8](repeating: 0x41, count: 100_000))
        #expect(events.isEmpty)
        #expect(framer.bufferedBytes == 0)
        events = framer.receivedBytes(Array("tail\nok\n".utf8))
        #expect(events == [.line(Array("ok".utf8))])
    }

    @Test func aLineOfExactlyTheLimitIsAccepted() {
        var framer = LineFramer(maxLineBytes: 4)
        #expect(framer.receivedBytes(Array("abcd\nabcde\n".utf8)) == [.line(Array("abcd".utf8)), .tooLong(seen: 5)])
    }
}
