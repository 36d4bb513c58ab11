import CDPDK
import DPDK
import Wire

/// Receive-side STT reassembly for one stream (draft-davie-stt-08 §3.3-3.5): the TCP-like
/// segments of one STT frame (TCP seq = frame length << 16 | fragment offset, the ack the
/// frame's identifier) are chained, without copying, into the one frame the sender cut.
///
/// Frames are keyed by the outer Ethernet header (VLAN tags included, and a stripped tag's
/// TCI), the outer IP addresses, the TCP ports and the ack. A frame's segments must come in
/// order, each the size of the first but the last, every checksum right (a port's good
/// verdict counts unless `verifyAll`); anything else hands the partial frame back as the
/// segments it came in, then the segment, each counted by reason. Nothing is lost: every mbuf
/// offered comes back exactly once.
///
/// The table holds `CoalescingOptions.flows` partial frames (allocated up front; the oldest
/// leaves when it is full), a frame at most `maximumSegments` segments.
///
/// A reassembled frame is a whole STT frame as the sender's STT stack made it before its
/// TSO: outer IP length (and IPv4 header checksum) of the whole, TCP seq = length << 16 | 0,
/// PSH/FIN of the last segment, and an outer TCP checksum that is right over the whole frame
/// (summed from each segment's payload sum, no second pass over the data). Its metadata, for
/// an egress to cut it again exactly as it came:
/// - `RX_LRO`, `tso_segsz` = the first segment's TCP payload (every segment's but the last),
///   l2/l3/l4_len = the outer Ethernet, IP and TCP headers (a NIC sees STT as plain TCP:
///   draft §3.2), outer lengths 0.
/// - `RX_OUTER_L4_CKSUM_GOOD`: the outer TCP-like checksum (verified on every segment, right
///   over the whole). DPDK has no good verdict for an outer IPv4 header; ours is rewritten.
/// - The STT header's flags (draft §3.1) as the carried frame's L4 verdict: checksum verified
///   -> `RX_L4_CKSUM_GOOD`; checksum partial (the sender left the carried L4 checksum as its
///   pseudo-header sum) -> `RX_L4_CKSUM_NONE` (DPDK: the data is good, the checksum field is
///   not); neither -> unknown. The carried IP header checksum stays unknown (STT says nothing
///   of it).
/// - The STT header's MSS, PCP and VLAN ID have no mbuf field that means them (`vlan_tci` is
///   the outer frame's tag, kept as received): they stay in the STT header in the frame.
///
/// Who uses what today: the egress planner (`TxPlanner`) cuts with `tso_segsz` and the
/// lengths, and always refills the carried frame's checksums for STT (so a partial one
/// leaves complete); the verdicts are information for an engine that decapsulates (none
/// does yet), which would also read MSS/VLAN from the STT header to TSO the carried frame.
public struct STTReassembler {
    struct Frame {
        var head: Mbuf
        var tail: Mbuf
        var layout: PacketLayout
        var hash: UInt32
        /// Outer Ethernet + IP + TCP header: what each continuation's data skips once chained.
        var headersLength: Int
        var frameLength: Int
        var nextOffset: Int
        /// The first segment's payload: every segment's but the last.
        var segmentSize: Int
        var segments: Int
        /// The Internet sum of the STT frame's bytes held so far.
        var payloadSum: UInt16
        /// PSH and FIN of the latest segment (they belong to the whole frame's end).
        var endFlags: UInt8
        /// The second segment kept the first's outer IPv4 ID (cutting again must keep it).
        var fixedID: Bool
        var born: UInt64
        var touched: UInt64
    }

    /// Segments one frame may hold: a 64 KB STT frame cut at a 536-byte MSS needs 123.
    public static var maximumSegments: Int { 128 }
    /// Mbufs one `offer` may hand back: a partial frame's segments and the segment offered.
    public static var maximumRelease: Int { maximumSegments + 1 }

    public let options: CoalescingOptions
    /// Wire's flag constants are lazily initialised globals of another module: read once here.
    private let sttFragment: PacketLayout.Flags = .sttFragment
    private let pending: MbufFlags = CoalescingRules.pendingFlags
    private let frames: UnsafeMutablePointer<Frame>
    private let capacity: Int
    public private(set) var count = 0

    public init(options: CoalescingOptions) {
        self.options = options
        capacity = max(1, options.flows)
        frames = .allocate(capacity: capacity)
    }

    /// Frees the table; the caller flushed it first.
    public func deallocate() {
        precondition(count == 0, "an STT reassembly table is released with frames held")
        frames.deallocate()
    }

    /// What `offer` hands back, in order: `singles` mbufs it wrote (unchanged segments), then
    /// `frame`, a reassembled frame, if one completed.
    public struct Released {
        public var singles = 0
        public var frame: Mbuf?
        /// The outer IPv4 ID the frame's segments kept fixed, if they did.
        public var fixedIDs: FixedIPv4IDs = []
    }

    /// Takes an STT segment (`layout.tunnel == .stt`, whole or not): holds it, or hands it
    /// back unchanged into `singles` (room for `maximumRelease`) after any partial frame it
    /// ends; a frame it completes comes back as `frame`. `now` is the caller's clock (TSC).
    @inline(__always)
    public mutating func offer(
        _ packet: Mbuf, layout: PacketLayout, now: UInt64, slots: UnsafeMutablePointer<UInt64>,
        singles: UnsafeMutablePointer<OpaquePointer?>
    ) -> Released {
        var released = Released()
        let flags = packet.offloadFlags
        guard layout.flags.contains(sttFragment) else { return bypass(packet, .wholeFrame, slots, singles, &released) }
        guard packet.segmentCount == 1, flags.isDisjoint(with: [.rxLRO, .txTCPSegmentation, .txUDPSegmentation]) else {
            return bypass(packet, .multiSegment, slots, singles, &released)
        }
        let l3 = layout.outerL3Offset
        let l4 = layout.outerL4Offset
        let headers = layout.tunnelOffset
        guard layout.outerL3Length == (layout.outerL3 == .ipv4 ? 20 : 40) else {
            return bypass(packet, .ipOptions, slots, singles, &released)
        }
        guard flags.isDisjoint(with: pending),
            flags.intersection([.rxL4ChecksumBad, .rxL4ChecksumGood]) != [.rxL4ChecksumBad, .rxL4ChecksumGood]
        else { return bypass(packet, .checksumPending, slots, singles, &released) }
        let h = packet.data
        let frameEnd = h.ipEnd(ipAt: l3)
        guard frameEnd <= Int(packet.dataLength), frameEnd > headers else {
            return bypass(packet, .noPayload, slots, singles, &released)
        }
        let payload = frameEnd - headers
        let sequence = h.be32(l4 + 4)
        let offset = STTHeader.fragmentOffset(sequenceNumber: sequence)
        let frameLength = STTHeader.frameLength(sequenceNumber: sequence)
        let hash = Self.hash(h, layout)
        let index = find(hash, h, layout, packet)
        guard let sum = segmentSum(h, layout, flags, frameEnd: frameEnd, payload: payload) else {
            return refuse(packet, index, .checksumBad, slots, singles, &released)
        }
        if offset == 0 {
            if index >= 0 { return refuse(packet, index, .duplicate, slots, singles, &released) }
            // The whole outer IP packet must fit its length field and the size cap.
            guard headers - l3 + frameLength <= min(options.size, 65535) else {
                return bypass(packet, .tooLarge, slots, singles, &released)
            }
            guard (frameLength + payload - 1) / payload <= Self.maximumSegments else {
                return bypass(packet, .tooManySegments, slots, singles, &released)
            }
            if count == capacity {
                released.singles = release(oldest(), .tableFull, slots, into: singles)
            }
            CoalescingRules.trimPadding(packet, frameEnd: frameEnd)
            (frames + count).initialize(to: Frame(
                head: packet, tail: packet, layout: layout, hash: hash, headersLength: headers,
                frameLength: frameLength, nextOffset: payload, segmentSize: payload, segments: 1, payloadSum: sum,
                endFlags: h.u8(l4 + 13) & (TCPFlagBits.psh | TCPFlagBits.fin), fixedID: false, born: now, touched: now))
            count &+= 1
            slots[CoalescingCounter.sttSegmentsIn] &+= 1
            return released
        }
        guard index >= 0 else { return bypass(packet, .noFirstSegment, slots, singles, &released) }
        let frame = frames + index
        let end = offset &+ payload
        let refusal: STTFlushReason? =
            if frameLength != frame.pointee.frameLength || headers != frame.pointee.headersLength { .headersDiffer }
            else if offset < frame.pointee.nextOffset { .duplicate }
            else if offset > frame.pointee.nextOffset { .outOfOrder }
            else if end > frameLength || payload > frame.pointee.segmentSize
                || (end < frameLength && payload != frame.pointee.segmentSize) { .sizeDiffers }
            else { nil }
        if let refusal { return refuse(packet, index, refusal, slots, singles, &released) }
        // Chain the payload behind the frame's last segment: no copy.
        if frame.pointee.segments == 1, layout.outerL3 == .ipv4 {
            frame.pointee.fixedID = h.be16(l3 + 4) == frame.pointee.head.data.be16(l3 + 4)
        }
        frame.pointee.endFlags = h.u8(l4 + 13) & (TCPFlagBits.psh | TCPFlagBits.fin)
        CoalescingRules.trimPadding(packet, frameEnd: frameEnd)
        _ = packet.adjust(UInt16(truncatingIfNeeded: headers))
        frame.pointee.tail.next = packet
        frame.pointee.tail = packet
        let head = frame.pointee.head
        head.segmentCount &+= 1
        head.packetLength &+= UInt32(truncatingIfNeeded: payload)
        frame.pointee.payloadSum = onesAdd(frame.pointee.payloadSum, aligned(sum, atOffset: offset))
        frame.pointee.nextOffset = end
        frame.pointee.segments &+= 1
        frame.pointee.touched = now
        slots[CoalescingCounter.sttSegmentsIn] &+= 1
        guard end == frameLength else { return released }
        let done = frame.pointee
        remove(index)
        finish(done)
        slots[CoalescingCounter.sttFramesOut] &+= 1
        slots[CoalescingCounter.sttSegmentsMerged] &+= UInt64(done.segments)
        released.frame = done.head
        if done.fixedID { released.fixedIDs = .inner }  // the segmenter's "inner" IP: STT is cut as plain TCP
        return released
    }

    /// Hands back, as their original segments, partial frames whose last segment came at or
    /// before `idleSince` (all: `UInt64.max`), as many whole frames as fit `room` mbufs;
    /// returns how many mbufs it wrote to `singles`.
    public mutating func flush(
        idleSince: UInt64, reason: STTFlushReason, slots: UnsafeMutablePointer<UInt64>,
        singles: UnsafeMutablePointer<OpaquePointer?>, room: Int
    ) -> Int {
        var written = 0
        var index = 0
        while index < count {
            guard frames[index].touched <= idleSince else {
                index &+= 1
                continue
            }
            guard written &+ frames[index].segments <= room else { break }
            written &+= release(index, reason, slots, into: singles + written)
        }
        return written
    }

    /// When the frame idle longest got its last segment (`UInt64.max` when none is held).
    public var longestIdle: UInt64 {
        var oldest = UInt64.max
        for index in 0..<count where frames[index].touched < oldest { oldest = frames[index].touched }
        return oldest
    }

    // MARK: one segment

    @inline(__always)
    private func bypass(
        _ packet: Mbuf, _ reason: STTBypassReason, _ slots: UnsafeMutablePointer<UInt64>,
        _ singles: UnsafeMutablePointer<OpaquePointer?>, _ released: inout Released
    ) -> Released {
        slots[CoalescingCounter.sttBypass(reason)] &+= 1
        singles[released.singles] = packet.pointer
        released.singles &+= 1
        return released
    }

    /// The partial frame at `index` (if any) leaves unchanged, then the segment.
    @inline(__always)
    private mutating func refuse(
        _ packet: Mbuf, _ index: Int, _ reason: STTFlushReason, _ slots: UnsafeMutablePointer<UInt64>,
        _ singles: UnsafeMutablePointer<OpaquePointer?>, _ released: inout Released
    ) -> Released {
        if index >= 0 { released.singles &+= release(index, reason, slots, into: singles + released.singles) }
        return bypass(packet, reason.bypass, slots, singles, &released)
    }

    /// The Internet sum of the segment's TCP payload once its outer checksums are found right
    /// (nil: one is bad). A NIC sees STT as plain TCP, so its IP and L4 verdicts are the outer
    /// headers'. With a trusted good L4 verdict the payload's sum follows from the header's
    /// (the segment sums to all ones), so the data is not read.
    @inline(__always)
    private func segmentSum(
        _ h: UnsafeMutableRawPointer, _ layout: PacketLayout, _ flags: MbufFlags, frameEnd: Int, payload: Int
    ) -> UInt16? {
        let trust = options.verification == .trustVerdicts
        if flags.contains(.rxIPChecksumBad) && !flags.contains(.rxIPChecksumGood) { return nil }
        if flags.contains(.rxOuterIPChecksumBad) { return nil }
        let l3 = layout.outerL3Offset
        let l4 = layout.outerL4Offset
        if layout.outerL3 == .ipv4, !(trust && flags.contains(.rxIPChecksumGood)),
            !CoalescingRules.ipv4HeaderSumsToOnes(h + l3)
        {
            return nil
        }
        let verdict = flags.intersection([.rxL4ChecksumBad, .rxL4ChecksumGood])
        if verdict == .rxL4ChecksumBad { return nil }
        let headerLength = Int(layout.outerL4Length)
        let headers = onesAdd(
            h.pseudoHeaderSum(ipAt: l3, protocol: IPProtocol.tcp, length: frameEnd - l4), h.internetSum(l4, headerLength))
        if trust && verdict == .rxL4ChecksumGood { return ~headers }
        let sum = h.internetSum(l4 &+ headerLength, payload)
        return onesAdd(headers, sum) == 0xFFFF ? sum : nil
    }

    // MARK: frames

    /// What names a frame, folded (the comparison in `sameFrame` decides).
    @inline(__always)
    static func hash(_ h: UnsafeMutableRawPointer, _ layout: PacketLayout) -> UInt32 {
        let l3 = layout.outerL3Offset
        let l4 = layout.outerL4Offset
        var x = h.be32(l4) ^ h.be32(l4 + 8)  // ports, ack (the frame identifier)
        if layout.outerL3 == .ipv4 {
            x ^= h.be32(l3 + 12) ^ h.be32(l3 + 16)
        } else {
            var at = l3 + 8
            while at < l3 + 40 {
                x ^= h.be32(at)
                at &+= 4
            }
        }
        return x &* 0x9E37_79B1
    }

    /// The held frame `packet` belongs to (-1: none).
    @inline(__always)
    private func find(_ hash: UInt32, _ h: UnsafeMutableRawPointer, _ layout: PacketLayout, _ packet: Mbuf) -> Int {
        var index = 0
        while index < count {
            if frames[index].hash == hash, sameFrame(frames + index, h, layout, packet) { return index }
            index &+= 1
        }
        return -1
    }

    @inline(__always)
    private func sameFrame(
        _ frame: UnsafeMutablePointer<Frame>, _ h: UnsafeMutableRawPointer, _ layout: PacketLayout, _ packet: Mbuf
    ) -> Bool {
        let held = frame.pointee.layout
        guard held.outerL2Length == layout.outerL2Length, held.outerL3 == layout.outerL3,
            held.outerL3Length == layout.outerL3Length, held.outerL4Length == layout.outerL4Length
        else { return false }
        let head = frame.pointee.head
        let stripped: MbufFlags = [.rxVLANStripped, .rxQinQStripped]
        let tags = head.offloadFlags.intersection(stripped)
        guard packet.offloadFlags.intersection(stripped) == tags, tags.isEmpty || head.vlanTCI == packet.vlanTCI else {
            return false
        }
        let a = head.data
        let l3 = layout.outerL3Offset
        let l4 = layout.outerL4Offset
        let addresses = layout.outerL3 == .ipv4 ? 12 : 8
        return CoalescingRules.sameBytes(a, h, Int(layout.outerL2Length))
            && CoalescingRules.sameBytes(a + l3 + addresses, h + l3 + addresses, layout.outerL3 == .ipv4 ? 8 : 32)
            && a.be32(l4) == h.be32(l4) && a.be32(l4 + 8) == h.be32(l4 + 8)
    }

    private func oldest() -> Int {
        var found = 0
        for index in 1..<max(count, 1) where frames[index].born < frames[found].born { found = index }
        return found
    }

    /// Frees slot `index`: the last slot moves into it.
    @inline(__always)
    private mutating func remove(_ index: Int) {
        count &-= 1
        if index != count { frames[index] = frames[count] }
    }

    /// The partial frame at `index` leaves as the segments it came in (each with its headers
    /// back in front, one mbuf each), written to `singles`; returns how many.
    @inline(__always)
    private mutating func release(
        _ index: Int, _ reason: STTFlushReason, _ slots: UnsafeMutablePointer<UInt64>,
        into singles: UnsafeMutablePointer<OpaquePointer?>
    ) -> Int {
        let frame = frames[index]
        remove(index)
        slots[CoalescingCounter.sttFlush(reason)] &+= 1
        var next: Mbuf? = frame.head
        var written = 0
        while let segment = next {
            next = segment.next
            segment.next = nil
            // The headers a continuation's data start skipped are still in front of it.
            if written > 0 { _ = segment.prepend(UInt16(truncatingIfNeeded: frame.headersLength)) }
            segment.segmentCount = 1
            segment.packetLength = UInt32(segment.dataLength)
            singles[written] = segment.pointer
            written &+= 1
        }
        slots[CoalescingCounter.sttSegmentsReleased] &+= UInt64(written)
        return written
    }

    /// Makes the head's headers describe the whole frame, and writes the metadata (see the
    /// type's comment).
    @inline(__always)
    private func finish(_ frame: Frame) {
        let head = frame.head
        let h = head.data
        let layout = frame.layout
        let l3 = layout.outerL3Offset
        let l4 = layout.outerL4Offset
        let end = frame.headersLength + frame.frameLength
        h.setIPEnd(ipAt: l3, end: end)
        h.setU8(l4 + 13, h.u8(l4 + 13) & ~(TCPFlagBits.psh | TCPFlagBits.fin) | frame.endFlags)
        // The TCP checksum over the whole: pseudo-header, header, and the payload sums held.
        let headerLength = Int(layout.outerL4Length)
        h.setBE16(l4 + 16, 0)
        let sum = onesAdd(
            onesAdd(h.pseudoHeaderSum(ipAt: l3, protocol: IPProtocol.tcp, length: end - l4), h.internetSum(l4, headerLength)),
            aligned(frame.payloadSum, atOffset: headerLength))
        h.setBE16(l4 + 16, ~sum)
        // STT header flags (draft §3.1): bit 0 checksum verified, bit 1 checksum partial.
        let sttFlags = h.u8(frame.headersLength + 1)
        var flags = head.offloadFlags.intersection([.rxVLAN, .rxVLANStripped, .rxRSSHash, .rxQinQ, .rxQinQStripped, .rxFDIR])
        flags.formUnion([.rxLRO, .rxOuterL4ChecksumGood])
        if sttFlags & 0x02 != 0 {
            flags.formUnion([.rxL4ChecksumBad, .rxL4ChecksumGood])
        } else if sttFlags & 0x01 != 0 {
            flags.insert(.rxL4ChecksumGood)
        }
        head.offloadFlags = flags
        head.txOffload = TxOffloadLengths(
            l2: Int(layout.outerL2Length), l3: Int(layout.outerL3Length), l4: headerLength, tsoSegmentSize: frame.segmentSize)
    }
}
