import CDPDK
import DPDK
import Foundation
import FrameSupport
@testable import Offload
import TestSupport
import Wire
import XCTest

/// `STTReassembler` on mbufs: STT frames cut by our Swift GSO come back byte for byte as the
/// frame that was cut (and cut again the same way); anything out of the ordinary hands the
/// partial frame back as the segments it came in, counted by reason; every mbuf offered comes
/// back exactly once and the pools are full after every test.
final class STTReassemblerTests: XCTestCase {
    var slots: UnsafeMutablePointer<UInt64>!
    var singles: UnsafeMutablePointer<OpaquePointer?>!
    /// What the reassembler handed back, in order: frames it made and unchanged segments.
    var released: [(packet: Mbuf, isFrame: Bool)] = []
    var offered: [UInt] = []

    override func setUpWithError() throws {
        _ = try Fixture.pools()
        slots = .allocate(capacity: CoalescingCounter.slotCount)
        slots.initialize(repeating: 0, count: CoalescingCounter.slotCount)
        singles = .allocate(capacity: STTReassembler.maximumRelease)
    }

    override func tearDownWithError() throws {
        slots.deallocate()
        singles.deallocate()
        try Fixture.assertPoolsFull()
    }

    // MARK: frames

    /// One whole STT frame (`Frames.stt`).
    struct STTSpec {
        var outerV6 = false
        var innerV6 = false
        var payload = 30_000
        var flags: STTFlags = [.checksumVerified, .tcpPayload, .ipv4]
        var mss: UInt16 = 1448
        var vlan: UInt16? = 100
        var ack: UInt32 = 0x0100_0001
        var sport: UInt16 = 50000
        var outerVLANs: [UInt16] = []
        var outerID: UInt16 = 0x1234

        func build() -> [UInt8] {
            Frames.stt(outerV6: outerV6, innerV6: innerV6, payload: payload, flags: flags, mss: mss, vlan: vlan, ack: ack,
                       sport: sport, outerVLANs: outerVLANs, outerID: outerID)
        }
    }

    /// `frame` cut by Swift GSO (as the egress cuts an STT frame), as wire frames.
    func cut(_ frame: [UInt8], segmentSize: Int = 9000, mtu: Int = 1500, fixedIDs: FixedIPv4IDs? = nil,
                     file: StaticString = #filePath, line: UInt = #line) throws -> [[UInt8]] {
        try cut(Fixture.mbuf(frame), layout: Fixture.layout(frame), segmentSize: segmentSize, mtu: mtu, fixedIDs: fixedIDs,
                file: file, line: line)
    }

    func cut(_ packet: Mbuf, layout: PacketLayout, segmentSize: Int, mtu: Int = 1500, fixedIDs: FixedIPv4IDs? = nil,
                     file: StaticString = #filePath, line: UInt = #line) throws -> [[UInt8]] {
        var segmenter = try makeSegmenter()
        defer { segmenter.deallocate() }
        let output = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 256)
        defer { output.deallocate() }
        var options = SegmentationOptions(segmentSize: segmentSize, mtu: mtu)
        options.knownFixedIDs = fixedIDs
        let result = segmenter.segment(packet, layout: layout, options: options, into: output, capacity: 256)
        XCTAssertFalse(segmenter.isCutting, file: file, line: line)
        guard case .segmented(let count) = result else {
            XCTFail("cut failed: \(result)", file: file, line: line)
            return []
        }
        return Fixture.frames(output, count: count)
    }

    // MARK: the harness

    func makeReassembler(_ change: (inout CoalescingOptions) -> Void = { _ in }) -> STTReassembler {
        var options = CoalescingOptions()
        change(&options)
        return STTReassembler(options: options)
    }

    /// Offers `bytes` as one received mbuf with `flags`; returns what came back (singles, frame).
    @discardableResult
    func offer(_ reassembler: inout STTReassembler, _ bytes: [UInt8], flags: MbufFlags = [], now: UInt64 = 0,
                       file: StaticString = #filePath, line: UInt = #line) throws -> (singles: Int, frame: Bool) {
        let packet = try XCTUnwrap(Frames.mbuf(bytes, pool: Fixture.pools().chunks), file: file, line: line)
        packet.offloadFlags = flags
        offered.append(UInt(bitPattern: packet.pointer))
        let layout = try Fixture.layout(bytes)
        XCTAssertEqual(layout.tunnel, .stt, file: file, line: line)
        let result = reassembler.offer(packet, layout: layout, now: now, slots: slots, singles: singles)
        for index in 0..<result.singles { released.append((Mbuf(singles[index]!), false)) }
        if let frame = result.frame { released.append((frame, true)) }
        return (result.singles, result.frame != nil)
    }

    func flush(_ reassembler: inout STTReassembler, idleSince: UInt64 = .max, reason: STTFlushReason = .stop) {
        let room = STTReassembler.maximumRelease
        let buffer = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: room)
        defer { buffer.deallocate() }
        while true {
            let before = reassembler.count
            let count = reassembler.flush(idleSince: idleSince, reason: reason, slots: slots, singles: buffer, room: room)
            for index in 0..<count { released.append((Mbuf(buffer[index]!), false)) }
            if count == 0 || reassembler.count == 0 || reassembler.count == before { break }
        }
    }

    /// Flushes what is held; checks every offered mbuf came back exactly once and the
    /// counters add up; returns what came back (bytes, frame or not), freed.
    @discardableResult
    func finish(_ reassembler: inout STTReassembler, file: StaticString = #filePath, line: UInt = #line)
        -> [(bytes: [UInt8], isFrame: Bool)]
    {
        flush(&reassembler)
        XCTAssertEqual(reassembler.count, 0, file: file, line: line)
        var back: [UInt] = []
        for (packet, _) in released {
            for segment in packet.segments { back.append(UInt(bitPattern: segment.pointer)) }
        }
        XCTAssertEqual(back.sorted(), offered.sorted(), "every mbuf offered comes back once", file: file, line: line)
        XCTAssertEqual(slots[CoalescingCounter.sttSegmentsIn],
                       slots[CoalescingCounter.sttSegmentsMerged] + slots[CoalescingCounter.sttSegmentsReleased],
                       "every held segment left once", file: file, line: line)
        let result = released.map { item in
            let bytes = Frames.bytes(of: item.packet)
            XCTAssertEqual(bytes.count, Int(item.packet.packetLength), "pkt_len agrees with the chain", file: file, line: line)
            XCTAssertEqual(Int(item.packet.segmentCount), Array(item.packet.segments).count, file: file, line: line)
            item.packet.free()
            return (bytes, item.isFrame)
        }
        released = []
        offered = []
        reassembler.deallocate()
        return result
    }

    func flushed(_ reason: STTFlushReason) -> UInt64 { slots[CoalescingCounter.sttFlush(reason)] }
    func bypassed(_ reason: STTBypassReason) -> UInt64 { slots[CoalescingCounter.sttBypass(reason)] }

    // MARK: round trip

    /// IPv4 and IPv6 outer and inner, 20-60 KB inner TCP payloads, each STT checksum flag:
    /// the frame GSO cut comes back byte for byte (outer IP length and checksum, seq, PSH, the
    /// outer TCP checksum over the whole), as one chain of the segments, with the metadata the
    /// type documents; and cut again with that metadata it gives the same segments.
    func testSTTFramesCutByGSOAreReassembledByteForByte() throws {
        let flagSets: [STTFlags] = [[.checksumVerified, .tcpPayload], [.checksumPartial, .tcpPayload], []]
        var index = 0
        for outerV6 in [false, true] {
            for innerV6 in [false, true] {
                for flags in flagSets {
                    var spec = STTSpec(outerV6: outerV6, innerV6: innerV6, payload: 20_000 + index * 3_917, flags: flags)
                    spec.ack = 0x0200_0000 &+ UInt32(index)
                    index += 1
                    try roundTrip(spec, label: "outer v6 \(outerV6), inner v6 \(innerV6), flags \(flags.rawValue)")
                }
            }
        }
        // 60 KB, outer VLAN tag, fixed outer IPv4 ID (DF and ID 0): kept fixed when cut again.
        try roundTrip(STTSpec(payload: 60_000, outerVLANs: [7], outerID: 0), label: "60 KB, VLAN, fixed ID", fixedID: true)
    }

    private func roundTrip(_ spec: STTSpec, label: String, fixedID: Bool = false) throws {
        let frame = spec.build()
        let segments = try cut(frame, fixedIDs: fixedID ? .inner : nil)
        XCTAssertGreaterThan(segments.count, 10, label)
        slots.update(repeating: 0, count: CoalescingCounter.slotCount)
        var reassembler = makeReassembler()
        var result: STTReassembler.Released?
        for (index, bytes) in segments.enumerated() {
            let packet = try XCTUnwrap(Frames.mbuf(bytes, pool: Fixture.pools().chunks))
            let out = reassembler.offer(packet, layout: try Fixture.layout(bytes), now: 0, slots: slots, singles: singles)
            XCTAssertEqual(out.singles, 0, "\(label): segment \(index) held")
            XCTAssertEqual(out.frame != nil, index == segments.count - 1, "\(label): complete with the last segment")
            if out.frame != nil { result = out }
        }
        XCTAssertEqual(reassembler.count, 0, label)
        reassembler.deallocate()
        let made = try XCTUnwrap(result?.frame, label)
        XCTAssertEqual(Frames.bytes(of: made), frame, "\(label): byte-identical to the frame that was cut")
        XCTAssertEqual(Int(made.segmentCount), segments.count, "\(label): one chain of the segments")
        XCTAssertEqual(Int(made.packetLength), frame.count, label)
        XCTAssertEqual(slots[CoalescingCounter.sttSegmentsIn], UInt64(segments.count), label)
        XCTAssertEqual(slots[CoalescingCounter.sttSegmentsMerged], UInt64(segments.count), label)
        XCTAssertEqual(slots[CoalescingCounter.sttFramesOut], 1, label)
        XCTAssertEqual(result?.fixedIDs, fixedID ? .inner : [], label)

        // Metadata as documented.
        let l2 = 14 + 4 * spec.outerVLANs.count
        let l3 = spec.outerV6 ? 40 : 20
        let flags = made.offloadFlags
        XCTAssertTrue(flags.contains([.rxLRO, .rxOuterL4ChecksumGood]), label)
        let verdict = flags.intersection([.rxL4ChecksumGood, .rxL4ChecksumBad])
        if spec.flags.contains(.checksumPartial) {
            XCTAssertEqual(verdict, [.rxL4ChecksumGood, .rxL4ChecksumBad], "\(label): partial -> L4 NONE")
        } else if spec.flags.contains(.checksumVerified) {
            XCTAssertEqual(verdict, .rxL4ChecksumGood, "\(label): verified -> L4 GOOD")
        } else {
            XCTAssertEqual(verdict, [], "\(label): unknown")
        }
        XCTAssertFalse(flags.contains(.rxIPChecksumGood), label)
        let lengths = made.txOffload
        XCTAssertEqual([lengths.l2, lengths.l3, lengths.l4, lengths.outerL2, lengths.outerL3], [l2, l3, 20, 0, 0], label)
        XCTAssertEqual(lengths.tsoSegmentSize, segments[0].count - l2 - l3 - 20, "\(label): the sender's segment payload")
        let sttHeader = try frame.withUnsafeBytes { try STTHeader(UnsafeRawBufferPointer(rebasing: $0[(l2 + l3 + 20)...])) }
        XCTAssertEqual(sttHeader.maximumSegmentSize, spec.mss, "\(label): MSS stays in the STT header")
        XCTAssertEqual(sttHeader.vlanID, spec.vlan ?? 0, label)

        // Cut again as the egress would: tso_segsz and the fixed IDs it came with.
        let layout = try Fixture.layout(frame)
        let again = try cut(made, layout: layout, segmentSize: lengths.tsoSegmentSize, fixedIDs: result?.fixedIDs)
        XCTAssertEqual(again, segments, "\(label): cut again into the same segments")
    }

    // MARK: the oracle

    /// tshark reassembles our input segments itself (its STT dissector, a heuristic tried
    /// first on IP): the carried frame it finds there is the one it finds in our output frame
    /// (STT header fields, inner Ethernet and TCP, the payload), with a right inner TCP
    /// checksum; and its TCP dissector finds our output frames' outer IPv4 header checksum and
    /// outer TCP-like checksum (over the whole frame) right. (tshark 4.0's STT checksum check
    /// flags even the segments Swift GSO made, which its TCP dissector finds right: not used.)
    func testTsharkAgreesWithTheReassembledFrames() throws {
        var inputs: [[UInt8]] = []
        var outputs: [[UInt8]] = []
        for (index, outerV6) in [false, true, false].enumerated() {
            var spec = STTSpec(outerV6: outerV6, innerV6: index == 2, payload: 24_000 + index * 5_001)
            spec.ack = 0x0300_0000 &+ UInt32(index)
            let frame = spec.build()
            let segments = try cut(frame)
            var reassembler = makeReassembler()
            for segment in segments { try offer(&reassembler, segment) }
            let back = finish(&reassembler)
            XCTAssertEqual(back.map(\.isFrame), [true])
            inputs += segments
            outputs += back.map(\.bytes)
        }
        let inputFile = try Pcap.write(inputs, name: "stt-in")
        let outputFile = try Pcap.write(outputs, name: "stt-out")
        let keep = ProcessInfo.processInfo.environment["STT_KEEP_PCAPS"] != nil  // to look at them by hand
        defer {
            if !keep {
                try? FileManager.default.removeItem(at: inputFile)
                try? FileManager.default.removeItem(at: outputFile)
            }
        }
        let stt = ["-o", "ip.try_heuristic_first:TRUE", "-o", "ipv6.try_heuristic_first:TRUE", "-o", "stt.reassemble:TRUE",
                   "-Y", "tcp.port == 80", "-E", "occurrence=l"]
        let carried = ["stt.context_id", "stt.flags", "stt.mss", "stt.vlan.id", "eth.src", "eth.dst", "tcp.seq_raw", "tcp.len",
                       "tcp.checksum", "tcp.checksum.status", "tcp.payload"].flatMap { ["-e", $0] }
        let fromSegments = try tshark(inputFile, stt + carried)
        let fromOutput = try tshark(outputFile, stt + carried)
        XCTAssertEqual(fromSegments.count, 3, "tshark reassembled three STT frames")
        XCTAssertEqual(fromOutput.count, 3)
        XCTAssertTrue(fromSegments == fromOutput, "the same carried frames, as tshark sees them")
        for line in fromOutput {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            XCTAssertEqual(fields.count, 11)
            XCTAssertEqual(fields[2], "1448", "MSS")
            XCTAssertEqual(fields[9], "1", "the carried TCP checksum is right")
        }
        let verdicts = try tshark(outputFile, ["-E", "occurrence=a", "-e", "ip.checksum.status", "-e", "tcp.checksum.status"])
        XCTAssertEqual(verdicts, ["1\t1", "\t1", "1\t1"], "outer IPv4 and outer TCP-like checksums right")
    }

    /// tshark's output: one line of tab-separated `fields` per displayed frame.
    private func tshark(_ pcap: URL, _ arguments: [String]) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/tshark")
        process.arguments = ["-r", pcap.path, "-2", "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
                             "-T", "fields"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "tshark missing? apt-get install tshark")
        return output.split(separator: "\n").map(String.init)
    }
}
