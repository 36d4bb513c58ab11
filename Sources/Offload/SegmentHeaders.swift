import DPDK
import Wire

/// What the segmenter cuts: the innermost TCP or UDP, or (STT) the outer TCP-like header.
enum SegmentedTransport: UInt8 {
    case tcp
    case udpDatagrams
    case udpFragments
}

/// How the outer UDP checksum of each segment is written.
enum OuterUDPChecksum: UInt8 {
    case none, zero, software, hardware
}

/// Everything about one input packet's headers that every segment needs: where each field
/// to patch sits, the input's IDs and sequence number, the pseudo-header sums. Worked out
/// once per packet (and checked against the packet) so the per-segment work is stores and
/// small sums.
///
/// Offsets are from the frame start and hold in the input and in every output header, except
/// that an IPv6 fragment header (UFO over IPv6) shifts what follows the inner IPv6 header.
struct SegmentHeaders {
    let transport: SegmentedTransport
    /// The input's headers (its first segment's data): the template every segment copies.
    let template: UnsafeMutableRawPointer

    let outerL3Offset: Int  // -1: no tunnel
    let outerIsIPv4: Bool
    let outerUDPOffset: Int  // -1: none
    let greOffset: Int  // -1: no GRE header with the C bit (its checksum sits at +4)
    let l3Offset: Int
    let l3IsIPv4: Bool
    let l3Length: Int
    let outerL3Length: Int
    let l4Offset: Int
    let l4Length: Int
    let payloadOffset: Int
    let payloadLength: Int
    /// Payload bytes per segment (UFO: IP payload bytes per fragment, a multiple of 8).
    let segmentSize: Int
    let segmentCount: Int

    let outerID: UInt16
    let outerIDStep: UInt16
    let innerID: UInt16
    let innerIDStep: UInt16
    let sequence: UInt32
    let tcpFlags: UInt8
    let innerPseudoSum: UInt16  // without the length
    let outerPseudoSum: UInt16  // without the length

    let innerIPv4Software: Bool
    let innerL4Software: Bool
    let outerIPv4Software: Bool
    let outerUDP: OuterUDPChecksum

    /// ol_flags and tx_offload for each segment when the port does some checksums; zero when
    /// Swift does them all.
    let offloadFlags: MbufFlags
    let offloadLengths: TxOffloadLengths

    /// IPv6 fragment header inserted after the inner IPv6 header (UFO over IPv6).
    var fragmentHeaderLength: Int { transport == .udpFragments && !l3IsIPv4 ? 8 : 0 }
    /// Where the inner L4 header (or the fragment data) starts in an output header.
    var outputL4Offset: Int { l4Offset + fragmentHeaderLength }

    /// The IPv4 identification of segment `index`.
    @inline(__always) func id(_ base: UInt16, step: UInt16, index: Int) -> UInt16 {
        base &+ UInt16(truncatingIfNeeded: index) &* step
    }

    init(
        packet: Mbuf, layout: PacketLayout, options: SegmentationOptions, headerRoom: Int
    ) throws(SegmentationFailure) {
        let flags = layout.flags
        guard flags.isDisjoint(with: [.outerFragment, .innerFragment, .sttFragment, .tunnelControl]) else {
            throw .unsupported
        }
        let isSTT = layout.tunnel == .stt
        // STT is cut at its outer TCP header: the whole STT frame (STT header + inner frame)
        // is the payload, like plain TCP.
        let tunnelled = layout.isTunnel && !isSTT
        let l3Kind = tunnelled ? layout.innerL3 : layout.outerL3
        let l4Kind = tunnelled ? layout.innerL4 : layout.outerL4
        guard l3Kind != .none else { throw .unsupported }
        l3IsIPv4 = l3Kind == .ipv4
        switch l4Kind {
        case .tcp: transport = .tcp
        case .udp: transport = options.udp == .datagrams ? .udpDatagrams : .udpFragments
        default: throw .unsupported
        }
        if tunnelled {
            guard layout.outerL3 != .none else { throw .malformed }
            outerL3Offset = layout.outerL3Offset
            outerL3Length = Int(layout.outerL3Length)
            outerIsIPv4 = layout.outerL3 == .ipv4
            l3Offset = layout.innerL3Offset
            l3Length = Int(layout.innerL3Length)
            l4Offset = layout.innerL4Offset
            l4Length = Int(layout.innerL4Length)
            payloadOffset = layout.payloadOffset
        } else {
            outerL3Offset = -1
            outerL3Length = 0
            outerIsIPv4 = false
            l3Offset = layout.outerL3Offset
            l3Length = Int(layout.outerL3Length)
            l4Offset = layout.outerL4Offset
            l4Length = Int(layout.outerL4Length)
            payloadOffset = layout.tunnelOffset
        }
        let h = packet.data
        guard payloadOffset <= Int(packet.dataLength) else { throw .headersTooLong }
        template = h
        if transport == .udpFragments, !l3IsIPv4, l3Length != 40 { throw .unsupported }
        guard payloadOffset + (transport == .udpFragments && !l3IsIPv4 ? 8 : 0) <= headerRoom else {
            throw .headersTooLong
        }

        // The headers must be what the layout says, and every IP length must end where the
        // outermost one does (Ethernet padding after it is dropped).
        guard h.u8(l3Offset) >> 4 == (l3IsIPv4 ? 4 : 6) else { throw .malformed }
        let ipEnd = Self.ipEnd(h, at: l3Offset, isIPv4: l3IsIPv4)
        if tunnelled {
            guard h.u8(outerL3Offset) >> 4 == (outerIsIPv4 ? 4 : 6),
                Self.ipEnd(h, at: outerL3Offset, isIPv4: outerIsIPv4) == ipEnd
            else { throw .malformed }
        }
        if transport == .tcp {
            guard l4Length >= 20, Int(h.u8(l4Offset + 12) >> 4) * 4 == l4Length else { throw .malformed }
        } else {
            guard l4Length == 8 else { throw .malformed }
        }
        payloadLength = ipEnd - payloadOffset
        guard payloadLength >= 0, ipEnd <= Int(packet.packetLength) else { throw .malformed }
        guard !isSTT || payloadLength <= 0xFFFF else { throw .malformed }  // STT's seq holds 16 bits

        // Segment size: tso_segsz, clamped so a frame fits MTU + the outer L2 header.
        let l2 = Int(layout.outerL2Length)
        var size = options.segmentSize
        if transport == .udpFragments {
            let fragmentHeaders = l4Offset + (l3IsIPv4 ? 0 : 8)
            if let mtu = options.mtu { size = min(size, mtu + l2 - fragmentHeaders) }
            size &= ~7
            guard size >= 16 else { throw .segmentTooSmall }  // the first fragment holds the UDP header
            segmentSize = size
            segmentCount = max(1, (payloadLength + 8 + size - 1) / size)
        } else {
            if let mtu = options.mtu { size = min(size, mtu + l2 - payloadOffset) }
            guard size >= 1 else { throw .segmentTooSmall }
            segmentSize = size
            segmentCount = max(1, (payloadLength + size - 1) / size)
        }

        // IDs, sequence, flags, pseudo-headers.
        let knownFixedIDs = options.knownFixedIDs
        let policy = options.ipv4ID
        func idStep(_ at: Int, _ header: FixedIPv4IDs) -> UInt16 {
            if let known = knownFixedIDs { return known.contains(header) ? 0 : 1 }
            switch policy {
            case .increment: return 1
            case .fixed: return 0
            case .automatic: return h.u8(at + 6) & 0x40 != 0 && h.be16(at + 4) == 0 ? 0 : 1
            }
        }
        innerID = l3IsIPv4 ? h.be16(l3Offset + 4) : 0
        innerIDStep = l3IsIPv4 ? idStep(l3Offset, .inner) : 0
        outerID = tunnelled && outerIsIPv4 ? h.be16(outerL3Offset + 4) : 0
        outerIDStep = tunnelled && outerIsIPv4 ? idStep(outerL3Offset, .outer) : 0
        if transport == .tcp {
            // STT: seq = STT frame length << 16 | offset, i.e. plain TCP from this base.
            sequence = isSTT ? UInt32(payloadLength) << 16 : h.be32(l4Offset + 4)
            tcpFlags = h.u8(l4Offset + 13)
        } else {
            sequence = 0
            tcpFlags = 0
        }
        let proto = transport == .tcp ? IPProtocol.tcp : IPProtocol.udp
        innerPseudoSum = h.pseudoHeaderSum(ipAt: l3Offset, isIPv4: l3IsIPv4, protocol: proto)

        let sw = options.software
        innerIPv4Software = sw.contains(.innerIPv4)
        // A fragment cannot have its datagram's checksum done by a port: always Swift's.
        innerL4Software = sw.contains(.innerL4) || transport == .udpFragments
        outerIPv4Software = sw.contains(.outerIPv4)
        if tunnelled, layout.outerL4 == .udp {
            outerUDPOffset = layout.outerL4Offset
            outerPseudoSum = h.pseudoHeaderSum(ipAt: outerL3Offset, isIPv4: outerIsIPv4, protocol: IPProtocol.udp)
            if options.outerUDPChecksumZero && outerIsIPv4 {
                outerUDP = .zero
            } else {
                outerUDP = sw.contains(.outerUDP) ? .software : .hardware
            }
        } else {
            outerUDPOffset = -1
            outerPseudoSum = 0
            outerUDP = .none
        }
        greOffset = Self.greOffset(h, layout)

        // Offload requests for what Swift leaves to the port.
        var ol: MbufFlags = []
        if l3IsIPv4 && !innerIPv4Software { ol.insert(.txIPChecksum) }
        if !innerL4Software { ol.insert(transport == .tcp ? .txTCPChecksum : .txUDPChecksum) }
        if tunnelled {
            if outerIsIPv4 && !outerIPv4Software { ol.insert(.txOuterIPChecksum) }
            if outerUDP == .hardware { ol.insert(.txOuterUDPChecksum) }
        }
        if ol.isEmpty {
            offloadFlags = []
            offloadLengths = TxOffloadLengths(rawValue: 0)
        } else {
            ol.insert(l3IsIPv4 ? .txIPv4 : .txIPv6)
            let l4 = transport == .udpFragments ? 0 : l4Length
            let l3 = l3Length + (transport == .udpFragments && !l3IsIPv4 ? 8 : 0)
            if tunnelled {
                ol.insert(outerIsIPv4 ? .txOuterIPv4 : .txOuterIPv6)
                ol.insert(layout.tunnelOffloadFlag)
                let l2Length = layout.offloadLengths.l2Len
                guard TxOffloadLengths.fits(
                    l2: Int(l2Length), l3: l3, l4: l4, tsoSegmentSize: 0, outerL2: l2,
                    outerL3: Int(layout.outerL3Length))
                else { throw .unsupported }
                offloadLengths = TxOffloadLengths(
                    l2: Int(l2Length), l3: l3, l4: l4, outerL2: l2, outerL3: Int(layout.outerL3Length))
            } else {
                guard TxOffloadLengths.fits(l2: l2, l3: l3, l4: l4, tsoSegmentSize: 0, outerL2: 0, outerL3: 0)
                else { throw .unsupported }
                offloadLengths = TxOffloadLengths(l2: l2, l3: l3, l4: l4)
            }
            offloadFlags = ol
        }
    }

    /// The GRE header whose C bit is set (GRE over IP, or over FOU/GUE), or -1.
    static func greOffset(_ h: UnsafeMutableRawPointer, _ layout: PacketLayout) -> Int {
        var gre = -1
        switch layout.tunnel {
        case .gre, .nvgre: gre = layout.tunnelOffset
        case .fou where layout.flags.contains(.greOverUDP): gre = layout.tunnelOffset
        case .gue where layout.flags.contains(.greOverUDP):
            gre = layout.tunnelOffset + 4 + Int(h.u8(layout.tunnelOffset) & 0x1F) * 4
        default: return -1
        }
        return h.u8(gre) & 0x80 != 0 ? gre : -1
    }

    /// Where the IP packet at `offset` ends, by its own length field.
    static func ipEnd(_ h: UnsafeMutableRawPointer, at offset: Int, isIPv4: Bool) -> Int {
        isIPv4 ? offset + Int(h.be16(offset + 2)) : offset + 40 + Int(h.be16(offset + 4))
    }
}
