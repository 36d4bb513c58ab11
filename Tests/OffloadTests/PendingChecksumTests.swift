import DPDK
import Foundation
import FrameSupport
import Offload
import TestSupport
import Wire
import XCTest

/// Checksums a sender left pending: where the metadata puts them, which the plan rewrites
/// anyway, how Swift finishes the rest; the outer checksums of a tunnel carrying a non-IP
/// frame; and the segment size Swift cuts at when the port cannot.
final class PendingChecksumTests: XCTestCase {
    override func setUpWithError() throws { _ = try Fixture.pools() }
    override func tearDownWithError() throws { try Fixture.assertPoolsFull() }

    /// Ethernet/IPv4/UDP(4789)/VXLAN/Ethernet/ARP request, outer UDP checksum = `check`.
    private func vxlanARP(outerUDPChecksum check: UInt16) -> [UInt8] {
        let arp: [UInt8] = [0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0x22, 1, 10, 98, 0, 1, 0, 0, 0, 0, 0, 0, 10, 98, 0, 2]
        let inner = [UInt8](repeating: 0xFF, count: 6) + [2, 0, 0, 0, 0x22, 1, 0x08, 0x06] + arp
        let vxlan: [UInt8] = [0x08, 0, 0, 0, 0, 0, 42, 0]
        let udpLength = 8 + vxlan.count + inner.count
        var ip: [UInt8] = [0x45, 0, 0, UInt8(20 + udpLength), 0, 1, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]
        let ipSum = ~ip.withUnsafeBytes { InternetChecksum.sum($0) }
        ip[10] = UInt8(ipSum >> 8)
        ip[11] = UInt8(ipSum & 0xFF)
        let udp: [UInt8] = [0xC0, 0, 0x12, 0xB5, 0, UInt8(udpLength), UInt8(check >> 8), UInt8(check & 0xFF)]
        return [2, 0, 0, 0, 0x21, 2, 2, 0, 0, 0, 0x21, 1, 0x08, 0x00] + ip + udp + vxlan + inner
    }

    /// The outer UDP pseudo-header sum (with the length) of `vxlanARP`'s frame.
    private func pseudo(_ frame: [UInt8]) -> UInt16 {
        frame.withUnsafeBytes { b in
            InternetChecksum.pseudoHeaderSum(
                source: IPv4Address(UInt32(bigEndian: b.loadUnaligned(fromByteOffset: 26, as: UInt32.self))),
                destination: IPv4Address(UInt32(bigEndian: b.loadUnaligned(fromByteOffset: 30, as: UInt32.self))),
                protocol: 17, length: frame.count - 34)
        }
    }

    private func udpChecksumIsRight(_ frame: [UInt8]) -> Bool {
        let region = frame.withUnsafeBytes { InternetChecksum.sum(UnsafeRawBufferPointer(rebasing: $0[34...])) }
        return InternetChecksum.add(region, pseudo(frame)) == 0xFFFF
    }

    func testWhereTheMetadataPutsThePendingChecksum() throws {
        let frame = vxlanARP(outerUDPChecksum: 0)
        let layout = try Fixture.layout(frame)
        XCTAssertEqual(layout.tunnel, .vxlan)
        XCTAssertEqual(layout.innerL3, .none)
        let packet = try Fixture.mbuf(frame)
        defer { packet.free() }
        XCTAssertNil(PendingChecksum.of(packet, layout: layout), "no request, no pending checksum")
        // The vnet tap's form: a UDP checksum request with untunnelled lengths.
        packet.offloadFlags = [.txUDPChecksum, .txIPv4, .rxL4ChecksumBad, .rxL4ChecksumGood]
        packet.txOffload = TxOffloadLengths(l2: 14, l3: 20, l4: 8)
        XCTAssertEqual(PendingChecksum.of(packet, layout: layout), PendingChecksum(start: 34, offset: 6))
        // With tunnel lengths: the inner L4 (here past an inner IPv4 header of 20 bytes).
        packet.offloadFlags = [.txTCPChecksum, .txIPv4, .txOuterIPv4, .txTunnelVXLAN]
        packet.txOffload = TxOffloadLengths(l2: 30, l3: 20, l4: 20, outerL2: 14, outerL3: 20)
        XCTAssertEqual(PendingChecksum.of(packet, layout: layout), PendingChecksum(start: 84, offset: 16))
        // virtio's form: RX_L4_CKSUM_NONE alone is the first L4 header; without a parse it is
        // out of reach, and finishing it is refused.
        packet.offloadFlags = [.rxL4ChecksumBad, .rxL4ChecksumGood]
        packet.txOffload = TxOffloadLengths(rawValue: 0)
        XCTAssertEqual(PendingChecksum.of(packet, layout: layout), PendingChecksum(start: 34, offset: 6))
        let unknown = try XCTUnwrap(PendingChecksum.of(packet, layout: nil))
        XCTAssertFalse(unknown.complete(in: packet))
        // A super-frame is cut, and every checksum with it: nothing pending.
        packet.offloadFlags = [.txTCPSegmentation, .txUDPChecksum, .rxLRO]
        XCTAssertNil(PendingChecksum.of(packet, layout: layout))
        XCTAssertTrue(PendingChecksum(start: 34, offset: 6).isRewritten(for: layout), "a UDP tunnel's outer checksum")
        XCTAssertFalse(PendingChecksum(start: 64, offset: 2).isRewritten(for: layout), "past the parser")
        XCTAssertFalse(PendingChecksum(start: Int(packet.packetLength) - 1, offset: 0).complete(in: packet), "past the frame")
    }

    /// Finishing a pending checksum matches Linux's skb_checksum_help on the same bytes, over
    /// a chain cut at odd places.
    func testFinishingIsTheKernelsSumOverAChain() throws {
        var frame = vxlanARP(outerUDPChecksum: 0)
        let seed = pseudo(frame)
        frame[40] = UInt8(seed >> 8)
        frame[41] = UInt8(seed & 0xFF)
        for chunk in [nil, 7, 33] as [Int?] {
            let packet = try Fixture.mbuf(frame, chunk: chunk, headerBytes: 42, firstExtra: 3)
            XCTAssertTrue(PendingChecksum(start: 34, offset: 6).complete(in: packet))
            let out = Frames.bytes(of: packet)
            packet.free()
            XCTAssertTrue(udpChecksumIsRight(out), "chunk \(String(describing: chunk))")
            XCTAssertEqual(Array(out[..<40]) + Array(out[42...]), Array(frame[..<40]) + Array(frame[42...]))
        }
    }

    /// The plan for ARP inside VXLAN computes the outer UDP checksum over the non-IP inner
    /// frame in Swift, whatever the field held, and asks the port for nothing.
    func testTunnelCarryingNonIPGetsItsOuterChecksums() throws {
        let frame = vxlanARP(outerUDPChecksum: 0xBEEF)
        let layout = try Fixture.layout(frame)
        for preset in NICPreset.allCases {
            let planner = TxPlannerTests.planner(preset, hw: .all)
            let packet = try Fixture.mbuf(frame)
            let plan = planner.plan(packet, layout: layout)
            XCTAssertEqual(plan.kind, .software, "\(preset)")
            XCTAssertTrue(plan.hardware.isEmpty, "\(preset)")
            XCTAssertTrue(plan.flags.isEmpty, "\(preset): no offload flags describe a missing inner L3")
            XCTAssertTrue(TxPlanner.apply(plan, to: packet, layout: layout), "\(preset)")
            let out = Frames.bytes(of: packet)
            packet.free()
            XCTAssertTrue(udpChecksumIsRight(out), "\(preset)")
        }
    }

    /// Swift cuts at the smaller of the user's two limits: `tunnel_tso set` (what the port would
    /// have cut at) and `set gso segsz` (whole frames), within the MTU.
    func testSwiftCutsAtTheSmallerOfTheUsersLimits() throws {
        let spec = SuperFrameSpec(tunnel: .vxlan, payloadLength: 6000)
        let frame = spec.build()
        let headers = try Fixture.layout(frame).payloadOffset
        let none = TxCapabilities(driverName: "net_pcap", advertised: [], mtu: 9000)
        for (tunnelTSO, gsoFrame, expected) in [(1410, 0, 1410), (1000, 1514, 1000), (65535, 1514, 1514 - headers),
                                                (65535, 1000, 1000 - headers), (2000, 9014, 2000),
                                                // No limit below the MTU's, which the 6000 bytes fit: one frame.
                                                (65535, 0, 0), (0, 0, 0), (12000, 0, 0)] {
            let planner = TxPlanner(
                capabilities: none,
                settings: TxPlannerSettings(tunnelTSOSegmentSize: tunnelTSO, softwareGSO: true, gsoFrameSize: gsoFrame))
            let layout = try Fixture.layout(frame)
            let packet = try Fixture.mbuf(frame)
            let plan = planner.plan(packet, layout: layout)
            packet.free()
            XCTAssertEqual(plan.cut, expected == 0 ? .none : .swift, "tunnel_tso \(tunnelTSO), gso segsz \(gsoFrame)")
            XCTAssertEqual(plan.segmentSize, expected, "tunnel_tso \(tunnelTSO), gso segsz \(gsoFrame)")
        }
    }
}
