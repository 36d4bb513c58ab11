import DPDK
import Foundation
import Offload
import TestSupport
import Wire
import XCTest

/// Every kind the segmenter cuts, checked by tshark and the scapy oracle: TCP (TSO), UDP
/// datagrams (USO) and UDP fragments (UFO), plain and in every tunnel, IPv4 and IPv6 outer and
/// inner, single- and multi-segment input; and STT. Pools are full again after every test.
final class SegmentKindTests: XCTestCase {
    override func setUpWithError() throws { _ = try Fixture.pools() }
    override func tearDownWithError() throws { try Fixture.assertPoolsFull() }

    /// Plain, then each tunnel with IPv4/IPv6 outer and inner; every other case a chain of
    /// odd-sized input segments.
    static func matrix(udp: Bool) -> [(SuperFrameSpec, chunk: Int?)] {
        var specs: [(SuperFrameSpec, Int?)] = []
        for tunnel in [TunnelKind.none] + SuperFrameSpec.tunnels {
            for outerV6 in tunnel == .none ? [false] : [false, true] {
                for innerV6 in [false, true] {
                    var spec = SuperFrameSpec(tunnel: tunnel, outerV6: outerV6, innerV6: innerV6, udp: udp)
                    spec.seed = UInt32(specs.count + 1)
                    spec.innerID = 0x1000 &+ UInt16(specs.count) &* 0x100
                    spec.payloadLength = 30_000 + specs.count * 517
                    specs.append((spec, specs.count % 2 == 1 ? 1999 : nil))
                }
            }
        }
        return specs
    }

    func testTCPSegmentationInEveryTunnel() throws {
        var run = try MatrixRun()
        defer { run.finish() }
        for (spec, chunk) in Self.matrix(udp: false) {
            try run.add(spec, options: SegmentationOptions(segmentSize: 1400, mtu: 1500), chunk: chunk)
        }
        try run.check(label: "tso")
    }

    func testUDPDatagramSegmentationInEveryTunnel() throws {
        var run = try MatrixRun()
        defer { run.finish() }
        for (spec, chunk) in Self.matrix(udp: true) {
            try run.add(spec, options: SegmentationOptions(segmentSize: 1300, mtu: 1500, udp: .datagrams), chunk: chunk)
        }
        try run.check(label: "uso")
    }

    func testUDPFragmentationInEveryTunnel() throws {
        var run = try MatrixRun()
        defer { run.finish() }
        for (spec, chunk) in Self.matrix(udp: true) {
            try run.add(spec, options: SegmentationOptions(segmentSize: 1480, mtu: 1500, udp: .fragments), chunk: chunk)
        }
        try run.check(label: "ufo")
    }

    /// STT: the STT frame (header + carried frame) is cut at the outer TCP-like header; seq is
    /// frame length << 16 | offset, the ack (frame id) constant, the STT header only first.
    func testSTTFramesAreCutAtTheirOuterHeader() throws {
        var run = try MatrixRun()
        defer { run.finish() }
        for outerV6 in [false, true] {
            for innerV6 in [false, true] {
                for chunk in [nil, 1501] as [Int?] {
                    var spec = SuperFrameSpec(tunnel: .stt, outerV6: outerV6, innerV6: innerV6)
                    spec.payloadLength = 20_000
                    try run.add(spec, options: SegmentationOptions(segmentSize: 9000, mtu: 1500), chunk: chunk)
                }
            }
        }
        try run.check(label: "stt")
    }
}
