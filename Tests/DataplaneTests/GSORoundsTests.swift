import Dataplane
import DPDK
import Foundation
import FrameSupport
import Offload
import TestSupport
import XCTest

/// Swift GSO at the edges of its room: frames cut into more segments than a burst's output
/// holds leave in rounds (none dropped, whatever the burst), segment headers come from their
/// own small pool (a 64 KB packet pool is not drained by them), and the accounting rule holds
/// when a cut fails. 60 KB VXLAN super-frames from scapy go from net_pcap to net_pcap.
final class GSORoundsTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        try TestEAL.start()
        directory = try TestEAL.temporaryDirectory()
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: directory)
    }

    private var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// `count` VXLAN-over-IPv4 TCP super-frames of `payload` bytes, by scapy.
    private func superFrames(payload: Int, count: Int) throws -> [[UInt8]] {
        let file = directory.appendingPathComponent("made-\(payload)-\(count).pcap").path
        let result = try Command.run("/usr/bin/env", [
            "python3", root.appendingPathComponent("Tools/scripts/tunnel_frames.py").path, "make", file,
            "--kind", "vxlan4", "--payload", "\(payload)", "--count", "\(count)"])
        XCTAssertEqual(result.status, 0, "scapy missing? pip install scapy: \(result.output)")
        return try Pcap.read(URL(fileURLWithPath: file))
    }

    private struct Run {
        var statistics: ForwardStatistics
        var input: String
        var output: String
        var segments: Int
        /// `show config fwd`.
        var configuration: String
    }

    /// Forwards `frames` through csum from port 0 to port 1 (Swift GSO on port 1) and checks
    /// every pool is full again after shutdown.
    private func forward(
        _ frames: [[UInt8]], name: String, configure: (inout ForwardingOptions) -> Void
    ) throws -> Run {
        let input = directory.appendingPathComponent("in-\(name).pcap")
        try Pcap.write(frames, to: input)
        let empty = directory.appendingPathComponent("empty.pcap")
        try Pcap.write([], to: empty)
        let output = directory.appendingPathComponent("out-\(name).pcap")
        let names = [TestEAL.uniqueName("net_pcap_gr"), TestEAL.uniqueName("net_pcap_gr")]
        defer { for name in names { TestEAL.removePort(name) } }
        let ports = [
            try TestEAL.createPort(names[0], arguments: "rx_pcap=\(input.path),tx_pcap=\(directory.path)/discard-\(name).pcap"),
            try TestEAL.createPort(names[1], arguments: "rx_pcap=\(empty.path),tx_pcap=\(output.path)"),
        ]
        var options = ForwardingOptions()
        options.mode = .csum
        options.flushRxOnStart = false
        options.rxDescriptors = 256
        options.txDescriptors = 256
        options.gsoPorts = .ids([ports[1].id])
        configure(&options)
        let forwarder = try Forwarder(options: options, ports: ports, poolName: TestEAL.uniqueName("gr_pool_"), log: { _ in })
        try forwarder.startForwarding()
        let deadline = Date().addingTimeInterval(10)
        while forwarder.forwardStatistics().ports[0].rxPackets < UInt64(frames.count) && Date() < deadline { usleep(1000) }
        usleep(50_000)
        let statistics = try forwarder.stopForwarding()
        forwarder.shutdown()
        for pool in [forwarder.pool, forwarder.headerPool, forwarder.indirectPool] {
            XCTAssertEqual(pool.availableCount, pool.size, "\(name): pool \(pool.name) full again")
        }
        let segments = try Pcap.read(output).count
        return Run(
            statistics: statistics, input: input.path, output: output.path, segments: segments,
            configuration: forwarder.configuration.description)
    }

    /// rx + segments made − frames cut = tx + tx-dropped + engine-dropped, over both ports.
    private func assertAccounting(_ statistics: ForwardStatistics, _ name: String, line: UInt = #line) {
        let total = statistics.total
        XCTAssertEqual(
            total.rxPackets + total.engine[EngineCounter.gsoOutputSegments] - total.engine[EngineCounter.gsoInputFrames],
            total.txPackets + total.txDropped + total.engineDropped, "\(name): accounting\n\(statistics)", line: line)
    }

    /// The inner TCP header of a VXLAN-over-IPv4 frame.
    private static let innerTCP = 14 + 20 + 8 + 8 + 14 + 20

    /// Payload per segment of a 256-byte frame: 256 − 14 − 20 − 8 − 8 − 14 − 20 − 20 = 152 bytes.
    private static func segments(payload: Int, frameSize: Int) -> Int {
        let perSegment = frameSize - 104
        return (payload + perSegment - 1) / perSegment
    }

    /// `set gso segsz 256`: a 60 KB frame makes 395 segments, more than a burst of 1 (64
    /// slots) or 32 (2048 slots, five frames) holds. Every segment leaves, in order, valid.
    func testSmallSegmentsAtAnyBurstLeaveInRounds() throws {
        let frames = try superFrames(payload: 60000, count: 6)
        let expected = frames.count * Self.segments(payload: 60000, frameSize: 256)
        for burst in [1, 32] {
            let run = try forward(frames, name: "burst\(burst)") { options in
                options.burst = burst
                options.gsoSegmentSize = 256
            }
            let tx = run.statistics.ports[1]
            XCTAssertEqual(run.statistics.ports[0].rxPackets, UInt64(frames.count), "burst \(burst)")
            XCTAssertEqual(tx.engine[EngineCounter.gsoInputFrames], UInt64(frames.count), "burst \(burst)\n\(run.statistics)")
            XCTAssertEqual(tx.engine[EngineCounter.gsoOutputSegments], UInt64(expected), "burst \(burst)")
            XCTAssertEqual(tx.txPackets, UInt64(expected), "burst \(burst)")
            XCTAssertEqual(run.statistics.total.engineDropped + run.statistics.total.txDropped, 0, "burst \(burst)\n\(run.statistics)")
            XCTAssertEqual(run.segments, expected, "burst \(burst): every segment in the output pcap")
            // One flow whose frames abut: the segments leave in sequence order, the frames a
            // burst held before a cut that needed rounds included.
            let sequences = try Pcap.read(URL(fileURLWithPath: run.output)).map { frame in
                frame[Self.innerTCP + 4..<Self.innerTCP + 8].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            }
            XCTAssertEqual(sequences, sequences.sorted(), "burst \(burst): segments in order")
            assertAccounting(run.statistics, "burst \(burst)")
            // Sizes, payload bytes and sequence numbers, and tshark's checksum verdicts.
            let check = try Command.run("/usr/bin/env", [
                "python3", root.appendingPathComponent("Tools/scripts/tunnel_frames.py").path, "check", run.input, run.output,
                "--max-frame", "256"])
            XCTAssertEqual(check.status, 0, "burst \(burst): \(check.output)")
            let verdicts = try Command.run("/usr/bin/tshark", [
                "-r", run.output, "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
                "-T", "fields", "-e", "ip.checksum.status", "-e", "udp.checksum.status", "-e", "tcp.checksum.status"])
            XCTAssertEqual(verdicts.status, 0, verdicts.output)
            let statuses = verdicts.output.split(whereSeparator: { $0 == "\n" || $0 == "\t" || $0 == "," })
            XCTAssertFalse(statuses.contains("0"), "burst \(burst): tshark finds a bad checksum")
            XCTAssertGreaterThanOrEqual(statuses.filter { $0 == "1" }.count, 3 * expected, "burst \(burst): every checksum judged")
        }
    }

    /// `--mbuf-size=65535` with a pool of 1024: headers from the packet pool would pin 64 KB
    /// each and drain it within a few bursts. 200 frames all leave.
    func testHeadersDoNotDrainABigBufferPool() throws {
        let frames = try superFrames(payload: 60000, count: 200)
        let expected = frames.count * Self.segments(payload: 60000, frameSize: 1514)
        let run = try forward(frames, name: "bigbuf") { options in
            options.mbufSize = 65535
            options.totalMbufs = 1024
        }
        let tx = run.statistics.ports[1]
        XCTAssertEqual(run.statistics.ports[0].rxPackets, UInt64(frames.count))
        XCTAssertEqual(tx.engine[EngineCounter.gsoInputFrames], UInt64(frames.count), "\(run.statistics)")
        XCTAssertEqual(tx.txPackets, UInt64(expected))
        XCTAssertEqual(run.statistics.total.engineDropped + run.statistics.total.txDropped, 0, "\(run.statistics)")
        XCTAssertEqual(run.segments, expected)
        assertAccounting(run.statistics, "bigbuf")
        // The pools and their sizes are shown: headers in 512-byte rooms, not 64 KB ones.
        XCTAssertTrue(run.configuration.contains("(packets): n=1024, size=65535"), run.configuration)
        XCTAssertNotNil(run.configuration.range(of: #"_hdr> \(GSO segment headers\): n=\d+, size=640"#, options: .regularExpression),
                        run.configuration)
    }

    /// A frame the segmenter refuses (its inner IPv4 length disagrees with the outer one) among
    /// good ones: dropped and counted by reason, not as a frame cut, so the rule holds.
    func testAccountingHoldsWhenACutFails() throws {
        var frames = try superFrames(payload: 20000, count: 3)
        var bad = frames[1]
        let innerIP = 14 + 20 + 8 + 8 + 14
        bad[innerIP + 2] = 0x10  // total length 4096 + low byte: less than the frame carries
        frames.insert(bad, at: 1)
        let run = try forward(frames, name: "failing") { options in options.burst = 4 }
        let tx = run.statistics.ports[1]
        XCTAssertEqual(run.statistics.ports[0].rxPackets, 4)
        XCTAssertEqual(tx.engine[EngineCounter.gsoInputFrames], 3, "\(run.statistics)")
        XCTAssertEqual(tx.engine[EngineCounter.gsoFailure(Int(SegmentationFailure.malformed.rawValue))], 1, "\(run.statistics)")
        XCTAssertEqual(run.statistics.total.engineDropped, 1)
        XCTAssertEqual(run.segments, 3 * Self.segments(payload: 20000, frameSize: 1514))
        assertAccounting(run.statistics, "failing")
    }
}
