import CDPDK
import DPDK
import Wire

/// Checksums of one packet that is not segmented, in place, over its mbuf chain: the ones
/// Swift computes (`fill`) and the starting values a port's checksum offload wants
/// (`preparePseudoHeaders`). Both need the headers in the first segment; they return false
/// (and change nothing) when they are not, or when the layout does not match the packet.
public enum PacketChecksums {
    /// Computes the checksums in `software`. The inner L4 checksum is computed over the whole
    /// chain (pieces of odd length handled); the outer UDP and GRE checksums reuse it: the
    /// inner L4 segment sums to the complement of its pseudo-header once its checksum is right,
    /// so they read only the headers. That holds when the inner L4 checksum is in `software`,
    /// left to the port (prepared), or already right. A GRE checksum (C bit) is always redone.
    /// For STT the carried frame's checksums follow the inner flags too.
    @discardableResult
    public static func fill(
        _ packet: Mbuf, layout: PacketLayout, software: SoftwareChecksums, outerUDPZero: Bool = false
    ) -> Bool {
        guard let g = ChecksumGeometry(packet, layout) else { return false }
        let h = packet.data
        if layout.tunnel == .stt {
            fillCarriedFrame(packet, layout: layout, ipv4: software.contains(.innerIPv4), l4: software.contains(.innerL4))
        }
        if g.l4IsChecksummed && software.contains(.innerL4) {
            h.setBE16(g.l4ChecksumField, 0)
            let sum = onesAdd(g.l4PseudoSum(h), chainSum(packet, from: g.l4Offset, count: g.l4SegmentLength))
            h.setBE16(g.l4ChecksumField, g.l4IsUDP ? InternetChecksum.udpField(~sum) : ~sum)
        }
        if g.l3IsIPv4 && software.contains(.innerIPv4) { fillIPv4(h, at: g.l3Offset) }
        // Outer checksums cover the inner IPv4 header as it will leave (a port may still fill
        // its checksum): sum it with the right value in place, then put the old one back.
        let innerIPv4Field = g.l3IsIPv4 && g.outerL3Offset >= 0 ? h.be16(g.l3Offset + 10) : 0
        if g.l3IsIPv4 && g.outerL3Offset >= 0 { fillIPv4(h, at: g.l3Offset) }
        defer { if g.l3IsIPv4 && g.outerL3Offset >= 0 { h.setBE16(g.l3Offset + 10, innerIPv4Field) } }
        if g.greOffset >= 0 {
            h.setBE16(g.greOffset + 4, 0)
            h.setBE16(g.greOffset + 4, ~g.regionSum(packet, h, from: g.greOffset))
        }
        if g.outerUDPOffset >= 0 {
            let udp = g.outerUDPOffset
            if outerUDPZero && g.outerIsIPv4 {
                h.setBE16(udp + 6, 0)
            } else if software.contains(.outerUDP) {
                h.setBE16(udp + 6, 0)
                let sum = onesAdd(g.outerUDPPseudoSum(h), g.regionSum(packet, h, from: udp))
                h.setBE16(udp + 6, InternetChecksum.udpField(~sum))
            }
        }
        if g.outerL3Offset >= 0 && g.outerIsIPv4 && software.contains(.outerIPv4) { fillIPv4(h, at: g.outerL3Offset) }
        return true
    }

    /// Writes what a port's offloads start from for the checksums in `hardware`: IPv4 header
    /// checksum 0, L4 checksum = pseudo-header sum, with the L4 length for plain checksum
    /// offload and without it when the port segments (`forSegmentation`, TSO/USO).
    @discardableResult
    public static func preparePseudoHeaders(
        _ packet: Mbuf, layout: PacketLayout, hardware: SoftwareChecksums, forSegmentation: Bool
    ) -> Bool {
        guard let g = ChecksumGeometry(packet, layout) else { return false }
        let h = packet.data
        if g.l4IsChecksummed && hardware.contains(.innerL4) {
            let pseudo = g.l4PseudoSumWithoutLength(h)
            h.setBE16(g.l4ChecksumField, forSegmentation ? pseudo : onesAdd(pseudo, UInt16(truncatingIfNeeded: g.l4SegmentLength)))
        }
        if g.l3IsIPv4 && hardware.contains(.innerIPv4) { h.setBE16(g.l3Offset + 10, 0) }
        if g.outerUDPOffset >= 0 && hardware.contains(.outerUDP) {
            let udp = g.outerUDPOffset
            let pseudo = h.pseudoHeaderSum(ipAt: g.outerL3Offset, isIPv4: g.outerIsIPv4, protocol: IPProtocol.udp)
            h.setBE16(udp + 6, forSegmentation ? pseudo : onesAdd(pseudo, h.be16(udp + 4)))
        }
        if g.outerL3Offset >= 0 && g.outerIsIPv4 && hardware.contains(.outerIPv4) { h.setBE16(g.outerL3Offset + 10, 0) }
        return true
    }

    /// The Internet sum of `count` bytes at `offset` of the chain.
    public static func chainSum(_ packet: Mbuf, from offset: Int, count: Int) -> UInt16 {
        var sum = ChecksumAccumulator()
        var skip = offset
        var remaining = count
        var segment: OpaquePointer? = packet.pointer
        while let current = segment, remaining > 0 {
            let length = Int(cdpdk_mbuf_data_len(current))
            if skip >= length {
                skip -= length
            } else {
                let take = min(length - skip, remaining)
                sum.add(UnsafeRawBufferPointer(start: cdpdk_mbuf_mtod(current)! + skip, count: take))
                remaining -= take
                skip = 0
            }
            segment = cdpdk_mbuf_next(current)
        }
        return sum.sum
    }

    static func fillIPv4(_ h: UnsafeMutableRawPointer, at offset: Int) { h.fillIPv4HeaderChecksum(at: offset) }

    /// STT carries a whole frame that the outer TCP-like header does not checksum: fill its
    /// inner IPv4 and L4 checksums (it may span input segments).
    static func fillCarriedFrame(_ packet: Mbuf, layout: PacketLayout, ipv4: Bool, l4: Bool) {
        guard layout.tunnel == .stt, layout.innerL3 != .none, ipv4 || l4 else { return }
        guard let g = ChecksumGeometry(packet, layout, carriedFrame: true) else { return }
        let h = packet.data
        if g.l4IsChecksummed && l4 {
            h.setBE16(g.l4ChecksumField, 0)
            let sum = onesAdd(g.l4PseudoSum(h), chainSum(packet, from: g.l4Offset, count: g.l4SegmentLength))
            h.setBE16(g.l4ChecksumField, g.l4IsUDP ? InternetChecksum.udpField(~sum) : ~sum)
        }
        if g.l3IsIPv4 && ipv4 { fillIPv4(h, at: g.l3Offset) }
    }
}

/// Where one packet's checksummed headers are (innermost IP/L4; outer IP, outer UDP and a
/// GRE header with checksum for a tunnel, whatever it carries), checked against the packet.
struct ChecksumGeometry {
    var l3Offset = 0, l3IsIPv4 = false
    var l4Offset = 0, l4SegmentLength = 0, l4IsUDP = false, l4IsChecksummed = false
    var outerL3Offset = -1, outerIsIPv4 = false, outerUDPOffset = -1
    var greOffset = -1
    var packetLength = 0
    /// False for a tunnel whose inner frame is not IP: the inner fields above are unused.
    var hasL3 = true
    /// Where the bytes the outer checksums cover end: the end of the innermost IP packet, or
    /// of the outer one when the tunnel carries no IP.
    var regionEnd = 0

    /// `carriedFrame`: of a STT frame, the geometry of the frame it carries (an outer TCP-like
    /// header with no checksum over it); otherwise STT is not a tunnel here.
    init?(_ packet: Mbuf, _ layout: PacketLayout, carriedFrame: Bool = false) {
        let tunnelled = layout.isTunnel && (layout.tunnel != .stt || carriedFrame)
        let headersEnd = tunnelled ? layout.payloadOffset : layout.tunnelOffset
        guard headersEnd <= Int(packet.dataLength) else { return nil }
        let h = packet.data
        packetLength = Int(packet.packetLength)
        if tunnelled {
            outerL3Offset = layout.outerL3Offset
            outerIsIPv4 = layout.outerL3 == .ipv4
            guard h.u8(outerL3Offset) >> 4 == (outerIsIPv4 ? 4 : 6) else { return nil }
            regionEnd = SegmentHeaders.ipEnd(h, at: outerL3Offset, isIPv4: outerIsIPv4)
            guard regionEnd <= packetLength else { return nil }
            if layout.outerL4 == .udp { outerUDPOffset = layout.outerL4Offset }
            greOffset = SegmentHeaders.greOffset(h, layout)
        }
        let l3 = tunnelled ? layout.innerL3 : layout.outerL3
        // A tunnel may carry a frame that is not IP (ARP, ND's neighbours' L2 frames, LLDP):
        // then only the outer headers have checksums, over the whole outer packet.
        guard l3 != .none else {
            guard tunnelled else { return nil }
            hasL3 = false
            return
        }
        l3Offset = tunnelled ? layout.innerL3Offset : layout.outerL3Offset
        l3IsIPv4 = l3 == .ipv4
        guard h.u8(l3Offset) >> 4 == (l3IsIPv4 ? 4 : 6) else { return nil }
        let ipEnd = SegmentHeaders.ipEnd(h, at: l3Offset, isIPv4: l3IsIPv4)
        guard ipEnd <= packetLength else { return nil }
        let l4 = tunnelled ? layout.innerL4 : layout.outerL4
        let fragment = layout.flags.contains(tunnelled ? .innerFragment : .outerFragment)
        l4Offset = tunnelled ? layout.innerL4Offset : layout.outerL4Offset
        l4SegmentLength = ipEnd - l4Offset
        l4IsUDP = l4 == .udp
        l4IsChecksummed = (l4 == .tcp || l4 == .udp) && !fragment && l4SegmentLength >= (l4IsUDP ? 8 : 20)
        regionEnd = ipEnd
    }

    var l4ChecksumField: Int { l4Offset + (l4IsUDP ? 6 : 16) }

    func l4PseudoSumWithoutLength(_ h: UnsafeMutableRawPointer) -> UInt16 {
        h.pseudoHeaderSum(ipAt: l3Offset, isIPv4: l3IsIPv4, protocol: l4IsUDP ? IPProtocol.udp : IPProtocol.tcp)
    }

    func l4PseudoSum(_ h: UnsafeMutableRawPointer) -> UInt16 {
        onesAdd(l4PseudoSumWithoutLength(h), UInt16(truncatingIfNeeded: l4SegmentLength))
    }

    func outerUDPPseudoSum(_ h: UnsafeMutableRawPointer) -> UInt16 {
        let pseudo = h.pseudoHeaderSum(ipAt: outerL3Offset, isIPv4: outerIsIPv4, protocol: IPProtocol.udp)
        return onesAdd(pseudo, h.be16(outerUDPOffset + 4))
    }

    /// The sum of the bytes from `start` to the end of the innermost IP packet: headers read,
    /// the inner L4 segment taken as the complement of its pseudo-header when it carries a
    /// checksum, else summed over the chain.
    func regionSum(_ packet: Mbuf, _ h: UnsafeMutableRawPointer, from start: Int) -> UInt16 {
        guard l4IsChecksummed else { return PacketChecksums.chainSum(packet, from: start, count: regionEnd - start) }
        let span = l4Offset - start
        return onesAdd(h.internetSum(start, span), aligned(~l4PseudoSum(h), atOffset: span))
    }
}
