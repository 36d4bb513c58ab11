import DPDK
import Foundation
import Offload
import TestSupport
import Wire
import XCTest

/// A cut made in rounds (an output with room for a few segments at a time) gives exactly the
/// frames one round gives: IDs, sequence numbers, checksums, UFO's first fragment (whose UDP
/// checksum covers fragments made in later rounds), inputs that are mbuf chains.
final class SegmentRoundsTests: XCTestCase {
    private let output = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 256)

    override func setUpWithError() throws { _ = try Fixture.pools() }
    override func tearDownWithError() throws {
        try Fixture.assertPoolsFull()
        output.deallocate()
    }

    /// The frames of one cut of `frame`, made `room` segments at a time.
    private func cut(_ frame: [UInt8], chunk: Int?, options: SegmentationOptions, room: Int) throws -> [[UInt8]] {
        var segmenter = try makeSegmenter()
        defer { segmenter.deallocate() }
        let packet = try Fixture.mbuf(frame, chunk: chunk, headerBytes: 120, firstExtra: 333)
        var result = segmenter.segment(packet, layout: try Fixture.layout(frame), options: options, into: output, capacity: room)
        var frames: [[UInt8]] = []
        while true {
            XCTAssertNil(result.failure)
            frames += Fixture.frames(output, count: result.count)
            guard segmenter.isCutting else { break }
            result = segmenter.resume(into: output, capacity: room)
        }
        return frames
    }

    func testRoundsMakeTheSameFramesAsOneCut() throws {
        let tcp = SegmentationOptions(segmentSize: 1400, mtu: 1500)
        let ufo = SegmentationOptions(segmentSize: 1400, mtu: 1500, udp: .fragments)
        let cases: [(SuperFrameSpec, SegmentationOptions, Int?)] = [
            (SuperFrameSpec(tunnel: .vxlan), tcp, nil),
            (SuperFrameSpec(tunnel: .geneve, outerV6: true, innerV6: true), tcp, 999),
            (SuperFrameSpec(tunnel: .vxlan, udp: true), SegmentationOptions(segmentSize: 1000, mtu: 1500), 1777),
            (SuperFrameSpec(tunnel: .none, udp: true), ufo, nil),
            (SuperFrameSpec(tunnel: .vxlan, innerV6: true, udp: true), ufo, 1333),
        ]
        for (spec, options, chunk) in cases {
            let frame = spec.build()
            let whole = try cut(frame, chunk: chunk, options: options, room: 256)
            XCTAssertGreaterThan(whole.count, 20, "\(spec)")
            for room in [1, 3, 7] {
                let rounds = try cut(frame, chunk: chunk, options: options, room: room)
                XCTAssertEqual(rounds.count, whole.count, "\(spec), room \(room)")
                XCTAssertTrue(rounds == whole, "\(spec), room \(room): frames differ")
            }
        }
    }
}
