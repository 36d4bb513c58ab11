import CDPDK
import DPDK
import Offload

/// Why the NIC model refuses a packet: what rte_validate_tx_offload / a PMD's tx_prepare
/// rejects, or what a real NIC would get wrong with such metadata.
public enum NICModelError: Error, Hashable, Sendable, CustomStringConvertible {
    case ipChecksumOnIPv6
    case ipChecksumWithoutIPv4
    case bothIPTypes
    /// An L4 checksum or segmentation without IPV4/IPV6.
    case missingIPType
    case zeroSegmentSize
    /// TCP_SEG on IPv4 without IP_CKSUM (rte_mbuf_core.h, rte_validate_tx_offload).
    case tsoWithoutIPChecksum
    case outerIPChecksumWithoutOuterIPv4
    /// OUTER_IP_CKSUM / OUTER_UDP_CKSUM without a tunnel type.
    case outerOffloadWithoutTunnelType
    /// A tunnel type with outer offloads or segmentation, but outer_l2_len/outer_l3_len 0.
    case missingOuterLengths
    /// A tunnel type with outer offloads or segmentation, but no OUTER_IPV4/OUTER_IPV6.
    case missingOuterIPType
    /// OUTER_UDP_CKSUM on a tunnel type without an outer UDP header (GRE, IPIP, IP).
    case outerUDPChecksumWithoutUDPTunnel
    case bothSegmentations
    /// l3_len 0 with L3/L4 offloads, l4_len 0 with segmentation.
    case missingLengths
    /// The lengths reach past the end of the packet.
    case lengthsBeyondPacket
    /// What sits at an offset the lengths give is not what the flags say.
    case headerMismatch(String)
    /// An offload the port does not have.
    case unsupported(String)
    /// More mbuf segments than the port takes.
    case tooManySegments(Int)
    /// tso_segsz outside what the driver accepts.
    case segmentSizeOutOfRange(Int)
    /// A frame the port would send is larger than MTU + 14.
    case frameExceedsMTU(Int)

    public var description: String {
        switch self {
        case .ipChecksumOnIPv6: "IP_CKSUM with IPV6"
        case .ipChecksumWithoutIPv4: "IP_CKSUM without IPV4"
        case .bothIPTypes: "IPV4 and IPV6 both set"
        case .missingIPType: "L4 checksum or segmentation without IPV4/IPV6"
        case .zeroSegmentSize: "segmentation with tso_segsz 0"
        case .tsoWithoutIPChecksum: "TCP_SEG on IPv4 without IP_CKSUM"
        case .outerIPChecksumWithoutOuterIPv4: "OUTER_IP_CKSUM without OUTER_IPV4"
        case .outerOffloadWithoutTunnelType: "outer checksum offload without a tunnel type"
        case .missingOuterLengths: "tunnel offload with outer_l2_len or outer_l3_len 0"
        case .missingOuterIPType: "tunnel offload without OUTER_IPV4/OUTER_IPV6"
        case .outerUDPChecksumWithoutUDPTunnel: "OUTER_UDP_CKSUM on a tunnel without outer UDP"
        case .bothSegmentations: "TCP_SEG and UDP_SEG (or TCP_SEG with UDP_CKSUM)"
        case .missingLengths: "l3_len or l4_len 0 where the offload needs it"
        case .lengthsBeyondPacket: "header lengths reach past the packet"
        case .headerMismatch(let what): "headers disagree with the metadata: \(what)"
        case .unsupported(let what): "the port has no \(what)"
        case .tooManySegments(let count): "\(count) mbuf segments, more than the port takes"
        case .segmentSizeOutOfRange(let size): "tso_segsz \(size) outside what the driver accepts"
        case .frameExceedsMTU(let size): "a \(size)-byte frame exceeds MTU + 14"
        }
    }
}

/// A NIC in software: transmits an mbuf from its offload metadata alone (ol_flags, the
/// tx_offload lengths, tso_segsz), as the hardware does. It never parses: it cuts at the
/// offsets the lengths give, replicates the headers, fixes lengths, IPv4 IDs, TCP sequence
/// numbers and flags, and computes the checksums the flags ask for, starting (like Intel
/// NICs) from the pseudo-header sums left in the L4 checksum fields: without the length when
/// segmenting, with it otherwise. Checksums not asked for are left as they are. Metadata a
/// NIC would reject or mishandle is refused with a typed error.
///
/// For tests: it allocates (one array per frame).
public struct NICModel: Sendable {
    public let capabilities: TxCapabilities
    /// Refuse frames larger than MTU + 14 (what the tso_segsz bound promises).
    public var checkMTU: Bool

    public init(capabilities: TxCapabilities, checkMTU: Bool = true) {
        self.capabilities = capabilities
        self.checkMTU = checkMTU
    }

    public init(_ preset: NICPreset, checkMTU: Bool = true) {
        self.init(capabilities: preset.capabilities, checkMTU: checkMTU)
    }

    /// The frames the port puts on the wire for `packet` (not freed).
    public func transmit(_ packet: Mbuf) throws(NICModelError) -> [[UInt8]] {
        var frame: [UInt8] = []
        frame.reserveCapacity(Int(packet.packetLength))
        for segment in packet.segments { frame += UnsafeRawBufferPointer(segment.bytes) }
        return try transmit(frame: frame, flags: packet.offloadFlags, lengths: packet.txOffload,
                            mbufSegments: Int(packet.segmentCount))
    }

    /// The same from the bytes and the metadata.
    public func transmit(
        frame: [UInt8], flags: MbufFlags, lengths: TxOffloadLengths, mbufSegments: Int = 1
    ) throws(NICModelError) -> [[UInt8]] {
        let m = try Metadata(flags: flags, lengths: lengths, frameLength: frame.count)
        try checkCapabilities(m, mbufSegments: mbufSegments)
        try checkHeaders(m, frame)
        let frames = m.segmenting ? segment(m, frame) : [checksum(m, frame)]
        if checkMTU {
            for f in frames where f.count > capabilities.mtu + 14 { throw .frameExceedsMTU(f.count) }
        }
        return frames
    }

    // MARK: metadata

    /// The offsets the metadata gives, after DPDK's own validity rules.
    struct Metadata {
        let flags: MbufFlags
        let tunnel: MbufFlags
        let udpTunnel: Bool
        let outerL3: Int  // -1: no outer header for the NIC
        let outerL4: Int
        let outerIPv4: Bool
        let l3: Int
        let l4: Int
        let payload: Int
        let segmentSize: Int
        let tcpSegmentation: Bool
        let udpSegmentation: Bool
        var segmenting: Bool { tcpSegmentation || udpSegmentation }
        let ipv4: Bool
        let l4Checksum: MbufFlags
        let lengths: TxOffloadLengths

        init(flags f: MbufFlags, lengths: TxOffloadLengths, frameLength: Int) throws(NICModelError) {
            flags = f
            self.lengths = lengths
            tcpSegmentation = f.contains(.txTCPSegmentation)
            udpSegmentation = f.contains(.txUDPSegmentation)
            l4Checksum = f.intersection(.txL4Mask)
            ipv4 = f.contains(.txIPv4)
            let ipv6 = f.contains(.txIPv6)
            // rte_validate_tx_offload.
            if f.contains(.txIPChecksum) && ipv6 { throw .ipChecksumOnIPv6 }
            if ipv4 && ipv6 { throw .bothIPTypes }
            if (!l4Checksum.isEmpty || tcpSegmentation || udpSegmentation) && !ipv4 && !ipv6 { throw .missingIPType }
            if (tcpSegmentation || udpSegmentation) && lengths.tsoSegmentSize == 0 { throw .zeroSegmentSize }
            if tcpSegmentation && ipv4 && !f.contains(.txIPChecksum) { throw .tsoWithoutIPChecksum }
            if f.contains(.txOuterIPChecksum) && !f.contains(.txOuterIPv4) { throw .outerIPChecksumWithoutOuterIPv4 }
            // What a NIC needs besides.
            if f.contains(.txIPChecksum) && !ipv4 { throw .ipChecksumWithoutIPv4 }
            if tcpSegmentation && (udpSegmentation || l4Checksum == .txUDPChecksum) { throw .bothSegmentations }
            tunnel = f.tunnelType
            let outerOffload = f.contains(.txOuterIPChecksum) || f.contains(.txOuterUDPChecksum)
            if outerOffload && tunnel.isEmpty { throw .outerOffloadWithoutTunnelType }
            let types: [MbufFlags] = [.txTunnelVXLAN, .txTunnelGENEVE, .txTunnelVXLANGPE, .txTunnelUDP, .txTunnelGTP, .txTunnelMPLSInUDP]
            udpTunnel = types.contains(tunnel)
            if f.contains(.txOuterUDPChecksum) && !udpTunnel { throw .outerUDPChecksumWithoutUDPTunnel }
            // A tunnel type tells the NIC to use the outer lengths (for the inner offsets too).
            if !tunnel.isEmpty {
                guard lengths.outerL2 > 0, lengths.outerL3 > 0 else { throw .missingOuterLengths }
                guard f.contains(.txOuterIPv4) || f.contains(.txOuterIPv6) else { throw .missingOuterIPType }
                outerL3 = lengths.outerL2
                outerL4 = lengths.outerL2 + lengths.outerL3
                outerIPv4 = f.contains(.txOuterIPv4)
                l3 = outerL4 + lengths.l2
            } else {
                outerL3 = -1
                outerL4 = -1
                outerIPv4 = false
                l3 = lengths.l2
            }
            l4 = l3 + lengths.l3
            payload = l4 + lengths.l4
            segmentSize = lengths.tsoSegmentSize
            let l3Offload = f.contains(.txIPChecksum) || !l4Checksum.isEmpty || tcpSegmentation || udpSegmentation
            if l3Offload && lengths.l3 == 0 { throw .missingLengths }
            if (tcpSegmentation || udpSegmentation) && lengths.l4 == 0 { throw .missingLengths }
            let end = tcpSegmentation || udpSegmentation ? payload : l3Offload ? l4 : outerL4
            if end > frameLength || (!l4Checksum.isEmpty && l4 + (l4Checksum == .txUDPChecksum ? 8 : 20) > frameLength) {
                throw .lengthsBeyondPacket
            }
        }
    }

    /// The offloads asked for against what the port has.
    func checkCapabilities(_ m: Metadata, mbufSegments: Int) throws(NICModelError) {
        let f = capabilities.features
        if mbufSegments > 1 && !f.contains(.multiSegments) { throw .unsupported("MULTI_SEGS") }
        if capabilities.maxSegmentsPerPacket > 0 && mbufSegments > capabilities.maxSegmentsPerPacket {
            throw .tooManySegments(mbufSegments)
        }
        let flags = m.flags
        if flags.contains(.txIPChecksum) && !f.contains(.ipv4Checksum) && !(m.tcpSegmentation && f.contains(.tsoFillsIPv4Checksum)) {
            throw .unsupported("IPV4_CKSUM")
        }
        if m.l4Checksum == .txTCPChecksum && !m.tcpSegmentation && !f.contains(.tcpChecksum) { throw .unsupported("TCP_CKSUM") }
        if m.l4Checksum == .txUDPChecksum && !f.contains(.udpChecksum) { throw .unsupported("UDP_CKSUM") }
        if m.l4Checksum == .txSCTPChecksum { throw .unsupported("SCTP_CKSUM") }
        if flags.contains(.txOuterIPChecksum) && !f.contains(.outerIPv4Checksum) { throw .unsupported("OUTER_IPV4_CKSUM") }
        if flags.contains(.txOuterUDPChecksum) && !f.contains(.outerUDPChecksum) { throw .unsupported("OUTER_UDP_CKSUM") }
        if !m.tunnel.isEmpty {
            // The tunnel types a port parses: those it has tunnel TSO for (the generic UDP/IP
            // types need UDP_TNL_TSO / IP_TNL_TSO; VXLAN-GPE is ice's).
            let known: Bool
            switch m.tunnel {
            case .txTunnelVXLAN: known = f.contains(.vxlanTunnelTSO)
            case .txTunnelVXLANGPE: known = f.contains(.vxlanTunnelTSO) && f.contains(.vxlanGPETunnelType)
            case .txTunnelGENEVE: known = f.contains(.geneveTunnelTSO)
            case .txTunnelGRE: known = f.contains(.greTunnelTSO)
            case .txTunnelIPIP: known = f.contains(.ipipTunnelTSO)
            case .txTunnelUDP: known = f.contains(.udpTunnelTSO)
            case .txTunnelIP: known = f.contains(.ipTunnelTSO)
            default: known = false
            }
            if !known { throw .unsupported("tunnel type \(m.tunnel.rawValue >> 45)") }
            if m.udpSegmentation { throw .unsupported("UDP_SEG in a tunnel") }
        }
        if m.tcpSegmentation {
            if m.tunnel.isEmpty {
                if !f.contains(.tcpTSO) { throw .unsupported("TCP_TSO") }
                if f.contains(.tsoIPv4TCPOnly) && !m.ipv4 { throw .unsupported("TSO of IPv6 (TCP/IPv4 only)") }
            } else if f.contains(.tsoIPv4TCPOnly) {
                throw .unsupported("tunnel TSO")
            }
        }
        if m.udpSegmentation && !f.contains(.udpTSO) { throw .unsupported("UDP_TSO") }
        if m.segmenting && !capabilities.tsoSegmentSizes.contains(m.segmentSize) {
            throw .segmentSizeOutOfRange(m.segmentSize)
        }
    }

    /// What a NIC reads at the offsets must be what the flags say, or it writes garbage.
    func checkHeaders(_ m: Metadata, _ frame: [UInt8]) throws(NICModelError) {
        if m.outerL3 >= 0 {
            let version = frame[m.outerL3] >> 4
            guard version == (m.outerIPv4 ? 4 : 6) else { throw .headerMismatch("outer IP version \(version) at \(m.outerL3)") }
            if m.outerIPv4 && Int(frame[m.outerL3] & 0x0F) * 4 != m.lengths.outerL3 {
                throw .headerMismatch("outer IPv4 header length vs outer_l3_len \(m.lengths.outerL3)")
            }
            if m.udpTunnel && m.outerIPv4 && frame[m.outerL3 + 9] != 17 { throw .headerMismatch("outer protocol not UDP") }
        }
        let l3Used = m.flags.contains(.txIPChecksum) || !m.l4Checksum.isEmpty || m.segmenting
        guard l3Used else { return }
        let version = frame[m.l3] >> 4
        guard version == (m.ipv4 ? 4 : 6) else { throw .headerMismatch("IP version \(version) at l3 offset \(m.l3)") }
        if m.ipv4 && Int(frame[m.l3] & 0x0F) * 4 != m.lengths.l3 { throw .headerMismatch("IPv4 header length vs l3_len") }
        let tcp = m.tcpSegmentation || m.l4Checksum == .txTCPChecksum
        let udp = m.udpSegmentation || m.l4Checksum == .txUDPChecksum
        let proto: UInt8? = m.ipv4 ? frame[m.l3 + 9] : m.lengths.l3 == 40 ? frame[m.l3 + 6] : nil
        if let proto, (tcp && proto != 6) || (udp && proto != 17) {
            throw .headerMismatch("IP protocol \(proto) vs the L4 offload")
        }
        if m.tcpSegmentation && Int(frame[m.l4 + 12] >> 4) * 4 != m.lengths.l4 {
            throw .headerMismatch("TCP data offset vs l4_len \(m.lengths.l4)")
        }
        if m.udpSegmentation && m.lengths.l4 != 8 { throw .headerMismatch("UDP_SEG with l4_len \(m.lengths.l4)") }
    }

    // MARK: transmit

    /// TSO / USO / tunnel TSO: every segment gets a copy of the headers and tso_segsz payload
    /// bytes (the last one the rest).
    func segment(_ m: Metadata, _ frame: [UInt8]) -> [[UInt8]] {
        let headers = Array(frame[0..<m.payload])
        let payloadLength = frame.count - m.payload
        let count = max(1, (payloadLength + m.segmentSize - 1) / m.segmentSize)
        let innerID = m.ipv4 ? Self.get16(frame, m.l3 + 4) : 0
        let outerID = m.outerL3 >= 0 && m.outerIPv4 ? Self.get16(frame, m.outerL3 + 4) : 0
        let sequence = m.tcpSegmentation ? Self.get32(frame, m.l4 + 4) : 0
        let tcpFlags = m.tcpSegmentation ? frame[m.l4 + 13] : 0
        var out: [[UInt8]] = []
        out.reserveCapacity(count)
        for index in 0..<count {
            let start = m.payload + index * m.segmentSize
            let end = min(frame.count, start + m.segmentSize)
            var f = headers
            f += frame[start..<end]
            let step = UInt16(truncatingIfNeeded: index)
            // Inner (or only) IP header.
            if m.ipv4 {
                Self.set16(&f, m.l3 + 2, UInt16(f.count - m.l3))
                Self.set16(&f, m.l3 + 4, innerID &+ step)
                if m.flags.contains(.txIPChecksum) { Self.fillIPv4(&f, at: m.l3, length: m.lengths.l3) }
            } else {
                Self.set16(&f, m.l3 + 4, UInt16(f.count - m.l3 - 40))
            }
            // L4: length, sequence, flags; the checksum from the pseudo-header sum (no length).
            let l4Length = f.count - m.l4
            if m.tcpSegmentation {
                Self.set32(&f, m.l4 + 4, sequence &+ UInt32(index * m.segmentSize))
                var flags = tcpFlags
                if index != 0 { flags &= ~0x80 }  // CWR on the first segment only
                if index != count - 1 { flags &= ~0x09 }  // PSH, FIN on the last only
                f[m.l4 + 13] = flags
                Self.fillL4(&f, field: m.l4 + 16, from: m.l4, lengthToAdd: l4Length, udp: false)
            } else {
                Self.set16(&f, m.l4 + 4, UInt16(l4Length))
                Self.fillL4(&f, field: m.l4 + 6, from: m.l4, lengthToAdd: l4Length, udp: true)
            }
            // Outer headers of a tunnel.
            if m.outerL3 >= 0 {
                if m.udpTunnel {
                    let udpLength = f.count - m.outerL4
                    Self.set16(&f, m.outerL4 + 4, UInt16(udpLength))
                    if m.flags.contains(.txOuterUDPChecksum) {
                        Self.fillL4(&f, field: m.outerL4 + 6, from: m.outerL4, lengthToAdd: udpLength, udp: true)
                    }
                }
                if m.outerIPv4 {
                    Self.set16(&f, m.outerL3 + 2, UInt16(f.count - m.outerL3))
                    Self.set16(&f, m.outerL3 + 4, outerID &+ step)
                    if m.flags.contains(.txOuterIPChecksum) { Self.fillIPv4(&f, at: m.outerL3, length: m.lengths.outerL3) }
                } else {
                    Self.set16(&f, m.outerL3 + 4, UInt16(f.count - m.outerL3 - 40))
                }
            }
            out.append(f)
        }
        return out
    }

    /// Checksum offloads of one frame: the L4 checksum from the pseudo-header sum (with the
    /// length) over the rest of the frame, then the IPv4 header, outer UDP, outer IPv4.
    func checksum(_ m: Metadata, _ frame: [UInt8]) -> [UInt8] {
        var f = frame
        if m.l4Checksum == .txTCPChecksum { Self.fillL4(&f, field: m.l4 + 16, from: m.l4, lengthToAdd: 0, udp: false) }
        if m.l4Checksum == .txUDPChecksum { Self.fillL4(&f, field: m.l4 + 6, from: m.l4, lengthToAdd: 0, udp: true) }
        if m.flags.contains(.txIPChecksum) { Self.fillIPv4(&f, at: m.l3, length: m.lengths.l3) }
        if m.flags.contains(.txOuterUDPChecksum) {
            Self.fillL4(&f, field: m.outerL4 + 6, from: m.outerL4, lengthToAdd: 0, udp: true)
        }
        if m.flags.contains(.txOuterIPChecksum) { Self.fillIPv4(&f, at: m.outerL3, length: m.lengths.outerL3) }
        return f
    }

    // MARK: bytes and sums (the model's own, not Wire's)

    static func get16(_ f: [UInt8], _ at: Int) -> UInt16 { UInt16(f[at]) << 8 | UInt16(f[at + 1]) }
    static func get32(_ f: [UInt8], _ at: Int) -> UInt32 { UInt32(get16(f, at)) << 16 | UInt32(get16(f, at + 2)) }
    static func set16(_ f: inout [UInt8], _ at: Int, _ v: UInt16) {
        f[at] = UInt8(v >> 8)
        f[at + 1] = UInt8(v & 0xFF)
    }
    static func set32(_ f: inout [UInt8], _ at: Int, _ v: UInt32) {
        set16(&f, at, UInt16(v >> 16))
        set16(&f, at + 2, UInt16(v & 0xFFFF))
    }

    /// The 32-bit one's-complement accumulation of `f[range]` as 16-bit big-endian words.
    static func sum(_ f: [UInt8], _ range: Range<Int>, into total: inout UInt32) {
        var i = range.lowerBound
        while i + 1 < range.upperBound {
            total &+= UInt32(f[i]) << 8 | UInt32(f[i + 1])
            i += 2
        }
        if i < range.upperBound { total &+= UInt32(f[i]) << 8 }
        total = (total & 0xFFFF) &+ (total >> 16)
    }

    static func fold(_ total: UInt32) -> UInt16 {
        var t = total
        while t > 0xFFFF { t = (t & 0xFFFF) + (t >> 16) }
        return UInt16(t)
    }

    static func fillIPv4(_ f: inout [UInt8], at offset: Int, length: Int) {
        set16(&f, offset + 10, 0)
        var total: UInt32 = 0
        sum(f, offset..<offset + length, into: &total)
        set16(&f, offset + 10, ~fold(total))
    }

    /// The L4 checksum at `field` over `from..<end of frame`, starting from the value the
    /// field holds (a pseudo-header sum) plus `lengthToAdd` (TSO: the segment's L4 length).
    static func fillL4(_ f: inout [UInt8], field: Int, from: Int, lengthToAdd: Int, udp: Bool) {
        var total = UInt32(get16(f, field)) &+ UInt32(lengthToAdd)
        set16(&f, field, 0)
        sum(f, from..<f.count, into: &total)
        let value = ~fold(total)
        set16(&f, field, udp && value == 0 ? 0xFFFF : value)
    }
}
