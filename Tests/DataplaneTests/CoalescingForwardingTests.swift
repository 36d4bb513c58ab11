import Dataplane
import DPDK
import FrameSupport
import Foundation
import Offload
import TestSupport
import XCTest

/// Receive coalescing inside the forwarder, every mode: interleaved flows (VXLAN-TCP/IPv4,
/// Geneve-TCP/IPv6, plain TCP/IPv6, VXLAN-UDP) with a bad checksum, a pure ACK and a RST among
/// them (Tools/scripts/gro_mix.py) arrive on a net_pcap port with GRO on and leave through one
/// that cannot segment: the super-frames are cut again into exactly the frames that came in
/// (byte for byte but the addresses mac and csum write), and every mbuf returns to its pool.
final class CoalescingForwardingTests: XCTestCase {
    func testCoalescedFlowsLeaveAsTheyCameAndEveryMbufReturns() throws {
        try TestEAL.start()
        let directory = try TestEAL.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("in.pcap")
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let made = try Command.run("/usr/bin/env", ["python3", root.appendingPathComponent("Tools/scripts/gro_mix.py").path, input.path])
        XCTAssertEqual(made.status, 0, "scapy missing? pip install scapy: \(made.output)")
        let frames = try Pcap.read(input)
        XCTAssertEqual(frames.count, 58)
        let empty = directory.appendingPathComponent("empty.pcap")
        try Pcap.write([], to: empty)
        for mode in [ForwardingMode.io, .mac, .csum] {
            let output = directory.appendingPathComponent("out-\(mode.rawValue).pcap")
            let names = [TestEAL.uniqueName("net_pcap_gro"), TestEAL.uniqueName("net_pcap_gro")]
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
            // The IPv6 frames are 1,544 bytes: an MTU that takes them, so the cut reproduces them.
            options.maxPacketLength = 9018
            let forwarder = try Forwarder(options: options, ports: ports, poolName: TestEAL.uniqueName("gro_pool_"), log: { _ in })
            XCTAssertTrue(try forwarder.settings(ports[0].id).gro)
            XCTAssertFalse(try forwarder.settings(ports[1].id).gro)
            try forwarder.startForwarding()
            let deadline = Date().addingTimeInterval(5)
            while forwarder.forwardStatistics().ports[0].rxPackets < 58 && Date() < deadline { usleep(1000) }
            usleep(50_000)
            let statistics = try forwarder.stopForwarding()
            let rx = statistics.ports[0], tx = statistics.ports[1]
            let gro = EngineCounter.coalescingBase
            XCTAssertEqual(rx.rxPackets, 58, "\(mode)")
            XCTAssertEqual(tx.txPackets, 58, "\(mode): every frame leaves, the super-frames cut again\n\(statistics)")
            XCTAssertEqual(rx.engine[gro + CoalescingCounter.segmentsIn], 55, "\(mode): 3x12 + 8 + 6 TCP segments, 5 datagrams")
            XCTAssertGreaterThan(rx.engine[gro + CoalescingCounter.superFramesOut], 0, "\(mode)")
            XCTAssertEqual(rx.engine[gro + CoalescingCounter.segmentsMerged] + rx.engine[gro + CoalescingCounter.singlesOut], 55,
                           "\(mode): every held segment left once")
            XCTAssertEqual(rx.engine[gro + CoalescingCounter.bypass(.checksumBad)], 1, "\(mode)")
            XCTAssertEqual(rx.engine[gro + CoalescingCounter.bypass(.noPayload)], 1, "\(mode): the pure ACK")
            XCTAssertEqual(rx.engine[gro + CoalescingCounter.bypass(.flags)], 1, "\(mode): the RST")
            XCTAssertTrue(statistics.description.contains("GRO-segments:"), statistics.description)
            forwarder.shutdown()
            XCTAssertEqual(forwarder.pool.availableCount, forwarder.pool.size, "\(mode): every mbuf back")
            XCTAssertEqual(forwarder.indirectPool.availableCount, forwarder.indirectPool.size, "\(mode): indirect mbufs back")
            // The frames that left are the frames that came, the Ethernet addresses aside where
            // the mode writes them (and the bad-checksum frame, which csum rewrites).
            let out = try Pcap.read(output)
            func comparable(_ frame: [UInt8]) -> [UInt8] { mode == .io ? frame : Array(frame[12...]) }
            let expected = frames.map(comparable).sorted { $0.lexicographicallyPrecedes($1) }
            let got = out.map(comparable).sorted { $0.lexicographicallyPrecedes($1) }
            if mode == .csum {
                // csum finishes what it forwards: only the frame that arrived with a bad inner
                // TCP checksum may differ (it leaves with a good one).
                let known = Set(expected)
                XCTAssertLessThanOrEqual(got.filter { !known.contains($0) }.count, 1, "csum: frames other than the bad-checksum one changed")
                XCTAssertEqual(got.count, expected.count)
            } else {
                XCTAssertEqual(got.count, expected.count, "\(mode)")
                XCTAssertTrue(expected == got, "\(mode): \(Set(got).subtracting(expected).count) frames out differ from every frame in")
            }
        }
    }

    /// Hostile input with GRO on: the mix's frames with random bytes flipped, cut short or
    /// grown with garbage (seeded), through every mode. Nothing crashes, every frame is
    /// accounted for (sent, or dropped and counted), and every mbuf returns to its pool.
    func testMangledFramesAreAccountedForAndEveryMbufReturns() throws {
        try TestEAL.start()
        let directory = try TestEAL.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let mix = directory.appendingPathComponent("mix.pcap")
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let made = try Command.run("/usr/bin/env", ["python3", root.appendingPathComponent("Tools/scripts/gro_mix.py").path, mix.path])
        XCTAssertEqual(made.status, 0, made.output)
        var generator = SplitMix(seed: 0x6172_6f67)
        var mangled: [[UInt8]] = []
        let originals = try Pcap.read(mix)
        for round in 0..<20 {
            for frame in originals {
                var bytes = frame
                switch generator.next() % 4 {
                case 0:  // flip a few header bytes
                    for _ in 0..<(1 + Int(generator.next() % 3)) {
                        let at = Int(generator.next() % UInt64(min(bytes.count, 120)))
                        bytes[at] ^= UInt8(truncatingIfNeeded: generator.next() | 1)
                    }
                case 1: bytes = Array(bytes.prefix(14 + Int(generator.next() % UInt64(max(bytes.count - 14, 1)))))
                case 2: bytes += (0..<Int(generator.next() % 64)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                default: break  // unchanged: flows still form between the mangled frames
                }
                _ = round
                mangled.append(bytes)
            }
        }
        let input = directory.appendingPathComponent("mangled.pcap")
        try Pcap.write(mangled, to: input)
        let empty = directory.appendingPathComponent("empty.pcap")
        try Pcap.write([], to: empty)
        for mode in [ForwardingMode.io, .mac, .csum] {
            let names = [TestEAL.uniqueName("net_pcap_grox"), TestEAL.uniqueName("net_pcap_grox")]
            defer { for name in names { TestEAL.removePort(name) } }
            let ports = [
                try TestEAL.createPort(names[0], arguments: "rx_pcap=\(input.path),tx_pcap=\(directory.path)/discard.pcap"),
                try TestEAL.createPort(names[1], arguments: "rx_pcap=\(empty.path),tx_pcap=\(directory.path)/out.pcap"),
            ]
            var options = ForwardingOptions()
            options.mode = mode
            options.flushRxOnStart = false
            options.groPorts = .all
            options.maxPacketLength = 9018
            let forwarder = try Forwarder(options: options, ports: ports, poolName: TestEAL.uniqueName("grox_pool_"), log: { _ in })
            try forwarder.startForwarding()
            let deadline = Date().addingTimeInterval(10)
            while forwarder.forwardStatistics().ports[0].rxPackets < UInt64(mangled.count) && Date() < deadline { usleep(1000) }
            usleep(50_000)
            let statistics = try forwarder.stopForwarding()
            let rx = statistics.ports[0], tx = statistics.ports[1]
            let gro = EngineCounter.coalescingBase
            XCTAssertEqual(rx.rxPackets, UInt64(mangled.count), "\(mode)")
            XCTAssertEqual(rx.engine[gro + CoalescingCounter.segmentsMerged] + rx.engine[gro + CoalescingCounter.singlesOut],
                           rx.engine[gro + CoalescingCounter.segmentsIn], "\(mode): every held segment left once")
            // Every frame in is a frame out, a dropped frame, or one of a super-frame's segments
            // cut again (the cut may differ from the arrival where mangling changed lengths).
            let gsoMade = tx.engine[EngineCounter.gsoOutputSegments], gsoIn = tx.engine[EngineCounter.gsoInputFrames]
            let merged = rx.engine[gro + CoalescingCounter.segmentsMerged], superFrames = rx.engine[gro + CoalescingCounter.superFramesOut]
            XCTAssertEqual(rx.rxPackets - merged + superFrames + gsoMade - gsoIn,
                           tx.txPackets + tx.txDropped + rx.engineDropped + tx.engineDropped,
                           "\(mode): accounting\n\(statistics)")
            forwarder.shutdown()
            XCTAssertEqual(forwarder.pool.availableCount, forwarder.pool.size, "\(mode): every mbuf back")
            XCTAssertEqual(forwarder.indirectPool.availableCount, forwarder.indirectPool.size, "\(mode): indirect mbufs back")
        }
    }
}

/// A small seeded generator (SplitMix64), so a failing run can be repeated.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
