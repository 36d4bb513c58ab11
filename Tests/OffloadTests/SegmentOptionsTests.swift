import DPDK
import Foundation
import Offload
import TestSupport
import Wire
import XCTest

/// Options: checksums left to the port, outer UDP checksum 0, the MTU clamp, IPv4 ID
/// policies, TCP flag placement, VLAN-tagged frames; checked by the same oracles.
final class SegmentOptionsTests: XCTestCase {
    override func setUpWithError() throws { _ = try Fixture.pools() }
    override func tearDownWithError() throws { try Fixture.assertPoolsFull() }

    /// Checksums left to the port hold what its offload starts from (IPv4 0, L4 pseudo-header
    /// with length); the oracle checks that, does the port's work, and then the outer UDP and
    /// GRE checksums Swift computed from the pseudo-headers alone must verify.
    func testChecksumsLeftToThePortHoldPseudoHeaders() throws {
        var run = try MatrixRun()
        defer { run.finish() }
        let splits: [(SoftwareChecksums, [String])] = [
            ([], ["innerIPv4", "innerL4", "outerIPv4", "outerUDP"]),
            ([.outerUDP, .outerIPv4], ["innerIPv4", "innerL4"]),
            ([.innerIPv4, .innerL4], ["outerIPv4", "outerUDP"]),
        ]
        for tunnel in [TunnelKind.none, .vxlan, .geneve, .gre, .fou] {
            for (software, hw) in splits {
                for udp in [false, true] {
                    let spec = SuperFrameSpec(tunnel: tunnel, outerV6: udp, innerV6: false, udp: udp, payloadLength: 12_000)
                    let options = SegmentationOptions(segmentSize: 1400, mtu: 1500, software: software)
                    try run.add(spec, options: options, hw: hw)
                }
            }
        }
        try run.check(label: "hw", tsharkChecksums: false)
    }

    /// The port's offload requests ride on each segment: flags and lengths.
    func testSegmentsCarryOffloadRequestsForThePort() throws {
        var segmenter = try makeSegmenter()
        defer { segmenter.deallocate() }
        let output = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 64)
        defer { output.deallocate() }
        let frame = SuperFrameSpec(tunnel: .vxlan, payloadLength: 5000).build()
        let layout = try Fixture.layout(frame)
        let options = SegmentationOptions(segmentSize: 1400, software: [.outerUDP])
        let result = segmenter.segment(try Fixture.mbuf(frame), layout: layout, options: options, into: output, capacity: 64)
        XCTAssertEqual(result, .segmented(count: 4))
        let first = Mbuf(output[0]!)
        let flags = first.offloadFlags
        XCTAssertEqual(flags.tunnelType, .txTunnelVXLAN)
        XCTAssertTrue(flags.isSuperset(of: [.txIPv4, .txIPChecksum, .txTCPChecksum, .txOuterIPv4, .txOuterIPChecksum]))
        XCTAssertFalse(flags.contains(.txOuterUDPChecksum))
        XCTAssertFalse(flags.contains(.txTCPSegmentation))
        let lengths = first.txOffload
        XCTAssertEqual([lengths.outerL2, lengths.outerL3, lengths.l2, lengths.l3, lengths.l4], [14, 20, 30, 20, 32])
        Mbuf.freeBulk(output, count: result.count)

        // All in software: the segments ask nothing of the port.
        let again = segmenter.segment(try Fixture.mbuf(frame), layout: layout, options: SegmentationOptions(segmentSize: 1400),
                                      into: output, capacity: 64)
        XCTAssertEqual(Mbuf(output[0]!).offloadFlags, [])
        Mbuf.freeBulk(output, count: again.count)
    }

    func testOuterUDPChecksumZeroOverIPv4ButComputedOverIPv6() throws {
        var run = try MatrixRun()
        defer { run.finish() }
        for outerV6 in [false, true] {
            for tunnel in [TunnelKind.vxlan, .vxlanGPE, .geneve, .gue, .fou] {
                let spec = SuperFrameSpec(tunnel: tunnel, outerV6: outerV6, payloadLength: 9000)
                try run.add(spec, options: SegmentationOptions(segmentSize: 1400, outerUDPChecksumZero: true))
            }
        }
        try run.check(label: "udpzero")
    }

    /// A segment size above what the MTU allows is clamped: no frame exceeds MTU + L2 (VLAN
    /// tag included), and each carries as much as fits.
    func testMTUClampsTheSegmentSize() throws {
        var run = try MatrixRun()
        defer { run.finish() }
        for (tunnel, outerV6) in [(TunnelKind.none, false), (.vxlan, false), (.geneve, true), (.gre, true), (.gue, false)] {
            for mtu in [1280, 1500, 9000] {
                var spec = SuperFrameSpec(tunnel: tunnel, outerV6: outerV6, innerV6: true, payloadLength: 50_000)
                spec.vlan = 100
                try run.add(spec, options: SegmentationOptions(segmentSize: 65000, mtu: mtu))
                spec.udp = true
                try run.add(spec, options: SegmentationOptions(segmentSize: 65000, mtu: mtu, udp: .fragments))
            }
        }
        try run.check(label: "mtu")
    }

    /// IDs: Linux's rule (fixed when DF and ID 0), always incrementing, always fixed.
    func testIPv4IdentificationPolicies() throws {
        var run = try MatrixRun()
        defer { run.finish() }
        for policy in [IPv4IDPolicy.automatic, .increment, .fixed] {
            for (innerID, df) in [(UInt16(0), true), (0, false), (0xFFF0, true)] {
                var spec = SuperFrameSpec(tunnel: .vxlan, payloadLength: 30_000)
                spec.innerID = innerID
                spec.outerID = innerID
                spec.dontFragment = df
                try run.add(spec, options: SegmentationOptions(segmentSize: 1400, ipv4ID: policy))
            }
        }
        try run.check(label: "ids")
    }

    /// CWR only on the first segment; PSH and FIN only on the last; the rest everywhere.
    func testTCPFlagPlacement() throws {
        var run = try MatrixRun()
        defer { run.finish() }
        for flags in [TCPFlags([.ack, .psh, .fin, .cwr, .ece]), [.ack], [.ack, .fin], [.ack, .cwr, .urg]] {
            var spec = SuperFrameSpec(tunnel: .geneve, outerV6: true, payloadLength: 8000)
            spec.tcpFlags = flags
            try run.add(spec, options: SegmentationOptions(segmentSize: 1000))
            spec.tunnel = .none
            try run.add(spec, options: SegmentationOptions(segmentSize: 1000))
        }
        try run.check(label: "flags")
    }

    /// A payload that fits one segment still comes out as one well-formed frame; an odd
    /// segment size makes odd payload pieces (their sums line up).
    func testSingleSegmentAndOddSizes() throws {
        var run = try MatrixRun()
        defer { run.finish() }
        for tunnel in [TunnelKind.none, .vxlan, .gre, .ipInIP] {
            try run.add(SuperFrameSpec(tunnel: tunnel, payloadLength: 700), options: SegmentationOptions(segmentSize: 1400))
            try run.add(SuperFrameSpec(tunnel: tunnel, payloadLength: 20_001), options: SegmentationOptions(segmentSize: 1001),
                        chunk: 777)
            try run.add(SuperFrameSpec(tunnel: tunnel, udp: true, payloadLength: 20_001),
                        options: SegmentationOptions(segmentSize: 999), chunk: 555)
        }
        try run.check(label: "odd")
    }
}
