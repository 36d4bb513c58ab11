import Dataplane
import DPDK
import Foundation
import FrameSupport
import TestSupport
import Wire
import XCTest

/// The csum engine inside the forwarder: counters by kind and reason, and both pools (header
/// and indirect mbufs) full again after GSO. Frame contents are judged by tshark in
/// InteropTests/CsumEngineTests.
final class CsumForwardingTests: XCTestCase {
    func testCountersHaveASlotForEveryReason() {
        XCTAssertTrue(EngineCounter.hasRoomForEveryReason)
    }

    /// `set gso segsz 600` cut a plain 512-byte UDP datagram inside VXLAN into 508 + 4 bytes:
    /// two datagrams where the sender sent one (the soak's UDP check found it). A datagram is
    /// cut only when it is a USO super-frame; a TCP frame larger than the size is still cut.
    func testSmallGSOSizeCutsTCPButNeverSplitsAPlainUDPDatagram() throws {
        try TestEAL.start()
        let directory = try TestEAL.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let outer = Endpoints(v6: false), inner = Endpoints(v6: false, src4: IPv4Address(10, 1, 0, 1), dst4: IPv4Address(10, 1, 0, 2))
        let udp = Frames.frame(.vxlan, outer: outer, inner: inner, l4: .udp, payloadLength: 512)
        let tcp = Frames.frame(.vxlan, outer: outer, inner: inner, l4: .tcp, payloadLength: 1000)
        let input = try Pcap.write([udp, tcp, udp], name: "udp-segsz")
        let empty = directory.appendingPathComponent("empty.pcap")
        try Pcap.write([], to: empty)
        let names = [TestEAL.uniqueName("net_pcap_us"), TestEAL.uniqueName("net_pcap_us")]
        defer { for name in names { TestEAL.removePort(name) } }
        let ports = [
            try TestEAL.createPort(names[0], arguments: "rx_pcap=\(input.path),tx_pcap=\(directory.path)/discard.pcap"),
            try TestEAL.createPort(names[1], arguments: "rx_pcap=\(empty.path),tx_pcap=\(directory.path)/out.pcap"),
        ]
        var options = ForwardingOptions()
        options.mode = .csum
        options.flushRxOnStart = false
        options.gsoPorts = .ids([ports[1].id])
        let forwarder = try Forwarder(options: options, ports: ports, poolName: TestEAL.uniqueName("us_pool_"), log: { _ in })
        try forwarder.setGSOSegmentSize(600)
        try forwarder.startForwarding()
        let deadline = Date().addingTimeInterval(5)
        while forwarder.forwardStatistics().ports[0].rxPackets < 3 && Date() < deadline { usleep(1000) }
        usleep(50_000)
        let statistics = try forwarder.stopForwarding()
        forwarder.shutdown()
        let out = try Pcap.read(directory.appendingPathComponent("out.pcap"))
        // Past the Ethernet addresses (csum writes the peer's and the port's).
        XCTAssertEqual(out.filter { $0.count == udp.count && $0[12...] == udp[12...] }.count, 2,
                       "each UDP datagram leaves whole and unchanged: \(out.map(\.count))")
        XCTAssertEqual(statistics.ports[1].engine[EngineCounter.gsoInputFrames], 1, "only the TCP frame is cut")
        XCTAssertGreaterThan(out.count, 3, "the 1,000-byte TCP payload leaves in several segments")
        XCTAssertEqual(forwarder.pool.availableCount, forwarder.pool.size)
    }

    func testGSOAndDropsAreCountedAndEveryMbufReturns() throws {
        try TestEAL.start()
        let directory = try TestEAL.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("in.pcap").path
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let script = Process()
        script.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        script.arguments = ["python3", root.appendingPathComponent("Tools/scripts/tunnel_frames.py").path, "make", input,
                            "--kind", "vxlan6", "--payload", "30000", "--count", "4"]
        try script.run()
        script.waitUntilExit()
        XCTAssertEqual(script.terminationStatus, 0, "scapy missing? pip install scapy")
        // Append a truncated frame (IPv4 header cut short).
        var frames = try Pcap.read(URL(fileURLWithPath: input))
        frames.append(Array(frames[0][0..<40]))
        try Pcap.write(frames, to: URL(fileURLWithPath: input))
        let empty = directory.appendingPathComponent("empty.pcap")
        try Pcap.write([], to: empty)
        let names = [TestEAL.uniqueName("net_pcap_cs"), TestEAL.uniqueName("net_pcap_cs")]
        defer { for name in names { TestEAL.removePort(name) } }
        let ports = [
            try TestEAL.createPort(names[0], arguments: "rx_pcap=\(input),tx_pcap=\(directory.path)/discard.pcap"),
            try TestEAL.createPort(names[1], arguments: "rx_pcap=\(empty.path),tx_pcap=\(directory.path)/out.pcap"),
        ]
        var options = ForwardingOptions()
        options.mode = .csum
        options.flushRxOnStart = false
        options.rxDescriptors = 256
        options.txDescriptors = 256
        options.gsoPorts = .ids([ports[1].id])
        let forwarder = try Forwarder(options: options, ports: ports, poolName: TestEAL.uniqueName("csum_pool_"), log: { _ in })
        try forwarder.startForwarding()
        let deadline = Date().addingTimeInterval(5)
        while forwarder.forwardStatistics().ports[0].rxPackets < 5 && Date() < deadline { usleep(1000) }
        usleep(50_000)
        let statistics = try forwarder.stopForwarding()
        let rx = statistics.ports[0], tx = statistics.ports[1]
        XCTAssertEqual(rx.rxPackets, 5)
        XCTAssertEqual(rx.engineDropped, 1, "the truncated frame")
        XCTAssertEqual(rx.engine[EngineCounter.parseFailureBase + 0], 1, "counted as truncated")
        XCTAssertEqual(tx.engine[EngineCounter.gsoInputFrames], 4)
        // 30000 bytes in segments of 1514 - 14 - 40 - 8 - 8 - 14 - 20 - 20 = 1390 bytes: 22 each.
        XCTAssertEqual(tx.engine[EngineCounter.gsoOutputSegments], 4 * 22)
        XCTAssertEqual(tx.txPackets, 4 * 22)
        XCTAssertTrue(statistics.description.contains("GSO-input: 4"), statistics.description)
        XCTAssertTrue(statistics.description.contains("Dropped (malformed: truncated): 1"), statistics.description)
        forwarder.shutdown()
        XCTAssertEqual(forwarder.pool.availableCount, forwarder.pool.size, "input mbufs all back")
        XCTAssertEqual(forwarder.headerPool.availableCount, forwarder.headerPool.size, "segment header mbufs all back")
        XCTAssertEqual(forwarder.indirectPool.availableCount, forwarder.indirectPool.size, "indirect mbufs all back")
        XCTAssertEqual(try Pcap.read(directory.appendingPathComponent("out.pcap")).count, 4 * 22)
    }
}
