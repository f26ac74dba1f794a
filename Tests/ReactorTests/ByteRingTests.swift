import Testing
import TestSupport
@testable import Reactor

/// The ring alone: no descriptors, so these run in parallel with everything.
@Suite struct ByteRingTests {
    /// A ring of 8 whose read position is at 5, holding one byte "X".
    private func ringAtOffsetFive() -> ByteRing {
        var ring = ByteRing(capacity: 8)
        #expect(ring.append([0, 0, 0, 0, 0, UInt8(ascii: "X")]) == 6)
        ring.consume(5)
        return ring
    }

    @Test func wrapsAroundTheEnd() {
        var ring = ByteRing(capacity: 8)
        ring.append([1, 2, 3, 4, 5, 6])
        #expect(ring.read(4) == [1, 2, 3, 4])
        #expect(ring.append([7, 8, 9, 10, 11, 12]) == 6)
        #expect(ring.readableBytes == 8)
        #expect(ring.writableBytes == 0)
        #expect(ring.peek(8) == [5, 6, 7, 8, 9, 10, 11, 12])
        ring.withReadableSegments { first, second in
            #expect(Array(first) == [5, 6, 7, 8])
            #expect(Array(second) == [9, 10, 11, 12])
        }
        #expect(ring.byte(at: 0) == 5)
        #expect(ring.byte(at: 4) == 9)
        #expect(ring.byte(at: 7) == 12)
    }

    @Test func firstIndexFindsBytesOnBothSidesOfTheWrap() {
        var ring = ringAtOffsetFive()
        #expect(ring.append(Array("ab\ncd\ne".utf8)) == 7)
        ring.withReadableSegments { first, second in
            #expect(Array(first) == Array("Xab".utf8))
            #expect(Array(second) == Array("\ncd\ne".utf8))
        }
        #expect(ring.firstIndex(of: UInt8(ascii: "\n")) == 3)
        #expect(ring.firstIndex(of: UInt8(ascii: "e")) == 7)
        #expect(ring.firstIndex(of: UInt8(ascii: "X")) == 0)
        #expect(ring.firstIndex(of: UInt8(ascii: "b")) == 2)
        #expect(ring.firstIndex(of: UInt8(ascii: "z")) == nil)
        ring.consume(4)
        #expect(ring.firstIndex(of: UInt8(ascii: "\n")) == 2)
    }

    @Test func consumingEverythingRestartsAtTheFront() {
        var ring = ringAtOffsetFive()
        ring.append([1, 2])
        ring.consume(3)
        #expect(ring.isEmpty)
        // One contiguous free segment of the full capacity.
        var segmentSizes: [Int] = []
        let written = ring.append { first, second in
            segmentSizes = [first.count, second.count]
            return 0
        }
        #expect(written == 0)
        #expect(segmentSizes == [8, 0])
    }

    @Test func appendStopsAtCapacity() {
        var ring = ByteRing(capacity: 4)
        #expect(ring.append([1, 2, 3, 4, 5, 6]) == 4)
        #expect(ring.isFull)
        #expect(ring.append([7]) == 0)
        #expect(ring.read(4) == [1, 2, 3, 4])
        var empty = ByteRing(capacity: 0)
        #expect(empty.append([1]) == 0)
        #expect(empty.firstIndex(of: 1) == nil)
        #expect(empty.peek(0) == [])
    }

    @Test func reserveCapacityKeepsWrappedBytesInOrder() {
        var ring = ringAtOffsetFive()
        ring.append([1, 2, 3, 4, 5, 6, 7])
        ring.reserveCapacity(20)
        #expect(ring.capacity >= 20)
        #expect(ring.readableBytes == 8)
        #expect(ring.append([8, 9]) == 2)
        #expect(ring.read(10) == [UInt8(ascii: "X"), 1, 2, 3, 4, 5, 6, 7, 8, 9])
    }

    /// Random operations against an Array model; the seed makes any failure replayable.
    @Test(arguments: [1, 2, 3, 0xC0FFEE] as [UInt64])
    func matchesAnArrayModel(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        let capacity = Int.random(in: 1 ... 64, using: &random)
        var ring = ByteRing(capacity: capacity)
        var model: [UInt8] = []
        for step in 0 ..< 5_000 {
            switch Int.random(in: 0 ..< 5, using: &random) {
            case 0, 1:
                let bytes = random.bytes(Int.random(in: 0 ... capacity, using: &random))
                let fits = min(bytes.count, capacity - model.count)
                #expect(ring.append(bytes) == fits, "step \(step)")
                model += bytes.prefix(fits)
            case 2:
                let count = Int.random(in: 0 ... model.count, using: &random)
                #expect(ring.read(count) == Array(model.prefix(count)), "step \(step)")
                model.removeFirst(count)
            case 3:
                let count = Int.random(in: 0 ... model.count, using: &random)
                ring.consume(count)
                model.removeFirst(count)
            default:
                let needle = UInt8.random(in: 0 ... 255, using: &random) & 0x0F
                let masked = ring.peek(ring.readableBytes).map { $0 & 0x0F }
                let expected = model.map { $0 & 0x0F }
                #expect(masked == expected, "step \(step)")
                if let hit = model.firstIndex(of: needle) {
                    #expect(ring.firstIndex(of: needle) == hit, "step \(step)")
                } else {
                    #expect(ring.firstIndex(of: needle) == nil, "step \(step)")
                }
            }
            #expect(ring.readableBytes == model.count)
            #expect(ring.writableBytes == capacity - model.count)
            if !model.isEmpty {
                let offset = Int.random(in: 0 ..< model.count, using: &random)
                #expect(ring.byte(at: offset) == model[offset], "step \(step)")
            }
            ring.withReadableSegments { first, second in
                #expect(Array(first) + Array(second) == model, "step \(step)")
            }
        }
    }
}

@Suite struct ValueTypeTests {
    @Test func errnoReadsLikeTheSystem() {
        #expect(Errno(98).description == "EADDRINUSE (Address already in use)")
        #expect(Errno(111).name == "ECONNREFUSED")
        #expect(ReactorError.syscall("epoll_ctl", Errno(9)).description == "epoll_ctl failed: EBADF (Bad file descriptor)")
    }

    @Test func instantArithmetic() {
        let start = Instant(nanoseconds: 5_000_000_000)
        #expect((start + .milliseconds(1500)).nanoseconds == 6_500_000_000)
        #expect((start + .seconds(-10)).nanoseconds == 0)
        #expect((start + .milliseconds(250)).duration(since: start) == .milliseconds(250))
        #expect(start.duration(since: start + .seconds(1)) == .seconds(-1))
        #expect(Instant.now() >= Instant.now() + .seconds(-1))
    }

    @Test func timerHeapOrdersByDeadlineThenBySchedule() {
        var heap = TimerHeap()
        let deadlines: [UInt64] = [50, 10, 30, 10, 20, 50, 0]
        for (index, deadline) in deadlines.enumerated() {
            heap.insert(.init(deadline: Instant(nanoseconds: deadline), id: TimerID(rawValue: UInt64(index))))
        }
        var order: [UInt64] = []
        while let entry = heap.removeFirst() { order.append(entry.id.rawValue) }
        #expect(order == [6, 1, 3, 4, 2, 0, 5])
    }
}
