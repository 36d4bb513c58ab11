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
    /// The frame whose segments are only partly made, between rounds.
    var cut: SegmentationCut?

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
    ///
    /// When the frame needs more segments than `capacity`, the first `capacity` are made and
    /// the cut stays open (`isCutting`): hand those to the port, then call `resume` for the
    /// next round until it closes. A segment size the MTU allows never fails for lack of room.
    public mutating func segment(
        _ packet: Mbuf, layout: PacketLayout, options: SegmentationOptions,
        into output: UnsafeMutablePointer<OpaquePointer?>, capacity: Int
    ) -> SegmentationResult {
        if let open = cut { abandon(open) }  // a caller that did not finish the last one
        let headers: SegmentHeaders
        do {
            headers = try SegmentHeaders(packet: packet, layout: layout, options: options, headerRoom: headerRoom)
        } catch {
            packet.free()
            return .failed(error)
        }
        let fragments = headers.transport == .udpFragments
        let fragmentID = nextFragmentID
        if fragments && !headers.l3IsIPv4 { nextFragmentID &+= 1 }
        if layout.tunnel == .stt {
            // The carried frame's checksums are in the payload: fill them before it is summed.
            let sw = options.software
            PacketChecksums.fillCarriedFrame(packet, layout: layout, ipv4: sw.contains(.innerIPv4), l4: sw.contains(.innerL4))
        }
        // UFO whose fragments leave in several rounds: the first fragment's UDP checksum needs
        // the whole datagram before the rest is cut (one more pass over the payload).
        let datagramSum = fragments && headers.segmentCount > capacity
            ? PacketChecksums.chainSum(packet, from: headers.payloadOffset, count: headers.payloadLength) : nil
        cut = SegmentationCut(
            headers: headers, packet: packet, segment: packet.pointer, offset: headers.payloadOffset,
            position: headers.payloadOffset, remaining: headers.payloadLength, fragmentID: fragmentID,
            datagramSum: datagramSum)
        return resume(into: output, capacity: capacity)
    }

    /// True while a frame's segments are only partly made (see `segment`).
    public var isCutting: Bool { cut != nil }

    /// Segments of the open cut not made yet (0 when none is open).
    public var segmentsLeft: Int { cut?.segmentsLeft ?? 0 }

    /// Makes the next segments of the open cut, at most `capacity`, into `output`. The cut
    /// closes (and frees the input) with its last segment or on failure; segments made in
    /// earlier rounds are the caller's and stay valid either way.
    public mutating func resume(
        into output: UnsafeMutablePointer<OpaquePointer?>, capacity: Int
    ) -> SegmentationResult {
        guard var open = cut else { return .segmented(count: 0) }
        var count = min(capacity, open.segmentsLeft)
        guard count > 0 else { return .segmented(count: 0) }
        // Views for this round only: a slice spanning input segment boundaries takes several.
        var length = open.payloadLength(segments: count)
        var viewCount = roundViews(open, segments: count, length: length)
        while viewCount > maximumViews && count > 1 {
            count = max(1, count * maximumViews / viewCount)
            length = open.payloadLength(segments: count)
            viewCount = roundViews(open, segments: count, length: length)
        }
        guard viewCount <= maximumViews else { return fail(open, .tooManySegments) }
        guard headerPool.allocateBulk(output, count: count) else { return fail(open, .poolEmpty) }
        // Views come straight from the pool without rte_pktmbuf_reset, as rte_mbuf_raw_alloc
        // does: attach sets every field reset would, and a pooled mbuf is direct, refcnt 1.
        guard viewCount == 0 || rte_mempool_get_bulk(indirectPool.pointer, UnsafeMutableRawPointer(views)
            .assumingMemoryBound(to: UnsafeMutableRawPointer?.self), UInt32(viewCount)) == 0 else {
            Mbuf.freeBulk(output, count: count)
            return fail(open, .poolEmpty)
        }
        var slicer = PayloadSlicer(segment: open.segment, offset: open.offset, pieces: views)
        if open.headers.transport == .udpFragments {
            cutFragments(open, &slicer, output, count)
        } else {
            cutSegments(open, &slicer, output, count)
        }
        if slicer.used < viewCount {  // empty input segments made the estimate high
            Mbuf.freeBulk(views + slicer.used, count: viewCount - slicer.used)
        }
        open.next &+= count
        open.remaining &-= length
        open.position &+= length
        open.segment = slicer.segment
        open.offset = slicer.offset
        if open.segmentsLeft == 0 {
            open.packet.free()  // the views keep its buffers
            cut = nil
        } else {
            cut = open
        }
        return .segmented(count: count)
    }

    /// Closes an open cut without making its remaining segments (the input is freed; segments
    /// already made keep their views).
    public mutating func abandon() {
        if let open = cut { abandon(open) }
    }

    private mutating func abandon(_ open: SegmentationCut) {
        open.packet.free()
        cut = nil
    }

    private mutating func fail(_ open: SegmentationCut, _ reason: SegmentationFailure) -> SegmentationResult {
        abandon(open)
        return .failed(reason)
    }

    private func roundViews(_ open: SegmentationCut, segments: Int, length: Int) -> Int {
        PayloadSlicer.viewCount(
            open.packet, payloadOffset: open.position, length: length, slices: segments,
            firstSize: open.firstSliceSize, size: open.headers.segmentSize)
    }

    /// TCP and USO: every segment carries all the headers and `segmentSize` payload bytes
    /// (the last one the rest). Makes segments `open.next ..< open.next + count`.
    @inline(__always)
    func cutSegments(
        _ open: SegmentationCut, _ slicer: inout PayloadSlicer, _ output: UnsafeMutablePointer<OpaquePointer?>,
        _ count: Int
    ) {
        let headers = open.headers
        let headerLength = headers.payloadOffset
        var remaining = open.remaining
        for slot in 0..<count {
            let segment = output[slot]!
            if slot &+ 1 < count { rte_prefetch0(cdpdk_mbuf_mtod(output[slot &+ 1]!)) }  // its header, next
            let length = min(remaining, headers.segmentSize)
            remaining -= length
            let h = cdpdk_mbuf_mtod(segment)!
            copyHeaders(h, headers.template, headerLength)
            let (views, sum) = slicer.take(length, after: segment, summing: headers.innerL4Software)
            setLengths(segment, header: headerLength, payload: length, views: views, headers)
            headers.patchSegment(
                h, index: open.next &+ slot, count: headers.segmentCount, payloadLength: length, payloadSum: sum)
        }
    }

    /// UFO: IP fragments of one datagram. The first carries the UDP header, whose checksum
    /// covers every fragment's payload, so it is finished last (or from `datagramSum` when
    /// the later fragments are cut in later rounds). Makes fragments `open.next ..< + count`.
    @inline(__always)
    func cutFragments(
        _ open: SegmentationCut, _ slicer: inout PayloadSlicer, _ output: UnsafeMutablePointer<OpaquePointer?>,
        _ count: Int
    ) {
        let headers = open.headers
        let l3End = headers.l3Offset + headers.l3Length
        let l4 = headers.outputL4Offset
        var datagram = ChecksumAccumulator()
        var remaining = open.remaining
        var firstPayloadSum: UInt16 = 0
        var firstData = 0
        for slot in 0..<count {
            let index = open.next &+ slot
            let segment = output[slot]!
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
                h, index: index, count: headers.segmentCount, fragmentOffset: index * headers.segmentSize,
                dataLength: dataLength, payloadSum: sum, fragmentID: open.fragmentID)
            if index == 0 {
                firstPayloadSum = sum
                firstData = dataLength
            }
        }
        guard open.next == 0 else { return }
        headers.finishFirstFragment(
            cdpdk_mbuf_mtod(output[0]!)!, dataLength: firstData, datagramSum: open.datagramSum ?? datagram.sum,
            payloadSum: firstPayloadSum)
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
