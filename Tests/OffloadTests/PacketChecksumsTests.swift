import DPDK
import Foundation
import FrameSupport
import Offload
import TestSupport
import Wire
import XCTest

/// Checksums of packets that are not segmented, filled in place over odd-sized chains, and
/// the pseudo-headers a port's offload starts from; checked by the same oracles.
final class PacketChecksumsTests: XCTestCase {
    override func setUpWithError() throws { _ = try Fixture.pools() }
    override func tearDownWithError() throws { try Fixture.assertPoolsFull() }

    /// Every checksum field scrambled, then filled: the oracles must accept the result.
    private func scrambled(_ frame: [UInt8], _ layout: PacketLayout, tunnelled: Bool) -> [UInt8] {
        var f = frame
        func poke(_ at: Int) { f[at] ^= 0x5A; f[at + 1] ^= 0xA5 }
        let l3 = tunnelled ? layout.innerL3Offset : layout.outerL3Offset
        let l4 = tunnelled ? layout.innerL4Offset : layout.outerL4Offset
        let udp = (tunnelled ? layout.innerL4 : layout.outerL4) == .udp
        if f[l3] >> 4 == 4 { poke(l3 + 10) }
        poke(l4 + (udp ? 6 : 16))
        if tunnelled {
            if f[layout.outerL3Offset] >> 4 == 4 { poke(layout.outerL3Offset + 10) }
            if layout.outerL4 == .udp { poke(layout.outerL4Offset + 6) }
            if layout.tunnel == .gre { poke(layout.tunnelOffset + 4) }
        }
        return f
    }

    private func run(hardware: SoftwareChecksums, hwNames: [String], outerUDPZero: Bool, label: String) throws {
        let directory = try TestEAL.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var frames: [[UInt8]] = []
        var cases: [Oracle.Case] = []
        var index = 0
        for tunnel in [TunnelKind.none] + SuperFrameSpec.tunnels {
            for outerV6 in [false, true] {
                for udp in [false, true] {
                    index += 1
                    var spec = SuperFrameSpec(tunnel: tunnel, outerV6: outerV6, innerV6: !outerV6, udp: udp)
                    spec.payloadLength = 3001 + index * 13  // odd lengths
                    spec.seed = UInt32(index)
                    let frame = spec.build()
                    let layout = try Fixture.layout(frame)
                    let input = scrambled(frame, layout, tunnelled: tunnel != .none)
                    let packet = try Fixture.mbuf(input, chunk: 501, headerBytes: layout.payloadOffset, firstExtra: 1)
                    XCTAssertTrue(PacketChecksums.preparePseudoHeaders(packet, layout: layout, hardware: hardware, forSegmentation: false))
                    XCTAssertTrue(PacketChecksums.fill(packet, layout: layout, software: SoftwareChecksums.all.subtracting(hardware),
                                                       outerUDPZero: outerUDPZero))
                    frames.append(Frames.bytes(of: packet))
                    packet.free()
                    let payloadFile = directory.appendingPathComponent("payload-\(index).bin")
                    try Data(spec.payload()).write(to: payloadFile)
                    var c = Oracle.Case(name: "\(spec)", tunnel: "\(tunnel)", transport: udp ? "uso" : "tcp", mtu: 65535,
                                        payload: payloadFile.path)
                    c.first = frames.count - 1
                    c.count = 1
                    c.expected_count = 1
                    c.seq = SuperFrameSpec.tcpSequence
                    c.flags = spec.tcpFlags.rawValue
                    c.inner_id = spec.innerID
                    c.outer_id = spec.outerID
                    c.outer_udp_zero = outerUDPZero
                    c.hw = hwNames
                    c.gre_key = tunnel == .gre ? SuperFrameSpec.greKey : tunnel == .nvgre ? 0x1234_569A : nil
                    c.geneve_options = tunnel == .geneve ? SuperFrameSpec.geneveOptions.map { String(format: "%02x", $0) }.joined() : ""
                    c.tsharkProtocols = MatrixRun.tsharkProtocols(spec, transport: c.transport)
                    cases.append(c)
                }
            }
        }
        try Oracle.check(frames, cases: cases, directory: directory, label: label, tsharkChecksums: hardware.isEmpty)
    }

    func testFillEveryChecksumOverOddChains() throws {
        try run(hardware: [], hwNames: [], outerUDPZero: false, label: "fill")
    }

    func testFillWithOuterUDPZero() throws {
        try run(hardware: [], hwNames: [], outerUDPZero: true, label: "fill-zero")
    }

    /// Inner checksums to the port (pseudo-headers), outer ones in Swift: the outer UDP and
    /// GRE checksums must hold once the port has done its part.
    func testPseudoHeadersForThePortAndOuterInSoftware() throws {
        try run(hardware: [.innerIPv4, .innerL4], hwNames: ["innerIPv4", "innerL4"], outerUDPZero: false, label: "fill-hw")
    }

    func testPseudoHeaderForSegmentationLeavesTheLengthOut() throws {
        let spec = SuperFrameSpec(tunnel: .none, payloadLength: 3000)
        let frame = spec.build()
        let layout = try Fixture.layout(frame)
        let packet = try Fixture.mbuf(frame)
        defer { packet.free() }
        XCTAssertTrue(PacketChecksums.preparePseudoHeaders(packet, layout: layout, hardware: [.innerL4, .innerIPv4], forSegmentation: true))
        let h = packet.data
        let field = UInt16(h.load(fromByteOffset: layout.outerL4Offset + 16, as: UInt8.self)) << 8
            | UInt16(h.load(fromByteOffset: layout.outerL4Offset + 17, as: UInt8.self))
        let expected = InternetChecksum.pseudoHeaderSum(
            source: spec.innerEndpoints.src4, destination: spec.innerEndpoints.dst4, protocol: IPProtocol.tcp, length: nil)
        XCTAssertEqual(field, expected)
        XCTAssertEqual(h.load(fromByteOffset: layout.outerL3Offset + 10, as: UInt16.self), 0)
    }

    func testHeadersOutsideTheFirstSegmentAreRefused() throws {
        let frame = SuperFrameSpec(tunnel: .vxlan, payloadLength: 3000).build()
        let layout = try Fixture.layout(frame)
        let packet = try Fixture.mbuf(frame, chunk: 500, headerBytes: 40, firstExtra: 0)
        defer { packet.free() }
        let before = Frames.bytes(of: packet)
        XCTAssertFalse(PacketChecksums.fill(packet, layout: layout, software: .all))
        XCTAssertEqual(Frames.bytes(of: packet), before, "nothing changed")
    }
}
