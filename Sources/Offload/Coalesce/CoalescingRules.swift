import CDPDK
import DPDK
import Glibc
import Wire

/// What may be merged, and how a super-frame is finished. The rules follow Linux's
/// (net/ipv4/tcp_offload.c tcp_gro_receive, net/ipv4/af_inet.c inet_gro_receive,
/// net/ipv6/ip6_offload.c ipv6_gro_receive, the tunnels' gro_receive) and are stricter where
/// Linux trusts more: every checksum is verified before a segment joins a flow (a port's good
/// verdict or Swift's own sum), the window must not change, and a segment without payload or
/// with an unusual flag never joins.
enum CoalescingRules {
    /// One TCP segment, looked at once: what its fields say. Where they are (its layout) is
    /// passed beside it, not copied in: the copy's wide loads, right after the parser's narrow
    /// stores, waited for them (no store-to-load forwarding).
    struct Segment {
        var hash: UInt32 = 0
        var sequence: UInt32 = 0
        var payload = 0
        var payloadOffset = 0
        /// The outermost IP packet's length; the frame ends at `frameEnd`.
        var ipLength = 0
        var frameEnd = 0
        var innerID: UInt16 = 0
        var outerID: UInt16 = 0
        var tcpFlags: UInt8 = 0
        /// Set when the segment must leave unchanged (after its flow, if one is held).
        var refusal: Refusal?

        /// Ethernet padding after the IP packet is not payload.
        @inline(__always) func trimPadding(_ packet: Mbuf) { CoalescingRules.trimPadding(packet, frameEnd: frameEnd) }
    }

    /// Cuts Ethernet padding after the IP packet that ends at `frameEnd` (one-segment packets).
    @inline(__always)
    static func trimPadding(_ packet: Mbuf, frameEnd: Int) {
        guard Int(packet.dataLength) > frameEnd else { return }
        packet.dataLength = UInt16(truncatingIfNeeded: frameEnd)
        packet.packetLength = UInt32(truncatingIfNeeded: frameEnd)
    }

    struct Refusal {
        var bypass: CoalescingBypassReason
        var flush: CoalescingFlushReason
    }

    /// Checksum fields of the packet that carry a request rather than a value.
    static let pendingFlags = MbufFlags.txL4Mask.union([.txIPChecksum, .txOuterIPChecksum, .txOuterUDPChecksum])

    /// The flag sets the rules test, read once per table: Wire's flag constants are lazily
    /// initialised globals of another module, so each use in the hot path was an addressor call.
    struct Masks {
        let fragment: PacketLayout.Flags = [.outerFragment, .innerFragment]
        let tunnelBypass: PacketLayout.Flags = [.tunnelControl, .greOverUDP, .sttFragment, .nestedTunnel]
        let outerUDPChecksumZero: PacketLayout.Flags = .outerUDPChecksumZero
        let pending: MbufFlags = CoalescingRules.pendingFlags
        /// What keeps a packet off the fast path: a super-frame, or a checksum request.
        let notAlone: MbufFlags = CoalescingRules.pendingFlags.union([.rxLRO, .txTCPSegmentation, .txUDPSegmentation])
        let l4Verdicts: MbufFlags = [.rxL4ChecksumBad, .rxL4ChecksumGood]
    }

    /// Why `packet` (parsed as `layout`) can join no flow, or nil when it can: then its fields
    /// are in `segment`, written in place. Returned whole, the value's first loads in the
    /// caller waited for the narrower stores they spanned (no store-to-load forwarding).
    @inline(never)
    static func segment(
        _ packet: Mbuf, layout: PacketLayout, verification: CoalescingOptions.Verification, masks: Masks,
        into segment: inout Segment
    ) -> CoalescingBypassReason? {
        let flags = packet.offloadFlags
        guard packet.segmentCount == 1,
            flags.isDisjoint(with: [.rxLRO, .txTCPSegmentation, .txUDPSegmentation])
        else { return .multiSegment }
        let isUDP = layout.l4 == .udp
        guard layout.l4 == .tcp || isUDP else { return .notTCP }
        guard layout.flags.isDisjoint(with: masks.fragment) else { return .fragment }
        let h = packet.data
        let isTunnel = layout.isTunnel
        if isTunnel {
            switch layout.tunnel {
            case .vxlan, .vxlanGPE, .geneve, .ipInIP, .fou, .gue: break
            case .gre, .nvgre:
                guard h.be16(layout.tunnelOffset) & 0x1000 == 0 else { return .unsupportedTunnel }
            case .stt, .none: return .unsupportedTunnel
            }
            guard layout.flags.isDisjoint(with: masks.tunnelBypass) else { return .unsupportedTunnel }
            guard hasPlainHeader(layout.outerL3, layout.outerL3Length) else { return .ipOptions }
        }
        let l3 = layout.l3Offset
        guard hasPlainHeader(layout.l3, isTunnel ? layout.innerL3Length : layout.outerL3Length) else { return .ipOptions }
        guard flags.intersection(masks.pending).isEmpty,
            flags.intersection([.rxL4ChecksumBad, .rxL4ChecksumGood]) != [.rxL4ChecksumBad, .rxL4ChecksumGood]
        else { return .checksumPending }
        // The inner packet must end where the outer one does: nothing hides between them.
        let frameEnd = h.ipEnd(ipAt: layout.outerL3Offset)
        guard frameEnd <= Int(packet.dataLength), !isTunnel || h.ipEnd(ipAt: l3) == frameEnd else { return .notParsed }
        let l4 = layout.l4Offset
        let payloadOffset = layout.payloadOffset
        let payload = frameEnd - payloadOffset
        guard payload >= 0 else { return .notParsed }
        let tcpFlags = isUDP ? 0 : h.u8(l4 + 13)
        segment.hash = hash(h, layout)
        segment.sequence = isUDP ? 0 : h.be32(l4 + 4)
        segment.payload = payload
        segment.payloadOffset = payloadOffset
        segment.ipLength = frameEnd - layout.outerL3Offset
        segment.frameEnd = frameEnd
        segment.innerID = layout.l3 == .ipv4 ? h.be16(l3 + 4) : 0
        segment.outerID = isTunnel && layout.outerL3 == .ipv4 ? h.be16(layout.outerL3Offset + 4) : 0
        segment.tcpFlags = tcpFlags
        if isUDP {
            if payload == 0 {
                segment.refusal = Refusal(bypass: .noPayload, flush: .noPayload)
            } else if !checksumsAreGood(h, layout, flags, frameEnd: frameEnd, verification: verification, masks: masks) {
                segment.refusal = Refusal(bypass: .checksumBad, flush: .checksumBad)
            }
            return nil
        }
        if tcpFlags & (TCPFlagBits.urg | TCPFlagBits.rst | TCPFlagBits.syn | TCPFlagBits.cwr | TCPFlagBits.ece) != 0
            || tcpFlags & TCPFlagBits.ack == 0
        {
            segment.refusal = Refusal(bypass: .flags, flush: .flags)
        } else if payload == 0 {
            segment.refusal = Refusal(bypass: .noPayload, flush: .noPayload)
        } else if !checksumsAreGood(h, layout, flags, frameEnd: frameEnd, verification: verification, masks: masks) {
            segment.refusal = Refusal(bypass: .checksumBad, flush: .checksumBad)
        }
        return nil
    }

    /// IPv4 without options, IPv6 without extension headers.
    @inline(__always)
    static func hasPlainHeader(_ kind: L3Kind, _ length: UInt16) -> Bool {
        kind == .ipv4 ? length == 20 : kind == .ipv6 ? length == 40 : false
    }

    /// Mixes the fields that tell flows apart most often; `sameFlow` decides.
    @inline(__always)
    static func hash(_ h: UnsafeMutableRawPointer, _ layout: PacketLayout) -> UInt32 {
        let l3 = layout.l3Offset
        var mix = UInt64(h.be32(layout.l4Offset))
        if layout.l3 == .ipv4 {
            mix = mix &* 0x9E37_79B9_7F4A_7C15 ^ h.be64(l3 + 12)
        } else {
            mix = mix &* 0x9E37_79B9_7F4A_7C15 ^ h.be64(l3 + 8) ^ h.be64(l3 + 16)
            mix = mix &* 0x9E37_79B9_7F4A_7C15 ^ h.be64(l3 + 24) ^ h.be64(l3 + 32)
        }
        if layout.isTunnel, layout.outerL4 == .udp {
            mix = mix &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(h.be16(layout.outerL4Offset))
        }
        mix = (mix ^ mix >> 31) &* 0xBF58_476D_1CE4_E5B9
        return UInt32(truncatingIfNeeded: mix ^ mix >> 32)
    }

    // MARK: checksums

    /// Every checksum the segment carries is right: vouched for by the rx port's verdict
    /// (unless `verifyAll`), or summed here. One pass over the TCP segment serves the inner
    /// checksum and the outer UDP or GRE checksum (the payload's sum is reused, RFC 1071 §2).
    @inline(__always)
    static func checksumsAreGood(
        _ h: UnsafeMutableRawPointer, _ layout: PacketLayout, _ flags: MbufFlags, frameEnd: Int,
        verification: CoalescingOptions.Verification, masks: Masks
    ) -> Bool {
        let trust = verification == .trustVerdicts
        if flags.contains(.rxIPChecksumBad) && !flags.contains(.rxIPChecksumGood) { return false }
        if flags.contains(.rxOuterIPChecksumBad) { return false }
        let l3 = layout.l3Offset
        let l4 = layout.l4Offset
        // No port reports a good outer IPv4 header checksum: 20 bytes are summed here.
        if layout.isTunnel, layout.outerL3 == .ipv4, !ipv4HeaderSumsToOnes(h + layout.outerL3Offset) { return false }
        if layout.l3 == .ipv4, !(trust && flags.contains(.rxIPChecksumGood)), !ipv4HeaderSumsToOnes(h + l3) {
            return false
        }
        let l4Verdict = flags.intersection([.rxL4ChecksumBad, .rxL4ChecksumGood])
        if l4Verdict == .rxL4ChecksumBad { return false }
        let segmentLength = frameEnd - l4
        var segmentSum: UInt16? = nil
        let isUDP = layout.l4 == .udp
        // RFC 768: an IPv4 UDP checksum of 0 means none was sent (IPv6 forbids it: RFC 8200 §8.1).
        let innerAbsent = isUDP && h.be16(l4 + 6) == 0
        if innerAbsent && layout.l3 == .ipv6 { return false }
        if !innerAbsent, !(trust && l4Verdict == .rxL4ChecksumGood) {
            let sum = h.internetSum(l4, segmentLength)
            segmentSum = sum
            let pseudo = h.pseudoHeaderSum(ipAt: l3, protocol: isUDP ? IPProtocol.udp : IPProtocol.tcp, length: segmentLength)
            guard onesAdd(pseudo, sum) == 0xFFFF else { return false }
        }
        guard layout.isTunnel else { return true }
        if layout.outerL4 == .udp, layout.flags.isDisjoint(with: masks.outerUDPChecksumZero) {
            let verdict = flags.intersection([.rxOuterL4ChecksumBad, .rxOuterL4ChecksumGood])
            if verdict == .rxOuterL4ChecksumBad { return false }
            if !(trust && verdict == .rxOuterL4ChecksumGood) {
                let udp = layout.outerL4Offset
                let sum = segmentSum ?? h.internetSum(l4, segmentLength)
                segmentSum = sum
                let pseudo = h.pseudoHeaderSum(ipAt: layout.outerL3Offset, protocol: IPProtocol.udp, length: frameEnd - udp)
                let headers = h.internetSum(udp, l4 - udp)
                guard onesAdd(onesAdd(pseudo, headers), aligned(sum, atOffset: l4 - udp)) == 0xFFFF else { return false }
            }
        }
        if layout.tunnel == .gre || layout.tunnel == .nvgre, h.be16(layout.tunnelOffset) & 0x8000 != 0 {
            // RFC 2784 §2.5: over the GRE header and its payload; no port verifies it.
            let gre = layout.tunnelOffset
            let sum = segmentSum ?? h.internetSum(l4, segmentLength)
            guard onesAdd(h.internetSum(gre, l4 - gre), aligned(sum, atOffset: l4 - gre)) == 0xFFFF else { return false }
        }
        return true
    }

    /// An IPv4 header with a right checksum sums to all ones (RFC 791, RFC 1071).
    @inline(__always)
    static func ipv4HeaderSumsToOnes(_ header: UnsafeRawPointer) -> Bool {
        UnsafeMutableRawPointer(mutating: header).ipv4HeaderSum(at: 0) == 0xFFFF
    }

    // MARK: one flow

    /// The same flow: every header field that names it is equal (addresses, ports, protocol,
    /// VLANs, the tunnel header byte for byte but for a GRE checksum, the outer UDP checksum's
    /// presence, IPv6 flow labels), and the headers have the same shape.
    @inline(__always)
    static func sameFlow(_ flow: Coalescer.Flow, _ segmentLayout: PacketLayout, _ packet: Mbuf) -> Bool {
        guard sameShape(flow.layout, segmentLayout) else { return false }
        let a = flow.head.data
        let b = packet.data
        let layout = flow.layout
        guard sameBytes(a, b, Int(layout.outerL2Length)) else { return false }
        let packetFlags = packet.offloadFlags
        if packetFlags.contains(.rxVLANStripped) != flow.head.offloadFlags.contains(.rxVLANStripped)
            || (packetFlags.contains(.rxVLANStripped) && packet.vlanTCI != flow.head.vlanTCI)
        {
            return false
        }
        if layout.isTunnel {
            guard sameIPEndpoints(a, b, at: layout.outerL3Offset, layout.outerL3) else { return false }
            if layout.outerL4 == .udp {
                let udp = layout.outerL4Offset
                guard a.be32(udp) == b.be32(udp), (a.be16(udp + 6) == 0) == (b.be16(udp + 6) == 0) else { return false }
            }
            let tunnel = layout.tunnelOffset
            var tunnelLength = Int(layout.tunnelLength)
            if layout.tunnel == .gre || layout.tunnel == .nvgre, a.be16(tunnel) & 0x8000 != 0 {
                // Flags and protocol, then past the checksum field.
                guard a.be32(tunnel) == b.be32(tunnel),
                    sameBytes(a + tunnel + 8, b + tunnel + 8, tunnelLength - 8)
                else { return false }
                tunnelLength = 0
            }
            guard sameBytes(a + tunnel, b + tunnel, tunnelLength),
                sameBytes(a + layout.innerL2Offset, b + layout.innerL2Offset, Int(layout.innerL2Length))
            else { return false }
        }
        guard sameIPEndpoints(a, b, at: layout.l3Offset, layout.l3) else { return false }
        let l4 = layout.l4Offset
        if layout.l4 == .udp, (a.be16(l4 + 6) == 0) != (b.be16(l4 + 6) == 0) { return false }
        return a.be32(l4) == b.be32(l4)
    }

    /// Addresses and protocol (IPv4), or version, flow label, next header and addresses (IPv6).
    @inline(__always)
    static func sameIPEndpoints(_ a: UnsafeMutableRawPointer, _ b: UnsafeMutableRawPointer, at offset: Int, _ kind: L3Kind) -> Bool {
        if kind == .ipv4 {
            return a.u8(offset + 9) == b.u8(offset + 9) && a.be64(offset + 12) == b.be64(offset + 12)
        }
        return a.be32(offset) & 0xF00F_FFFF == b.be32(offset) & 0xF00F_FFFF && a.u8(offset + 6) == b.u8(offset + 6)
            && sameBytes(a + offset + 8, b + offset + 8, 32)
    }

    /// The headers have the same shape: every kind and length except the TCP header's (options
    /// are compared as bytes by `mergeRefusal`), the outer L4 length without a tunnel (the TCP
    /// header's again) and the payload's. Field by field: the derived `==` was an outlined call.
    @inline(__always)
    static func sameShape(_ a: PacketLayout, _ b: PacketLayout) -> Bool {
        a.outerL2Length == b.outerL2Length && a.outerVLANCount == b.outerVLANCount && a.outerL3 == b.outerL3
            && a.outerL3Length == b.outerL3Length && a.outerIPProtocol == b.outerIPProtocol && a.outerL4 == b.outerL4
            && a.tunnel == b.tunnel && (a.tunnel == .none || a.outerL4Length == b.outerL4Length)
            && a.tunnelLength == b.tunnelLength && a.innerL2Length == b.innerL2Length
            && a.innerVLANCount == b.innerVLANCount && a.innerL3 == b.innerL3 && a.innerL3Length == b.innerL3Length
            && a.innerIPProtocol == b.innerIPProtocol && a.innerL4 == b.innerL4
            && a.flags == b.flags
    }

    /// `count` bytes equal (headers: tens of bytes), compared in words inline rather than by a
    /// call to memcmp.
    @inline(__always)
    static func sameBytes(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ count: Int) -> Bool {
        if count >= 8 {
            var difference: UInt64 = 0
            var offset = 0
            while offset &+ 8 <= count {
                difference |= a.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                    ^ b.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                offset &+= 8
            }
            // The last word again, overlapping: equality needs no exact split.
            difference |= a.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self)
                ^ b.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self)
            return difference == 0
        }
        var difference: UInt8 = 0
        var offset = 0
        while offset < count {
            difference |= a.load(fromByteOffset: offset, as: UInt8.self) ^ b.load(fromByteOffset: offset, as: UInt8.self)
            offset &+= 1
        }
        return difference == 0
    }

    /// What `HeaderMask` cannot see: a stripped VLAN tag, and whether the UDP checksums
    /// (outer, and inner for UDP coalescing) are present.
    @inline(__always)
    static func sameUnmaskedState(_ flow: Coalescer.Flow, _ packet: Mbuf) -> Bool {
        let stripped = packet.offloadFlags.contains(.rxVLANStripped)
        if stripped != flow.head.offloadFlags.contains(.rxVLANStripped) || (stripped && packet.vlanTCI != flow.head.vlanTCI) {
            return false
        }
        let layout = flow.layout
        let a = flow.head.data
        let b = packet.data
        if layout.isTunnel, layout.outerL4 == .udp {
            let at = layout.outerL4Offset + 6
            if (a.be16(at) == 0) != (b.be16(at) == 0) { return false }
        }
        if layout.l4 == .udp {
            let at = layout.l4Offset + 6
            if (a.be16(at) == 0) != (b.be16(at) == 0) { return false }
        }
        return true
    }

    /// `mergeRefusal`'s rules past the equality ones (which `HeaderMask` found met), in its order.
    @inline(__always)
    static func sequenceRefusal(_ flow: Coalescer.Flow, _ segment: Segment, _ options: CoalescingOptions) -> CoalescingFlushReason? {
        if flow.layout.l4 == .tcp, segment.sequence != flow.nextSequence { return .sequenceGap }
        if segment.payload > flow.segmentSize { return .longerSegment }
        if !idFollows(flow, segment) { return .ipID }
        if flow.segments >= options.segments { return .segmentCap }
        if flow.ipLength + segment.payload > options.size { return .sizeCap }
        return nil
    }

    /// Why `segment` of the held flow may not join it, or nil when it may.
    @inline(__always)
    static func mergeRefusal(
        _ flow: Coalescer.Flow, _ segment: Segment, _ segmentLayout: PacketLayout, _ packet: Mbuf,
        _ options: CoalescingOptions
    ) -> CoalescingFlushReason? {
        let a = flow.head.data
        let b = packet.data
        let layout = flow.layout
        let l4 = layout.l4Offset
        let isTCP = layout.l4 == .tcp
        if isTCP {
            let tcpLength = Int(layout.isTunnel ? layout.innerL4Length : layout.outerL4Length)
            let segmentTCPLength = Int(segmentLayout.isTunnel ? segmentLayout.innerL4Length : segmentLayout.outerL4Length)
            if tcpLength != segmentTCPLength || !sameBytes(a + l4 + 20, b + l4 + 20, tcpLength - 20) { return .optionsDiffer }
            if a.be32(l4 + 8) != b.be32(l4 + 8) { return .ackDiffers }
            if a.u8(l4 + 13) & ~(TCPFlagBits.psh | TCPFlagBits.fin) != segment.tcpFlags & ~(TCPFlagBits.psh | TCPFlagBits.fin) {
                return .flags
            }
            if a.be16(l4 + 14) != b.be16(l4 + 14) { return .windowDiffers }
        }
        if !sameHopAndClass(a, b, at: layout.l3Offset, layout.l3) { return .ttlOrTOS }
        if layout.isTunnel, !sameHopAndClass(a, b, at: layout.outerL3Offset, layout.outerL3) { return .ttlOrTOS }
        if isTCP, segment.sequence != flow.nextSequence { return .sequenceGap }
        if segment.payload > flow.segmentSize { return .longerSegment }
        if !idFollows(flow, segment) { return .ipID }
        if flow.segments >= options.segments { return .segmentCap }
        if flow.ipLength + segment.payload > options.size { return .sizeCap }
        return nil
    }

    /// TTL, TOS and DF (IPv4); hop limit and traffic class (IPv6).
    @inline(__always)
    static func sameHopAndClass(_ a: UnsafeMutableRawPointer, _ b: UnsafeMutableRawPointer, at offset: Int, _ kind: L3Kind) -> Bool {
        if kind == .ipv4 {
            return a.u8(offset + 1) == b.u8(offset + 1) && a.u8(offset + 8) == b.u8(offset + 8)
                && a.u8(offset + 6) & 0x40 == b.u8(offset + 6) & 0x40
        }
        return a.be32(offset) & 0x0FF0_0000 == b.be32(offset) & 0x0FF0_0000 && a.u8(offset + 7) == b.u8(offset + 7)
    }

    /// The IDs of the flow's first two segments say how IDs move: by one per segment, or not
    /// at all (only with DF, RFC 6864 §4.1); anything else ends the flow.
    @inline(__always)
    static func idModes(_ flow: Coalescer.Flow, _ segment: Segment) -> Coalescer.IDModes {
        var modes: Coalescer.IDModes = []
        if flow.layout.l3 == .ipv4 {
            modes.insert(segment.innerID == flow.innerID &+ 1 ? .innerIncrementing : .innerFixed)
        }
        if flow.layout.isTunnel, flow.layout.outerL3 == .ipv4 {
            modes.insert(segment.outerID == flow.outerID &+ 1 ? .outerIncrementing : .outerFixed)
        }
        return modes
    }

    /// Fixed IDs are merged only when they are 0 (with DF): that is the one fixed ID the
    /// super-frame can say it has (`IPv4IDPolicy.automatic`, as Linux's GSO without
    /// SKB_GSO_TCP_FIXEDID); any other fixed ID would come back incrementing once the egress
    /// (Swift GSO or a NIC's TSO) cuts the super-frame again.
    @inline(__always)
    static func idFollows(_ flow: Coalescer.Flow, _ segment: Segment) -> Bool {
        let layout = flow.layout
        let h = flow.head.data
        if layout.l3 == .ipv4 {
            let fixedAllowed = h.u8(layout.l3Offset + 6) & 0x40 != 0
            let next = flow.innerID &+ 1
            switch flow.segments {
            case 1: if segment.innerID != next && !(segment.innerID == 0 && flow.innerID == 0 && fixedAllowed) { return false }
            default:
                if flow.idModes.contains(.innerIncrementing) ? segment.innerID != next : segment.innerID != flow.innerID {
                    return false
                }
            }
        }
        if layout.isTunnel, layout.outerL3 == .ipv4 {
            let fixedAllowed = h.u8(layout.outerL3Offset + 6) & 0x40 != 0
            let next = flow.outerID &+ 1
            switch flow.segments {
            case 1: if segment.outerID != next && !(segment.outerID == 0 && flow.outerID == 0 && fixedAllowed) { return false }
            default:
                if flow.idModes.contains(.outerIncrementing) ? segment.outerID != next : segment.outerID != flow.outerID {
                    return false
                }
            }
        }
        return true
    }

    // MARK: the super-frame

    /// Makes the head's headers describe the whole chain and writes the metadata any egress
    /// needs to cut it again. The head's IPv4 checksums were verified (or vouched for) before
    /// it was held, so they are updated for the new lengths, not summed again.
    @inline(__always)
    static func finish(_ flow: Coalescer.Flow) {
        let head = flow.head
        let h = head.data
        let layout = flow.layout
        let end = layout.outerL3Offset + flow.ipLength
        if layout.isTunnel {
            h.updateIPEnd(ipAt: layout.outerL3Offset, end: end)
            if layout.outerL4 == .udp { h.setBE16(layout.outerL4Offset + 4, UInt16(truncatingIfNeeded: end - layout.outerL4Offset)) }
        }
        h.updateIPEnd(ipAt: layout.l3Offset, end: end)
        if layout.l4 == .udp { h.setBE16(layout.l4Offset + 4, UInt16(truncatingIfNeeded: end - layout.l4Offset)) }
        var flags = head.offloadFlags.intersection([.rxVLAN, .rxVLANStripped, .rxRSSHash, .rxQinQ, .rxQinQStripped, .rxFDIR])
        flags.formUnion([.rxLRO, .rxIPChecksumGood, .rxL4ChecksumGood])
        if layout.isTunnel, layout.outerL4 == .udp { flags.insert(.rxOuterL4ChecksumGood) }
        head.offloadFlags = flags
        let lengths = layout.offloadLengths
        head.txOffload = TxOffloadLengths.fits(
            l2: Int(lengths.l2Len), l3: Int(lengths.l3Len), l4: Int(lengths.l4Len), tsoSegmentSize: flow.segmentSize,
            outerL2: Int(lengths.outerL2Len), outerL3: Int(lengths.outerL3Len))
            ? TxOffloadLengths(
                l2: Int(lengths.l2Len), l3: Int(lengths.l3Len), l4: Int(lengths.l4Len), tsoSegmentSize: flow.segmentSize,
                outerL2: Int(lengths.outerL2Len), outerL3: Int(lengths.outerL3Len))
            : TxOffloadLengths(tsoSegmentSize: flow.segmentSize)
    }
}
