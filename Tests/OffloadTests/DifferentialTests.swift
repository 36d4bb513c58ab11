import CDPDK
import DPDK
import Foundation
import Offload
import TestSupport
import Wire
import XCTest

/// Swift GSO against DPDK's librte_gso on what librte_gso supports (TCP/IPv4, VXLAN-TCP/IPv4,
/// GRE-TCP/IPv4): same number of segments, same payload split, every header byte the same
/// except the checksums librte_gso leaves stale (IPv4 header, TCP, outer UDP, GRE).
final class DifferentialTests: XCTestCase {
    override func setUpWithError() throws { _ = try Fixture.pools() }
    override func tearDownWithError() throws { try Fixture.assertPoolsFull() }

    /// librte_gso's segments of `frame`: its own context, lengths and flags as it wants them.
    private func librteGSO(_ frame: [UInt8], layout: PacketLayout, chunk: Int?, segmentSize: Int) throws -> [[UInt8]] {
        let pools = try Fixture.pools()
        let packet = try Fixture.mbuf(frame, chunk: chunk, headerBytes: layout.payloadOffset)
        let lengths = layout.offloadLengths
        packet.txOffload = TxOffloadLengths(
            l2: Int(lengths.l2Len), l3: Int(lengths.l3Len), l4: Int(lengths.l4Len),
            outerL2: Int(lengths.outerL2Len), outerL3: Int(lengths.outerL3Len))
        var flags: MbufFlags = [.txTCPSegmentation, .txIPv4]
        switch layout.tunnel {
        case .vxlan: flags.formUnion([.txOuterIPv4, .txTunnelVXLAN])
        case .gre: flags.formUnion([.txOuterIPv4, .txTunnelGRE])
        default: break
        }
        packet.offloadFlags = flags
        var context = rte_gso_ctx()
        context.direct_pool = pools.headers.pointer
        context.indirect_pool = pools.indirect.pointer
        context.flag = 0  // incrementing IP IDs
        context.gso_types = UInt32(CDPDK_RTE_ETH_TX_OFFLOAD_TCP_TSO | CDPDK_RTE_ETH_TX_OFFLOAD_VXLAN_TNL_TSO
            | CDPDK_RTE_ETH_TX_OFFLOAD_GRE_TNL_TSO)
        context.gso_size = UInt16(layout.payloadOffset + segmentSize)  // librte_gso counts the whole frame
        let output = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 256)
        defer { output.deallocate() }
        let count = withUnsafePointer(to: &context) { rte_gso_segment(packet.pointer, $0, output, 256) }
        packet.free()  // librte_gso never frees its input; its segments hold the buffers
        XCTAssertGreaterThan(count, 1, "librte_gso segmented the frame")
        return Fixture.frames(output, count: Int(max(count, 0)))
    }

    private func swiftGSO(_ frame: [UInt8], layout: PacketLayout, chunk: Int?, segmentSize: Int) throws -> [[UInt8]] {
        var segmenter = try makeSegmenter()
        defer { segmenter.deallocate() }
        let output = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 256)
        defer { output.deallocate() }
        let packet = try Fixture.mbuf(frame, chunk: chunk, headerBytes: layout.payloadOffset)
        let result = segmenter.segment(
            packet, layout: layout, options: SegmentationOptions(segmentSize: segmentSize, ipv4ID: .increment),
            into: output, capacity: 256)
        return Fixture.frames(output, count: result.count)
    }

    /// Byte offsets of the checksums librte_gso does not compute.
    private func staleChecksums(_ layout: PacketLayout) -> Set<Int> {
        var offsets: Set<Int> = []
        func field(_ at: Int) { offsets.formUnion([at, at + 1]) }
        field(layout.outerL3Offset + 10)
        if layout.isTunnel {
            field(layout.innerL3Offset + 10)
            field(layout.innerL4Offset + 16)
            if layout.outerL4 == .udp { field(layout.outerL4Offset + 6) }
            if layout.tunnel == .gre { field(layout.tunnelOffset + 4) }
        } else {
            field(layout.outerL4Offset + 16)
        }
        return offsets
    }

    func testSameSegmentsAsLibrteGSO() throws {
        for tunnel in [TunnelKind.none, .vxlan, .gre] {
            for (payload, segmentSize, chunk) in [(40_000, 1400, nil), (30_001, 1000, 1999), (63_000, 1448, nil)] as [(Int, Int, Int?)] {
                var spec = SuperFrameSpec(tunnel: tunnel, payloadLength: payload)
                spec.tcpFlags = [.ack, .psh]
                let frame = spec.build()
                let layout = try Fixture.layout(frame)
                let theirs = try librteGSO(frame, layout: layout, chunk: chunk, segmentSize: segmentSize)
                let ours = try swiftGSO(frame, layout: layout, chunk: chunk, segmentSize: segmentSize)
                let name = "\(spec) segment=\(segmentSize) chunk=\(chunk.map(String.init) ?? "none")"
                XCTAssertEqual(ours.count, theirs.count, "\(name): segment count")
                XCTAssertEqual(ours.map(\.count), theirs.map(\.count), "\(name): payload split")
                let stale = staleChecksums(layout)
                for (index, (a, b)) in zip(ours, theirs).enumerated() where a.count == b.count {
                    let differing = (0..<a.count).filter { a[$0] != b[$0] && !stale.contains($0) }
                    XCTAssertTrue(differing.isEmpty, "\(name): segment \(index) differs at \(differing.prefix(8))")
                }
            }
        }
    }
}
