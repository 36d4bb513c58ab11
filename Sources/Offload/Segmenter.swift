import CDPDK
import DPDK
import Wire

/// Software GSO: cuts one super-frame into wire-sized segments, zero copy.
///
/// Each output segment is a small direct mbuf from `headerPool` holding a copy of the input's
/// headers, patched for that segment, chained to indirect mbufs from `indirectPool` that view
/// the input's payload. One per lcore: it owns a scratch array and is not thread-safe.
public struct Segmenter {
    public let headerPool: Mempool
    public let indirectPool: Mempool
    /// Most payload views one packet may need (segments, plus input segment boundaries).
    public let maximumViews: Int
    let views: UnsafeMutablePointer<OpaquePointer?>
    let headerRoom: Int
    /// IPv6 fragment identification for UFO over IPv6, one per datagram.
    var nextFragmentID: UInt32

    public init(headerPool: Mempool, indirectPool: Mempool, maximumViews: Int = 1024, firstFragmentID: UInt32 = 1) {
        self.headerPool = headerPool
        self.indirectPool = indirectPool
        self.maximumViews = maximumViews
        views = .allocate(capacity: maximumViews)
        headerRoom = Int(headerPool.dataRoomSize) - Int(CDPDK_PKTMBUF_HEADROOM)
        nextFragmentID = firstFragmentID
    }

    /// Frees the scratch array; the segmenter must not be used afterwards.
    public func deallocate() { views.deallocate() }

    /// Cuts `packet` (whose headers `layout` describes) into `output[0..<count]`. The input
    /// is consumed in every case: on success the segments' views hold its buffers, on failure
    /// it is freed along with anything already built.
    public mutating func segment(
        _ packet: Mbuf, layout: PacketLayout, options: SegmentationOptions,
        into output: UnsafeMutablePointer<OpaquePointer?>, capacity: Int
    ) -> SegmentationResult {
        let headers: SegmentHeaders
        do {
            headers = try SegmentHeaders(packet: packet, layout: layout, options: options, headerRoom: headerRoom)
        } catch {
            packet.free()
            return .failed(error)
        }
        let count = headers.segmentCount
        let fragments = headers.transport == .udpFragments
        let viewCount = PayloadSlicer.viewCount(
            packet, payloadOffset: headers.payloadOffset, length: headers.payloadLength, slices: count,
            firstSize: fragments ? headers.segmentSize - 8 : headers.segmentSize, size: headers.segmentSize)
        guard count <= capacity, viewCount <= maximumViews else {
            packet.free()
            return .failed(.tooManySegments)
        }
        guard headerPool.allocateBulk(output, count: count) else {
            packet.free()
            return .failed(.poolEmpty)
        }
        // Views come straight from the pool without rte_pktmbuf_reset, as rte_mbuf_raw_alloc
        // does: attach sets every field reset would, and a pooled mbuf is direct, refcnt 1.
        guard viewCount == 0 || rte_mempool_get_bulk(indirectPool.pointer, UnsafeMutableRawPointer(views)
            .assumingMemoryBound(to: UnsafeMutableRawPointer?.self), UInt32(viewCount)) == 0 else {
            Mbuf.freeBulk(output, count: count)
            packet.free()
            return .failed(.poolEmpty)
        }
        if layout.tunnel == .stt {
            // The carried frame's checksums are in the payload: fill them before it is summed.
            let sw = options.software
            PacketChecksums.fillCarriedFrame(packet, layout: layout, ipv4: sw.contains(.innerIPv4), l4: sw.contains(.innerL4))
        }
        var slicer = PayloadSlicer(packet: packet, payloadOffset: headers.payloadOffset, pieces: views)
        if fragments {
            cutFragments(headers, &slicer, output, count)
        } else {
            cutSegments(headers, &slicer, output, count)
        }
        if slicer.used < viewCount {  // empty input segments made the estimate high
            Mbuf.freeBulk(views + slicer.used, count: viewCount - slicer.used)
        }
        packet.free()  // the views keep its buffers
        return .segmented(count: count)
    }

    /// TCP and USO: every segment carries all the headers and `segmentSize` payload bytes
    /// (the last one the rest).
    @inline(__always)
    func cutSegments(
        _ headers: SegmentHeaders, _ slicer: inout PayloadSlicer, _ output: UnsafeMutablePointer<OpaquePointer?>,
        _ count: Int
    ) {
        let headerLength = headers.payloadOffset
        var remaining = headers.payloadLength
        for index in 0..<count {
            let segment = output[index]!
            if index &+ 1 < count { rte_prefetch0(cdpdk_mbuf_mtod(output[index &+ 1]!)) }  // its header, next
            let length = min(remaining, headers.segmentSize)
            remaining -= length
            let h = cdpdk_mbuf_mtod(segment)!
            copyHeaders(h, headers.template, headerLength)
            let (views, sum) = slicer.take(length, after: segment, summing: headers.innerL4Software)
            setLengths(segment, header: headerLength, payload: length, views: views, headers)
            headers.patchSegment(h, index: index, count: count, payloadLength: length, payloadSum: sum)
        }
    }

    /// UFO: IP fragments of one datagram. The first carries the UDP header, whose checksum
    /// covers every fragment's payload, so it is finished last.
    @inline(__always)
    mutating func cutFragments(
        _ headers: SegmentHeaders, _ slicer: inout PayloadSlicer, _ output: UnsafeMutablePointer<OpaquePointer?>,
        _ count: Int
    ) {
        let l3End = headers.l3Offset + headers.l3Length
        let l4 = headers.outputL4Offset
        let fragmentID = nextFragmentID
        if !headers.l3IsIPv4 { nextFragmentID &+= 1 }
        var datagram = ChecksumAccumulator()
        var remaining = headers.payloadLength
        var firstPayloadSum: UInt16 = 0
        var firstData = 0
        for index in 0..<count {
            let segment = output[index]!
            let h = cdpdk_mbuf_mtod(segment)!
            copyHeaders(h, headers.template, l3End)
            let udpHeader = index == 0 ? 8 : 0
            if udpHeader != 0 { (h + l4).copyMemory(from: headers.template + headers.l4Offset, byteCount: 8) }
            let length = min(remaining, headers.segmentSize - udpHeader)
            remaining -= length
            let (views, sum) = slicer.take(length, after: segment, summing: true)
            datagram.add(sum: sum, length: length)
            setLengths(segment, header: l4 + udpHeader, payload: length, views: views, headers)
            let dataLength = udpHeader + length
            headers.patchFragment(
                h, index: index, count: count, fragmentOffset: index * headers.segmentSize, dataLength: dataLength,
                payloadSum: sum, fragmentID: fragmentID)
            if index == 0 {
                firstPayloadSum = sum
                firstData = dataLength
            }
        }
        headers.finishFirstFragment(
            cdpdk_mbuf_mtod(output[0]!)!, dataLength: firstData, datagramSum: datagram.sum, payloadSum: firstPayloadSum)
    }

    @inline(__always)
    func setLengths(_ segment: OpaquePointer, header: Int, payload: Int, views: Int, _ headers: SegmentHeaders) {
        cdpdk_mbuf_set_data_len(segment, UInt16(truncatingIfNeeded: header))
        cdpdk_mbuf_set_pkt_len(segment, UInt32(truncatingIfNeeded: header + payload))
        cdpdk_mbuf_set_nb_segs(segment, UInt16(truncatingIfNeeded: 1 + views))
        if !headers.offloadFlags.isEmpty {
            cdpdk_mbuf_set_ol_flags(segment, headers.offloadFlags.rawValue)
            cdpdk_mbuf_set_tx_offload(segment, headers.offloadLengths.rawValue)
        }
    }
}
