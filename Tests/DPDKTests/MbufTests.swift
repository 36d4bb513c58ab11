import CDPDK
import DPDK
import FrameSupport
import TestSupport
import XCTest

final class MbufTests: XCTestCase {
    var pool: Mempool!

    override func setUpWithError() throws {
        try TestEAL.start()
        pool = try Mempool.createPacketPool(name: TestEAL.uniqueName("mbuf_test_"), count: 1023, cacheSize: 0)
    }

    override func tearDown() {
        XCTAssertEqual(pool.availableCount, pool.size, "every mbuf returned to the pool")
        pool.free()
    }

    func testLengthsAppendPrependAdjustTrim() throws {
        let mbuf = try XCTUnwrap(pool.allocate())
        XCTAssertEqual(mbuf.dataLength, 0)
        XCTAssertEqual(mbuf.headroom, UInt16(CDPDK_PKTMBUF_HEADROOM))
        let tail = try XCTUnwrap(mbuf.append(100))
        XCTAssertEqual(tail, mbuf.data)
        XCTAssertEqual(mbuf.dataLength, 100)
        XCTAssertEqual(mbuf.packetLength, 100)
        let front = try XCTUnwrap(mbuf.prepend(14))
        XCTAssertEqual(front, mbuf.data)
        XCTAssertEqual(mbuf.packetLength, 114)
        XCTAssertNotNil(mbuf.adjust(4))
        XCTAssertEqual(mbuf.packetLength, 110)
        XCTAssertTrue(mbuf.trim(10))
        XCTAssertEqual(mbuf.packetLength, 100)
        XCTAssertFalse(mbuf.trim(101), "trimming more than the segment holds fails and changes nothing")
        XCTAssertEqual(mbuf.packetLength, 100)
        XCTAssertNil(mbuf.append(UInt16(mbuf.tailroom) + 1), "append past the tailroom fails")
        XCTAssertNil(mbuf.prepend(UInt16(mbuf.headroom) + 1), "prepend past the headroom fails")
        mbuf.free()
    }

    func testChainsWalkAndRead() throws {
        let head = try XCTUnwrap(Frames.mbuf([UInt8](0..<100), pool: pool))
        let middle = try XCTUnwrap(Frames.mbuf([UInt8](100..<150), pool: pool))
        let last = try XCTUnwrap(Frames.mbuf([UInt8](150..<200), pool: pool))
        try head.chain(middle)
        try head.chain(last)
        XCTAssertEqual(head.segmentCount, 3)
        XCTAssertEqual(head.packetLength, 200)
        XCTAssertEqual(head.segments.map(\.dataLength), [100, 50, 50])
        XCTAssertEqual(head.lastSegment, last)
        XCTAssertEqual(Frames.bytes(of: head), [UInt8](0..<200))
        // A read that crosses segments is copied into the scratch buffer.
        var scratch = [UInt8](repeating: 0, count: 20)
        let bytes = try scratch.withUnsafeMutableBytes { buffer -> [UInt8] in
            let pointer = try XCTUnwrap(head.read(offset: 90, count: 20, scratch: buffer.baseAddress!))
            return Array(UnsafeRawBufferPointer(start: pointer, count: 20))
        }
        XCTAssertEqual(bytes, [UInt8](90..<110))
        XCTAssertNil(scratch.withUnsafeMutableBytes { head.read(offset: 190, count: 20, scratch: $0.baseAddress!) })
        try head.linearize()
        XCTAssertEqual(head.segmentCount, 1)
        XCTAssertEqual(Frames.bytes(of: head), [UInt8](0..<200))
        head.free()
    }

    func testIndirectAttachSharesTheBufferUntilLastRelease() throws {
        let direct = try XCTUnwrap(Frames.mbuf([UInt8](repeating: 7, count: 64), pool: pool))
        let indirect = try XCTUnwrap(pool.allocate())
        let before = pool.availableCount
        indirect.attach(to: direct)
        XCTAssertTrue(indirect.isIndirect)
        XCTAssertTrue(direct.isDirect)
        XCTAssertEqual(direct.referenceCount, 2)
        XCTAssertEqual(indirect.data, direct.data, "zero copy: the same bytes")
        XCTAssertEqual(indirect.dataLength, 64)
        direct.free()
        XCTAssertEqual(pool.availableCount, before, "the buffer stays while the indirect mbuf holds it")
        XCTAssertEqual(indirect.data.load(as: UInt8.self), 7)
        indirect.detach()
        XCTAssertTrue(indirect.isDirect)
        XCTAssertEqual(pool.availableCount, before + 1, "detaching the last reference returns the buffer")
        indirect.free()
    }

    func testOffloadFlagsMatchDPDK() throws {
        let pairs: [(MbufFlags, UInt64)] = [
            (.txTCPSegmentation, RTE_MBUF_F_TX_TCP_SEG), (.txUDPSegmentation, RTE_MBUF_F_TX_UDP_SEG),
            (.txTCPChecksum, RTE_MBUF_F_TX_TCP_CKSUM), (.txUDPChecksum, RTE_MBUF_F_TX_UDP_CKSUM),
            (.txIPChecksum, RTE_MBUF_F_TX_IP_CKSUM), (.txIPv4, RTE_MBUF_F_TX_IPV4), (.txIPv6, RTE_MBUF_F_TX_IPV6),
            (.txOuterIPChecksum, RTE_MBUF_F_TX_OUTER_IP_CKSUM), (.txOuterIPv4, RTE_MBUF_F_TX_OUTER_IPV4),
            (.txOuterIPv6, RTE_MBUF_F_TX_OUTER_IPV6), (.txOuterUDPChecksum, RTE_MBUF_F_TX_OUTER_UDP_CKSUM),
            (.txTunnelVXLAN, RTE_MBUF_F_TX_TUNNEL_VXLAN), (.txTunnelGRE, RTE_MBUF_F_TX_TUNNEL_GRE),
            (.txTunnelIPIP, RTE_MBUF_F_TX_TUNNEL_IPIP), (.txTunnelGENEVE, RTE_MBUF_F_TX_TUNNEL_GENEVE),
            (.txTunnelVXLANGPE, RTE_MBUF_F_TX_TUNNEL_VXLAN_GPE), (.txTunnelUDP, RTE_MBUF_F_TX_TUNNEL_UDP),
            (.txTunnelIP, RTE_MBUF_F_TX_TUNNEL_IP), (.txTunnelMask, RTE_MBUF_F_TX_TUNNEL_MASK),
            (.txVLAN, RTE_MBUF_F_TX_VLAN), (.txL4Mask, RTE_MBUF_F_TX_L4_MASK),
            (.rxLRO, RTE_MBUF_F_RX_LRO), (.rxIPChecksumGood, RTE_MBUF_F_RX_IP_CKSUM_GOOD),
            (.rxIPChecksumBad, RTE_MBUF_F_RX_IP_CKSUM_BAD), (.rxL4ChecksumGood, RTE_MBUF_F_RX_L4_CKSUM_GOOD),
            (.rxL4ChecksumBad, RTE_MBUF_F_RX_L4_CKSUM_BAD), (.rxOuterL4ChecksumBad, RTE_MBUF_F_RX_OUTER_L4_CKSUM_BAD),
            (.rxOuterL4ChecksumGood, RTE_MBUF_F_RX_OUTER_L4_CKSUM_GOOD), (.rxVLANStripped, RTE_MBUF_F_RX_VLAN_STRIPPED),
            (.indirect, RTE_MBUF_F_INDIRECT), (.externalBuffer, RTE_MBUF_F_EXTERNAL),
        ]
        for (flag, expected) in pairs { XCTAssertEqual(flag.rawValue, expected, "\(flag)") }
        XCTAssertEqual(TxOffloads.vxlanTunnelTSO.rawValue, 1 << 9)
        XCTAssertEqual(TxOffloads.outerUDPChecksum.rawValue, 1 << 20)
        XCTAssertEqual(TxOffloads.tcpTSO.rawValue, 1 << 5)

        let mbuf = try XCTUnwrap(pool.allocate())
        let flags: MbufFlags = [.txTunnelVXLAN, .txTCPSegmentation, .txIPv4, .txIPChecksum, .txOuterIPv4, .txOuterIPChecksum]
        mbuf.offloadFlags = flags
        XCTAssertEqual(mbuf.offloadFlags, flags)
        XCTAssertEqual(mbuf.offloadFlags.tunnelType, .txTunnelVXLAN)
        mbuf.packetType = 0x0000_0211
        XCTAssertEqual(mbuf.packetType, 0x0000_0211)
        mbuf.free()
    }

    func testTxOffloadLengthsPackLikeTheCBitFields() throws {
        let mbuf = try XCTUnwrap(pool.allocate())
        // VXLAN over IPv4: outer 14/20, l2 = UDP 8 + VXLAN 8 + inner Ethernet 14.
        let lengths = TxOffloadLengths(l2: 30, l3: 20, l4: 20, tsoSegmentSize: 1398, outerL2: 14, outerL3: 20)
        mbuf.txOffload = lengths
        XCTAssertEqual(mbuf.txOffload, lengths)
        XCTAssertEqual([lengths.l2, lengths.l3, lengths.l4, lengths.tsoSegmentSize, lengths.outerL2, lengths.outerL3],
                       [30, 20, 20, 1398, 14, 20])
        // DPDK's own packing of the same values.
        XCTAssertEqual(lengths.rawValue, rte_mbuf_tx_offload(30, 20, 20, 1398, 20, 14, 0))
        // Extremes of every field.
        let maximum = TxOffloadLengths(l2: 127, l3: 511, l4: 255, tsoSegmentSize: 65535, outerL2: 127, outerL3: 511)
        XCTAssertEqual(maximum.rawValue, rte_mbuf_tx_offload(127, 511, 255, 65535, 511, 127, 0))
        XCTAssertFalse(TxOffloadLengths.fits(l2: 128, l3: 20, l4: 20, tsoSegmentSize: 1, outerL2: 14, outerL3: 20))
        XCTAssertTrue(TxOffloadLengths.fits(l2: 127, l3: 511, l4: 255, tsoSegmentSize: 65535, outerL2: 127, outerL3: 511))
        mbuf.free()
    }

    func testBulkAllocationIsAllOrNothing() throws {
        let buffer = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 2048)
        defer { buffer.deallocate() }
        XCTAssertTrue(pool.allocateBulk(buffer, count: 64))
        XCTAssertEqual(pool.inUseCount, 64)
        Mbuf.freeBulk(buffer, count: 64)
        XCTAssertFalse(pool.allocateBulk(buffer, count: 2048), "more than the pool holds: nothing allocated")
        XCTAssertEqual(pool.availableCount, pool.size)
        XCTAssertNil(Mempool.lookup(name: "no-such-pool"))
    }

    /// freeBulk puts a burst of plain mbufs (one direct, unshared segment each, one pool)
    /// straight back into the lcore's cache; any other burst goes through
    /// rte_pktmbuf_free_bulk. Either way every buffer returns exactly once.
    func testFreeBulkPlainBurstsAndEveryOtherKind() throws {
        let cached = try Mempool.createPacketPool(name: TestEAL.uniqueName("mbuf_cached_"), count: 1023, cacheSize: 250)
        defer {
            XCTAssertEqual(cached.availableCount, cached.size, "every mbuf returned to the cached pool")
            cached.free()
        }
        let burst = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: 64)
        defer { burst.deallocate() }
        // Plain bursts, as a receive makes them, in and out many times: the cache takes them
        // and hands the same mbufs back reset.
        for _ in 0..<100 {
            XCTAssertTrue(cached.allocateBulk(burst, count: 32))
            for index in 0..<32 { _ = Mbuf(burst[index]!).append(60) }
            XCTAssertEqual(cached.inUseCount, 32)
            Mbuf.freeBulk(burst, count: 32)
            XCTAssertEqual(cached.inUseCount, 0)
        }
        Mbuf.freeBulk(burst, count: 0)
        XCTAssertTrue(pool.allocateBulk(burst, count: 32), "a pool without a cache")
        Mbuf.freeBulk(burst, count: 32)
        XCTAssertEqual(pool.inUseCount, 0)

        // Each kind of mbuf the fast path must not take, at the start and in the middle of
        // an otherwise plain burst.
        let kinds: [(String, () throws -> Mbuf?)] = [
            ("nil", { nil }),
            ("chain", {
                let head = try XCTUnwrap(Frames.mbuf([UInt8](0..<100), pool: cached))
                try head.chain(try XCTUnwrap(Frames.mbuf([UInt8](0..<50), pool: cached)))
                return head
            }),
            ("indirect", {
                let direct = try XCTUnwrap(Frames.mbuf([UInt8](repeating: 1, count: 64), pool: cached))
                let indirect = try XCTUnwrap(cached.allocate())
                indirect.attach(to: direct)
                direct.free()
                return indirect
            }),
            ("shared", {
                let shared = try XCTUnwrap(cached.allocate())
                shared.addReference()
                return shared
            }),
            ("other pool", { try XCTUnwrap(self.pool.allocate()) }),
        ]
        for (name, make) in kinds {
            for position in [0, 5] {
                XCTAssertTrue(cached.allocateBulk(burst, count: 8))
                let odd = try make()
                if let first = burst[position] { Mbuf(first).free() }
                burst[position] = odd?.pointer
                Mbuf.freeBulk(burst, count: 8)
                if name == "shared", let odd {
                    XCTAssertEqual(odd.referenceCount, 1, "a shared mbuf loses one reference")
                    odd.free()
                }
                XCTAssertEqual(cached.inUseCount, 0, "\(name) at \(position)")
                XCTAssertEqual(pool.inUseCount, 0, "\(name) at \(position)")
            }
        }
    }
}
