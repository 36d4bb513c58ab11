import CDPDK
import DPDK
import Foundation
import FrameSupport
import Offload
import TestSupport
import Wire
import XCTest

/// The pools every Offload test shares (one EAL per test process), and how to turn a
/// super-frame into an input mbuf and the output back into frames.
enum Fixture {
    struct Pools: @unchecked Sendable {
        /// Single-segment super-frames (64 KB data room).
        let big: Mempool
        /// Pieces of multi-segment super-frames.
        let chunks: Mempool
        let headers: Mempool
        let indirect: Mempool
        var all: [Mempool] { [big, chunks, headers, indirect] }
    }

    nonisolated(unsafe) private static var cached: Pools?

    static func pools() throws -> Pools {
        try TestEAL.start()
        if let cached { return cached }
        let pools = Pools(
            big: try Mempool.createPacketPool(name: "gso_big", count: 64, cacheSize: 0, dataRoomSize: 65535),
            chunks: try Mempool.createPacketPool(name: "gso_chunks", count: 2048, cacheSize: 0, dataRoomSize: 2176),
            headers: try Mempool.createPacketPool(name: "gso_headers", count: 8192, cacheSize: 0, dataRoomSize: 128 + 384),
            indirect: try Mempool.createPacketPool(name: "gso_indirect", count: 8192, cacheSize: 0, dataRoomSize: 0))
        cached = pools
        return pools
    }

    /// The frame as one mbuf, or (`chunk` given) as a chain: the headers plus `firstExtra`
    /// bytes in the first segment, then `chunk`-byte pieces (odd sizes make odd pieces).
    static func mbuf(_ frame: [UInt8], chunk: Int? = nil, headerBytes: Int = 0, firstExtra: Int = 333) throws -> Mbuf {
        let pools = try pools()
        guard let chunk else { return try XCTUnwrap(Frames.mbuf(frame, pool: pools.big)) }
        var offset = 0
        var head: Mbuf?
        while offset < frame.count {
            let size = min(frame.count - offset, head == nil ? headerBytes + firstExtra : chunk)
            let piece = try XCTUnwrap(Frames.mbuf(Array(frame[offset..<offset + size]), pool: pools.chunks))
            if let head { try head.chain(piece) } else { head = piece }
            offset += size
        }
        return try XCTUnwrap(head)
    }

    /// Frames of `output[0..<count]`, freed.
    static func frames(_ output: UnsafeMutablePointer<OpaquePointer?>, count: Int) -> [[UInt8]] {
        (0..<count).map { index in
            let segment = Mbuf(output[index]!)
            let bytes = Frames.bytes(of: segment)
            XCTAssertEqual(bytes.count, Int(segment.packetLength), "pkt_len agrees with the chain")
            XCTAssertEqual(Int(segment.segmentCount), Array(segment.segments).count, "nb_segs agrees with the chain")
            segment.free()
            return bytes
        }
    }

    static func assertPoolsFull(file: StaticString = #filePath, line: UInt = #line) throws {
        for pool in try pools().all {
            XCTAssertEqual(pool.availableCount, pool.size, "pool \(pool.name) back to full", file: file, line: line)
        }
    }

    static func layout(_ frame: [UInt8]) throws -> PacketLayout {
        try frame.withUnsafeBytes { try PacketLayout.parse($0, tunnels: SuperFrameSpec.portTable) }
    }
}

/// A segmenter over the fixture's pools, freed by the test.
func makeSegmenter(maximumViews: Int = 1024) throws -> Segmenter {
    let pools = try Fixture.pools()
    return Segmenter(headerPool: pools.headers, indirectPool: pools.indirect, maximumViews: maximumViews)
}
