import DPDK
import FrameSupport
@testable import Offload
import TestSupport
import Wire
import XCTest

/// What does not make a whole frame: each case hands the partial frame back as the segments
/// it came in, then the segment, in order, counted by reason; nothing is lost or repeated.
extension STTReassemblerTests {
    /// A frame of `segments` wire segments (at least 8), and its bytes.
    private func segments(_ spec: STTSpec = STTSpec(), segmentSize: Int = 9000) throws -> (frame: [UInt8], segments: [[UInt8]]) {
        let frame = spec.build()
        let segments = try cut(frame, segmentSize: segmentSize)
        XCTAssertGreaterThanOrEqual(segments.count, 8)
        return (frame, segments)
    }

    /// A payload byte of `segment` changed (its checksums not): a corrupted segment.
    private func corrupted(_ segment: [UInt8]) -> [UInt8] {
        var bytes = segment
        bytes[bytes.count - 100] ^= 0x5A
        return bytes
    }

    func testAGapOrReorderingHandsThePartialFrameBackThenTheSegment() throws {
        let (_, s) = try segments()
        var reassembler = makeReassembler()
        try offer(&reassembler, s[0])
        try offer(&reassembler, s[1])
        let late = try offer(&reassembler, s[3])
        XCTAssertEqual(late.singles, 3, "the two held segments, then the one after the gap")
        for index in [2] + Array(4..<s.count) { try offer(&reassembler, s[index]) }
        let back = finish(&reassembler)
        XCTAssertEqual(back.map(\.bytes), [s[0], s[1], s[3], s[2]] + s[4...], "unchanged, in the order they can leave")
        XCTAssertFalse(back.contains { $0.isFrame })
        XCTAssertEqual(flushed(.outOfOrder), 1)
        XCTAssertEqual(bypassed(.outOfOrder), 1)
        XCTAssertEqual(bypassed(.noFirstSegment), UInt64(s.count - 3), "the rest of the frame has no first segment")
        XCTAssertEqual(slots[CoalescingCounter.sttSegmentsReleased], 2)
    }

    func testALostLastSegmentLeavesTheFrameHeldUntilTheTimeout() throws {
        let (_, s) = try segments()
        var reassembler = makeReassembler()
        for (index, segment) in s.dropLast().enumerated() { try offer(&reassembler, segment, now: 100 + UInt64(index)) }
        XCTAssertEqual(reassembler.count, 1)
        XCTAssertEqual(reassembler.longestIdle, 100 + UInt64(s.count - 2))
        flush(&reassembler, idleSince: 100, reason: .timeout)
        XCTAssertTrue(released.isEmpty, "touched after 100: still held")
        flush(&reassembler, idleSince: 1_000, reason: .timeout)
        XCTAssertEqual(reassembler.count, 0)
        let back = finish(&reassembler)
        XCTAssertEqual(back.map(\.bytes), Array(s.dropLast()), "every segment as it came, in order")
        XCTAssertEqual(flushed(.timeout), 1)
        XCTAssertEqual(flushed(.stop), 0)
        XCTAssertEqual(slots[CoalescingCounter.sttSegmentsReleased], UInt64(s.count - 1))
    }

    func testDuplicatesHandThePartialFrameBack() throws {
        let (_, s) = try segments()
        var reassembler = makeReassembler()
        for segment in [s[0], s[1], s[1], s[0], s[0]] { try offer(&reassembler, segment) }
        let back = finish(&reassembler)
        XCTAssertEqual(back.map(\.bytes), [s[0], s[1], s[1], s[0], s[0]])
        // A repeated continuation ends the frame; the first segment again starts one, and a
        // third copy of it is a duplicate of that.
        XCTAssertEqual(flushed(.duplicate), 2)
        XCTAssertEqual(bypassed(.duplicate), 2)
        XCTAssertEqual(bypassed(.noFirstSegment), 0)
        XCTAssertEqual(flushed(.stop), 0)
        XCTAssertEqual(slots[CoalescingCounter.sttSegmentsIn], 3)
    }

    /// A bad payload byte, a bad outer IPv4 header checksum and a port's bad verdict are never
    /// merged; a port's good verdict is trusted under `.trustVerdicts` only.
    func testABadChecksumIsNeverMergedUnlessAPortVouchedForIt() throws {
        let (frame, s) = try segments()
        var badIP = s[2]
        badIP[14 + 4] ^= 0x01  // the outer IPv4 ID, its header checksum left as it was
        let cases: [(String, [UInt8], MbufFlags, CoalescingOptions.Verification, merged: Bool)] = [
            ("bad payload", corrupted(s[2]), [], .trustVerdicts, false),
            ("bad outer IPv4 header", badIP, [], .trustVerdicts, false),
            ("good segment, port says bad", s[2], [.rxL4ChecksumBad], .trustVerdicts, false),
            ("good segment, port says bad IP", s[2], [.rxIPChecksumBad], .trustVerdicts, false),
            ("bad payload, port vouches, verify all", corrupted(s[2]), [.rxL4ChecksumGood, .rxIPChecksumGood], .verifyAll, false),
            ("bad payload, port vouches, trusted", corrupted(s[2]), [.rxL4ChecksumGood, .rxIPChecksumGood], .trustVerdicts, true),
            ("good segment, port vouches", s[2], [.rxL4ChecksumGood, .rxIPChecksumGood], .trustVerdicts, true),
        ]
        for (label, third, flags, verification, merged) in cases {
            slots.update(repeating: 0, count: CoalescingCounter.slotCount)
            var reassembler = makeReassembler { $0.verification = verification }
            try offer(&reassembler, s[0])
            try offer(&reassembler, s[1])
            try offer(&reassembler, third, flags: flags)
            for segment in s[3...] { try offer(&reassembler, segment) }
            let back = finish(&reassembler)
            if merged {
                XCTAssertEqual(back.map(\.isFrame), [true], label)
                if third == s[2] { XCTAssertEqual(back.first?.bytes, frame, label) }
                XCTAssertEqual(slots[CoalescingCounter.sttFramesOut], 1, label)
            } else {
                XCTAssertEqual(back.map(\.bytes), [s[0], s[1], third] + s[3...], "\(label): everything unchanged")
                XCTAssertEqual(flushed(.checksumBad), 1, label)
                XCTAssertEqual(bypassed(.checksumBad), 1, label)
                XCTAssertEqual(bypassed(.noFirstSegment), UInt64(s.count - 3), label)
            }
        }
    }

    /// Frames of two outer flows, and two frames of one flow (ack differs), interleaved
    /// segment by segment: each is reassembled, and leaves when its last segment comes.
    func testInterleavedFramesAreEachReassembled() throws {
        let a = try segments(STTSpec(payload: 20_000, ack: 1, sport: 50000))
        let b = try segments(STTSpec(outerV6: true, payload: 25_000, ack: 1, sport: 50001))
        let c = try segments(STTSpec(payload: 15_000, ack: 2, sport: 50000))
        var reassembler = makeReassembler()
        let longest = max(a.segments.count, b.segments.count, c.segments.count)
        var completed: [[UInt8]] = []
        for index in 0..<longest {
            for run in [a, b, c] where index < run.segments.count {
                let result = try offer(&reassembler, run.segments[index])
                XCTAssertEqual(result.singles, 0)
                if result.frame { completed.append(run.frame) }
            }
        }
        let back = finish(&reassembler)
        XCTAssertEqual(back.map(\.isFrame), [true, true, true])
        XCTAssertTrue(back.map(\.bytes) == completed, "each frame byte for byte, in the order it completed")
        XCTAssertEqual(completed.first, c.frame, "the shortest completes first")
        XCTAssertEqual(slots[CoalescingCounter.sttFramesOut], 3)
    }

    func testAFullTableHandsTheOldestPartialFrameBack() throws {
        let runs = try (0..<3).map { try segments(STTSpec(payload: 12_000, ack: UInt32($0), sport: 50000 + UInt16($0))) }
        var reassembler = makeReassembler { $0.flows = 2 }
        try offer(&reassembler, runs[0].segments[0], now: 1)
        try offer(&reassembler, runs[1].segments[0], now: 2)
        try offer(&reassembler, runs[1].segments[1], now: 3)
        let third = try offer(&reassembler, runs[2].segments[0], now: 4)
        XCTAssertEqual(third.singles, 1, "the oldest frame's one segment made room")
        for index in 1..<runs[0].segments.count {
            for run in runs where index < run.segments.count && !(run.frame == runs[1].frame && index == 1) {
                try offer(&reassembler, run.segments[index])
            }
        }
        let back = finish(&reassembler)
        XCTAssertEqual(back.first?.bytes, runs[0].segments[0])
        XCTAssertEqual(back.filter(\.isFrame).map(\.bytes).sorted { $0.lexicographicallyPrecedes($1) },
                       [runs[1].frame, runs[2].frame].sorted { $0.lexicographicallyPrecedes($1) })
        XCTAssertEqual(flushed(.tableFull), 1)
        XCTAssertEqual(bypassed(.noFirstSegment), UInt64(runs[0].segments.count - 1))
    }

    /// Only the last segment may be shorter than the first; a frame too large for its IP
    /// length (or the size cap) or of too many segments is never held; a whole STT frame
    /// has nothing to reassemble.
    func testWhatCannotMakeAFrameIsNeverHeld() throws {
        let (_, long) = try segments(segmentSize: 1000)
        let (_, short) = try segments(segmentSize: 500)
        var reassembler = makeReassembler()
        try offer(&reassembler, long[0])
        try offer(&reassembler, short[2])  // offset 1000 as expected, but 500 bytes and not the last
        XCTAssertEqual(flushed(.sizeDiffers), 1)
        XCTAssertEqual(bypassed(.sizeDiffers), 1)

        let (_, large) = try segments(STTSpec(payload: 40_000))
        var capped = makeReassembler { $0.size = 30_000 }
        for segment in large { try offer(&capped, segment) }
        XCTAssertEqual(bypassed(.tooLarge), 1)
        XCTAssertEqual(bypassed(.noFirstSegment), UInt64(large.count - 1))
        XCTAssertEqual(capped.count, 0)
        XCTAssertEqual(finish(&capped).map(\.bytes), [long[0], short[2]] + large, "the harness hands back all so far")

        let (_, many) = try segments(STTSpec(payload: 40_000), segmentSize: 300)
        XCTAssertGreaterThan(many.count, STTReassembler.maximumSegments)
        try offer(&reassembler, many[0])
        XCTAssertEqual(bypassed(.tooManySegments), 1)

        let whole = STTSpec(payload: 1_000).build()
        try offer(&reassembler, whole)
        XCTAssertEqual(bypassed(.wholeFrame), 1)
        XCTAssertEqual(finish(&reassembler).map(\.bytes), [many[0], whole])
        XCTAssertEqual(slots[CoalescingCounter.sttSegmentsIn], 1)
    }
}
