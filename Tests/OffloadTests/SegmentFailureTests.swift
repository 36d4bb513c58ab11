import DPDK
import Foundation
import Offload
import TestSupport
@testable import Wire
import XCTest

/// Every failure reports its reason, frees the input exactly once and leaks nothing: each
/// pool is full again afterwards (a leak leaves it short, a double free over-full).
final class SegmentFailureTests: XCTestCase {
    private var output = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 256)
    private var extraPools: [Mempool] = []

    override func setUpWithError() throws { _ = try Fixture.pools() }
    override func tearDownWithError() throws {
        try Fixture.assertPoolsFull()
        for pool in extraPools {
            XCTAssertEqual(pool.availableCount, pool.size, "pool \(pool.name) back to full")
            pool.free()
        }
        output.deallocate()
    }

    private func pool(count: UInt32, dataRoom: UInt16 = 128 + 384) throws -> Mempool {
        let pool = try Mempool.createPacketPool(name: TestEAL.uniqueName("gso_tiny"), count: count, cacheSize: 0, dataRoomSize: dataRoom)
        extraPools.append(pool)
        return pool
    }

    private func segment(
        _ frame: [UInt8], layout: PacketLayout? = nil, chunk: Int? = nil, headerBytes: Int = 0, firstExtra: Int = 333,
        options: SegmentationOptions = SegmentationOptions(segmentSize: 1400, mtu: 1500),
        segmenter: inout Segmenter, capacity: Int = 256
    ) throws -> SegmentationResult {
        let parsed = try layout ?? Fixture.layout(frame)
        let packet = try Fixture.mbuf(frame, chunk: chunk, headerBytes: headerBytes, firstExtra: firstExtra)
        return segmenter.segment(packet, layout: parsed, options: options, into: output, capacity: capacity)
    }

    func testHeaderPoolExhausted() throws {
        let pools = try Fixture.pools()
        var segmenter = Segmenter(headerPool: try pool(count: 8), indirectPool: pools.indirect)
        defer { segmenter.deallocate() }
        let frame = SuperFrameSpec(tunnel: .vxlan).build()
        XCTAssertEqual(try segment(frame, segmenter: &segmenter), .failed(.poolEmpty))
    }

    /// Headers allocated, then the indirect pool runs dry: the headers go back too.
    func testIndirectPoolExhaustedMidway() throws {
        let pools = try Fixture.pools()
        var segmenter = Segmenter(headerPool: pools.headers, indirectPool: try pool(count: 20, dataRoom: 0))
        defer { segmenter.deallocate() }
        let frame = SuperFrameSpec(tunnel: .geneve, outerV6: true).build()
        XCTAssertEqual(try segment(frame, chunk: 1999, headerBytes: 200, segmenter: &segmenter), .failed(.poolEmpty))
        // The same segmenter works once the input fits the pools.
        let small = SuperFrameSpec(tunnel: .geneve, payloadLength: 5000).build()
        let result = try segment(small, segmenter: &segmenter)
        XCTAssertEqual(result, .segmented(count: 4))
        Mbuf.freeBulk(output, count: result.count)
    }

    /// Less output room than segments is not a failure: the cut stays open for the next round.
    func testOutputCapacityTooSmallLeavesTheCutOpen() throws {
        var segmenter = try makeSegmenter()
        defer { segmenter.deallocate() }
        let frame = SuperFrameSpec(tunnel: .gre).build()
        XCTAssertEqual(try segment(frame, segmenter: &segmenter, capacity: 10), .segmented(count: 10))
        XCTAssertTrue(segmenter.isCutting)
        Mbuf.freeBulk(output, count: 10)
        // Abandoned: the input goes back, the segments already made stay valid.
        segmenter.abandon()
        XCTAssertFalse(segmenter.isCutting)
    }

    /// A round takes no more payload views than the scratch array holds: fewer segments per
    /// round, never a failure, unless one segment alone needs more.
    func testTooManyPayloadViewsShortensTheRound() throws {
        var segmenter = try makeSegmenter(maximumViews: 16)
        defer { segmenter.deallocate() }
        let frame = SuperFrameSpec(tunnel: .none).build()
        XCTAssertEqual(try segment(frame, segmenter: &segmenter), .segmented(count: 16))
        Mbuf.freeBulk(output, count: 16)
        var made = 16
        while segmenter.isCutting {
            let round = segmenter.resume(into: output, capacity: 256)
            XCTAssertLessThanOrEqual(round.count, 16)
            XCTAssertGreaterThan(round.count, 0)
            Mbuf.freeBulk(output, count: round.count)
            made += round.count
        }
        XCTAssertEqual(made, (40_000 + 1399) / 1400)
        var tiny = try makeSegmenter(maximumViews: 2)
        defer { tiny.deallocate() }
        // One 1400-byte segment over 100-byte input pieces needs 14 or 15 views.
        XCTAssertEqual(try segment(frame, chunk: 100, headerBytes: 200, firstExtra: 0, segmenter: &tiny), .failed(.tooManySegments))
        XCTAssertFalse(tiny.isCutting)
    }

    func testMalformedLayouts() throws {
        var segmenter = try makeSegmenter()
        defer { segmenter.deallocate() }
        let plain = SuperFrameSpec(tunnel: .none, payloadLength: 10_000).build()
        let vxlan = SuperFrameSpec(tunnel: .vxlan, payloadLength: 10_000).build()
        let vxlanLayout = try Fixture.layout(vxlan)
        // Another frame's layout: the headers are not where it says.
        XCTAssertEqual(try segment(plain, layout: vxlanLayout, segmenter: &segmenter), .failed(.malformed))
        // IP lengths that disagree with the tunnel's (the inner packet claims less).
        var short = vxlan
        let innerIP = vxlanLayout.innerL3Offset
        short[innerIP + 2] = 0x10
        XCTAssertEqual(try segment(short, layout: vxlanLayout, segmenter: &segmenter), .failed(.malformed))
        // The layout names a TCP header length the header does not have.
        let wrongTCP = altered(vxlanLayout) { $0.innerL4Length = 20 }
        XCTAssertEqual(try segment(vxlan, layout: wrongTCP, segmenter: &segmenter), .failed(.malformed))
        // A packet shorter than its IP length.
        let truncated = Array(plain.prefix(5000))
        XCTAssertEqual(try segment(truncated, layout: try Fixture.layout(plain), segmenter: &segmenter), .failed(.malformed))
    }

    func testUnsupportedPackets() throws {
        var segmenter = try makeSegmenter()
        defer { segmenter.deallocate() }
        let noL4 = altered(try Fixture.layout(SuperFrameSpec(tunnel: .vxlan).build())) { $0.innerL4 = .other }
        XCTAssertEqual(try segment(SuperFrameSpec(tunnel: .vxlan).build(), layout: noL4, segmenter: &segmenter), .failed(.unsupported))
        let fragment = altered(try Fixture.layout(SuperFrameSpec(tunnel: .none).build())) { $0.flags.insert(.outerFragment) }
        XCTAssertEqual(try segment(SuperFrameSpec(tunnel: .none).build(), layout: fragment, segmenter: &segmenter), .failed(.unsupported))
    }

    func testSegmentTooSmallForTheMTU() throws {
        var segmenter = try makeSegmenter()
        defer { segmenter.deallocate() }
        let frame = SuperFrameSpec(tunnel: .geneve, outerV6: true, innerV6: true).build()
        XCTAssertEqual(try segment(frame, options: SegmentationOptions(segmentSize: 1400, mtu: 150), segmenter: &segmenter),
                       .failed(.segmentTooSmall))
        XCTAssertEqual(try segment(frame, options: SegmentationOptions(segmentSize: 0), segmenter: &segmenter),
                       .failed(.segmentTooSmall))
    }

    func testHeadersThatDoNotFit() throws {
        let pools = try Fixture.pools()
        var small = Segmenter(headerPool: try pool(count: 64, dataRoom: 128 + 64), indirectPool: pools.indirect)
        defer { small.deallocate() }
        let frame = SuperFrameSpec(tunnel: .geneve, outerV6: true).build()
        XCTAssertEqual(try segment(frame, segmenter: &small), .failed(.headersTooLong))
        // Headers split over the input's first two segments.
        var segmenter = try makeSegmenter()
        defer { segmenter.deallocate() }
        XCTAssertEqual(try segment(frame, chunk: 1000, headerBytes: 50, firstExtra: 0, segmenter: &segmenter), .failed(.headersTooLong))
    }

    func testFailureNamesAreDistinct() {
        let names = SegmentationFailure.allCases.map(\.name)
        XCTAssertEqual(Set(names).count, names.count)
        XCTAssertEqual(SegmentationFailure.poolEmpty.name, "pool-empty")
    }
}

/// A layout the parser would not make (only it may set the lengths and kinds), its offsets
/// settled again from the changed lengths: headers that disagree with the packet's.
private func altered(_ layout: PacketLayout, _ change: (inout PacketLayout) -> Void) -> PacketLayout {
    var changed = layout
    change(&changed)
    try! changed.settleOffsets()
    return changed
}
