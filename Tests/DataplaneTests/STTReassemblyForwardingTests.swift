import Dataplane
import DPDK
import FrameSupport
import Foundation
import Offload
import TestSupport
import Wire
import XCTest

/// STT reassembly inside the forwarder: STT frames cut by Swift GSO (outer IPv4 and IPv6,
/// interleaved, one missing its last segment) arrive on a net_pcap port with GRO on and leave
/// through one that cannot segment: the reassembled frames are cut again into exactly the
/// segments that came in, the incomplete frame's segments leave unchanged, the counters say
/// so, and every mbuf returns to its pool.
final class STTReassemblyForwardingTests: XCTestCase {
    /// `frame` cut as the egress cuts an STT frame for a 1500-byte MTU.
    private func cut(_ frame: [UInt8]) throws -> [[UInt8]] {
        let big = try Mempool.createPacketPool(name: TestEAL.uniqueName("stt_big"), count: 2, cacheSize: 0, dataRoomSize: 65535)
        let headers = try Mempool.createPacketPool(name: TestEAL.uniqueName("stt_hdr"), count: 128, cacheSize: 0, dataRoomSize: 512)
        let views = try Mempool.createPacketPool(name: TestEAL.uniqueName("stt_ind"), count: 256, cacheSize: 0, dataRoomSize: 0)
        var segmenter = Segmenter(headerPool: headers, indirectPool: views)
        defer { segmenter.deallocate() }
        let packet = try XCTUnwrap(Frames.mbuf(frame, pool: big))
        let layout = try frame.withUnsafeBytes { try PacketLayout.parse($0, tunnels: .defaults) }
        let output = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 128)
        defer { output.deallocate() }
        let count = segmenter.segment(packet, layout: layout, options: SegmentationOptions(segmentSize: 9000, mtu: 1500),
                                      into: output, capacity: 128).count
        let segments = (0..<count).map { index in
            let segment = Mbuf(output[index]!)
            defer { segment.free() }
            return Frames.bytes(of: segment)
        }
        for pool in [big, headers, views] { XCTAssertEqual(pool.availableCount, pool.size) }
        return segments
    }

    /// Every STT flush and bypass reason has its own `gro_stt_*` counter in the schema, on the
    /// rx port, shown where the other GRO counters are.
    func testEverySTTReasonHasItsCounter() {
        XCTAssertTrue(CoalescingCounter.hasRoomForEveryReason)
        let schema = EngineCounter.schema
        let base = EngineCounter.coalescingBase
        var slots = [CoalescingCounter.sttSegmentsIn, CoalescingCounter.sttFramesOut, CoalescingCounter.sttSegmentsMerged,
                     CoalescingCounter.sttSegmentsReleased]
        slots += STTFlushReason.allCases.map { CoalescingCounter.sttFlush($0) }
        slots += STTBypassReason.allCases.map { CoalescingCounter.sttBypass($0) }
        XCTAssertEqual(Set(slots).count, slots.count, "one slot each")
        for slot in slots {
            let found = schema.filter { $0.slot == base + slot }
            XCTAssertEqual(found.count, 1, "slot \(slot)")
            XCTAssertTrue(found.first?.name.hasPrefix("gro_stt_") == true, "\(found.first?.name ?? "none")")
            XCTAssertTrue(found.first?.kind.isCoalescing == true)
            XCTAssertEqual(found.first?.side, .rx)
        }
        XCTAssertTrue(schema.contains { $0.name == "gro_stt_bypass_no_first_segment" })
        XCTAssertTrue(schema.contains { $0.name == "gro_stt_flush_out_of_order" })
    }

    func testReassembledSTTFramesLeaveCutAsTheyCameAndEveryMbufReturns() throws {
        try TestEAL.start()
        let directory = try TestEAL.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let a = try cut(Frames.stt(payload: 30_000, ack: 1, sport: 50000))
        let b = try cut(Frames.stt(outerV6: true, innerV6: true, payload: 20_000, ack: 2, sport: 50001))
        let c = try cut(Frames.stt(payload: 8_000, ack: 3, sport: 50002))
        // a and b interleaved, then c without its last segment (held until stop, then unchanged).
        var frames: [[UInt8]] = []
        for index in 0..<max(a.count, b.count) {
            if index < a.count { frames.append(a[index]) }
            if index < b.count { frames.append(b[index]) }
        }
        frames += c.dropLast()
        let input = directory.appendingPathComponent("in.pcap")
        try Pcap.write(frames, to: input)
        let empty = directory.appendingPathComponent("empty.pcap")
        try Pcap.write([], to: empty)
        for mode in [ForwardingMode.io, .csum] {
            let output = directory.appendingPathComponent("out-\(mode.rawValue).pcap")
            let names = [TestEAL.uniqueName("net_pcap_stt"), TestEAL.uniqueName("net_pcap_stt")]
            defer { for name in names { TestEAL.removePort(name) } }
            let ports = [
                try TestEAL.createPort(names[0], arguments: "rx_pcap=\(input.path),tx_pcap=\(directory.path)/discard.pcap"),
                try TestEAL.createPort(names[1], arguments: "rx_pcap=\(empty.path),tx_pcap=\(output.path)"),
            ]
            var options = ForwardingOptions()
            options.mode = mode
            options.flushRxOnStart = false
            options.rxDescriptors = 256
            options.txDescriptors = 256
            options.groPorts = .ids([ports[0].id])
            // net_pcap's bursts can be further apart than the 50 us default in a debug build:
            // hold partial frames until stop, so the counts below do not depend on timing.
            options.coalescing.timeoutMicroseconds = CoalescingOptions.timeoutRange.upperBound
            let forwarder = try Forwarder(options: options, ports: ports, poolName: TestEAL.uniqueName("stt_pool_"), log: { _ in })
            try forwarder.startForwarding()
            let deadline = Date().addingTimeInterval(5)
            while forwarder.forwardStatistics().ports[0].rxPackets < UInt64(frames.count) && Date() < deadline { usleep(1000) }
            usleep(50_000)
            let statistics = try forwarder.stopForwarding()
            let rx = statistics.ports[0], tx = statistics.ports[1]
            let gro = EngineCounter.coalescingBase
            XCTAssertEqual(rx.rxPackets, UInt64(frames.count), "\(mode)")
            XCTAssertEqual(tx.txPackets, UInt64(frames.count), "\(mode): every segment leaves\n\(statistics)")
            XCTAssertEqual(rx.engine[gro + CoalescingCounter.sttSegmentsIn], UInt64(frames.count), "\(mode)")
            XCTAssertEqual(rx.engine[gro + CoalescingCounter.sttFramesOut], 2, "\(mode)")
            XCTAssertEqual(rx.engine[gro + CoalescingCounter.sttSegmentsMerged], UInt64(a.count + b.count), "\(mode)")
            XCTAssertEqual(rx.engine[gro + CoalescingCounter.sttSegmentsReleased], UInt64(c.count - 1), "\(mode)")
            XCTAssertEqual(rx.engine[gro + CoalescingCounter.sttFlush(.stop)], 1, "\(mode): the incomplete frame left at stop")
            XCTAssertEqual(tx.engine[EngineCounter.gsoInputFrames], 2, "\(mode): both frames cut again in Swift")
            XCTAssertTrue(statistics.description.contains("STT-segments:"), statistics.description)
            forwarder.shutdown()
            XCTAssertEqual(forwarder.pool.availableCount, forwarder.pool.size, "\(mode): every mbuf back")
            XCTAssertEqual(forwarder.indirectPool.availableCount, forwarder.indirectPool.size, "\(mode): indirect mbufs back")
            // io forwards as it came; csum writes the Ethernet addresses.
            let out = try Pcap.read(output)
            func comparable(_ frame: [UInt8]) -> [UInt8] { mode == .io ? frame : Array(frame[12...]) }
            XCTAssertEqual(out.count, frames.count, "\(mode)")
            XCTAssertTrue(out.map(comparable).sorted { $0.lexicographicallyPrecedes($1) }
                == frames.map(comparable).sorted { $0.lexicographicallyPrecedes($1) }, "\(mode): the segments that came in")
            // Each frame's segments leave in the order they came.
            for run in [a, b, Array(c.dropLast())] {
                let positions = run.map { segment in out.firstIndex { comparable($0) == comparable(segment) } ?? -1 }
                XCTAssertEqual(positions, positions.sorted(), "\(mode): in order")
            }
        }
    }
}
