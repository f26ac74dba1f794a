import Testing
import TestSupport
@testable import Reactor

/// `withContiguousReadable`: one mutable region, linearised only when the bytes wrap.
@Suite struct ByteRingContiguousTests {
    @Test func lendsUnwrappedBytesWhereTheyAre() {
        var ring = ByteRing(capacity: 8)
        ring.append([1, 2, 3, 4, 5])
        ring.consume(1)
        ring.withContiguousReadable { region in
            #expect(Array(region) == [2, 3, 4, 5])
            region[0] = 20
            return 1
        }
        #expect(ring.readableBytes == 3)
        #expect(ring.peek(3) == [3, 4, 5])
    }

    @Test func linearisesWrappedBytesInPlace() {
        for start in 0..<8 {
            var ring = ByteRing(capacity: 8)
            // An emptied ring restarts at 0, so one byte stays to hold the read position.
            ring.append([UInt8](repeating: 0, count: start) + [1])
            ring.consume(start)
            ring.append([2, 3, 4, 5, 6, 7, 8])
            #expect(ring.isFull)
            ring.withContiguousReadable { region in
                #expect(Array(region) == [1, 2, 3, 4, 5, 6, 7, 8], "read position \(start)")
                region[3] = 40
                return 3
            }
            #expect(ring.peek(5) == [40, 5, 6, 7, 8], "read position \(start)")
            #expect(ring.append([9, 10, 11]) == 3)
            #expect(ring.peek(8) == [40, 5, 6, 7, 8, 9, 10, 11], "read position \(start)")
        }
    }

    @Test func emptyRingLendsAnEmptyRegion() {
        var ring = ByteRing(capacity: 4)
        ring.withContiguousReadable { region in
            #expect(region.count == 0)
            return 0
        }
        #expect(ring.isEmpty)
    }
}
