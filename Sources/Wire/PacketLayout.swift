public enum L3Kind: UInt8, Hashable, Sendable {
    case none, ipv4, ipv6
}

public enum L4Kind: UInt8, Hashable, Sendable {
    /// No transport header: non-IP, a non-first fragment, or a tunnel without one (GRE, IPIP).
    case none
    case tcp, udp
    /// An IP protocol the parser does not open (ICMP, ESP, ...): see the IP protocol field.
    case other
}

public enum TunnelKind: UInt8, Hashable, Sendable {
    case none, vxlan, vxlanGPE, geneve, gre, nvgre, gue, fou
    /// IPv4/IPv6 directly in IPv4/IPv6 (protocols 4 and 41): no tunnel header.
    case ipInIP
    case stt
}

/// Where the headers of one frame are: a plain value of lengths and kinds, filled by
/// `PacketLayout.parse` without allocating, and copied per packet.
///
/// The `outer*` fields describe the first headers of the frame; for a frame that is not
/// tunnelled they are its only headers and the `inner*` fields stay zero. Offsets follow
/// from the lengths; only the parser sets either, so they cannot disagree. The innermost
/// ones (`l3Offset`, `l4Offset`, `payloadOffset`), which every hot path reads, are stored
/// once by the parser rather than summed again at each read. `offloadLengths` gives the
/// mbuf fields.
///
/// Its size matters too: at 32 bytes or less, Swift passes the value in four registers,
/// packed field by field by the caller (some 80 instructions for twenty fields) and unpacked
/// again by the callee; larger, it is passed by address. The stored offsets make it larger
/// (a test keeps it so).
public struct PacketLayout: Hashable, Sendable {
    public struct Flags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt16
        @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }
        /// The outer (or only) IP packet is a fragment.
        public static let outerFragment = Flags(rawValue: 1 << 0)
        public static let innerFragment = Flags(rawValue: 1 << 1)
        /// A Geneve option has its critical bit set (drop unless every such option is known).
        public static let geneveCriticalOption = Flags(rawValue: 1 << 2)
        /// An OAM/control message (Geneve O, GUE C, VXLAN-GPE O): not tenant data.
        public static let tunnelControl = Flags(rawValue: 1 << 3)
        /// A STT segment that is not a whole STT frame: inner headers are not parsed.
        public static let sttFragment = Flags(rawValue: 1 << 4)
        /// The outer UDP checksum is 0 (absent).
        public static let outerUDPChecksumZero = Flags(rawValue: 1 << 5)
        /// GRE carried over FOU/GUE (its header counts in `tunnelLength`).
        public static let greOverUDP = Flags(rawValue: 1 << 6)
        /// The inner packet is itself a tunnel packet (VXLAN in VXLAN, STT's port inside a
        /// tunnel, IP-in-IP in GRE): only one level is parsed; the inner UDP or TCP header (or
        /// nothing, for an inner GRE or IP-in-IP) ends the layout and the rest is payload.
        public static let nestedTunnel = Flags(rawValue: 1 << 7)
    }

    /// Ethernet header plus VLAN tags.
    public internal(set) var outerL2Length: UInt16 = 0
    public internal(set) var outerVLANCount: UInt8 = 0
    public internal(set) var outerL3: L3Kind = .none
    /// IPv4 header with options, or IPv6 fixed header plus extension headers.
    public internal(set) var outerL3Length: UInt16 = 0
    /// IPv4 protocol / IPv6 upper-layer protocol after extension headers.
    public internal(set) var outerIPProtocol: UInt8 = 0
    public internal(set) var outerL4: L4Kind = .none
    public internal(set) var outerL4Length: UInt16 = 0
    public internal(set) var tunnel: TunnelKind = .none
    /// Tunnel header length: VXLAN 8, Geneve 8 + options, GRE 4-16, GUE 4 + optional
    /// fields, STT 18 (first segment), 0 for FOU and IPIP.
    public internal(set) var tunnelLength: UInt16 = 0
    /// Inner Ethernet header plus VLAN tags, 0 when the tunnel carries IP directly.
    public internal(set) var innerL2Length: UInt16 = 0
    public internal(set) var innerVLANCount: UInt8 = 0
    public internal(set) var innerL3: L3Kind = .none
    public internal(set) var innerL3Length: UInt16 = 0
    public internal(set) var innerIPProtocol: UInt8 = 0
    public internal(set) var innerL4: L4Kind = .none
    public internal(set) var innerL4Length: UInt16 = 0
    /// Bytes after the last parsed header to the end of the outermost IP packet (or frame).
    public internal(set) var payloadLength: UInt32 = 0
    public internal(set) var flags: Flags = []
    /// The innermost offsets, stored by `settleOffsets` once the lengths are final.
    @usableFromInline var storedL3Offset: UInt16 = 0
    @usableFromInline var storedL4Offset: UInt16 = 0
    @usableFromInline var storedPayloadOffset: UInt16 = 0

    @inlinable public init() {}

    @inlinable public var isTunnel: Bool { tunnel != .none }
    @inlinable public var outerL3Offset: Int { Int(outerL2Length) }
    @inlinable public var outerL4Offset: Int { outerL3Offset + Int(outerL3Length) }
    @inlinable public var tunnelOffset: Int { outerL4Offset + Int(outerL4Length) }
    @inlinable public var innerL2Offset: Int { tunnelOffset + Int(tunnelLength) }
    @inlinable public var innerL3Offset: Int { innerL2Offset + Int(innerL2Length) }
    @inlinable public var innerL4Offset: Int { innerL3Offset + Int(innerL3Length) }
    /// Where the payload starts: after the innermost parsed header.
    @inlinable @inline(__always) public var payloadOffset: Int { Int(storedPayloadOffset) }
    /// The innermost L3/L4 the offloads act on.
    @inlinable public var l3: L3Kind { isTunnel ? innerL3 : outerL3 }
    @inlinable public var l4: L4Kind { isTunnel ? innerL4 : outerL4 }
    /// Where the innermost L3 / L4 headers start.
    @inlinable @inline(__always) public var l3Offset: Int { Int(storedL3Offset) }
    @inlinable @inline(__always) public var l4Offset: Int { Int(storedL4Offset) }

    /// Stores the innermost offsets from the lengths: the parser's last step. The payload's
    /// is the largest and must fit 16 bits, as every length does.
    @inline(__always) mutating func settleOffsets() throws(WireError) {
        storedPayloadOffset = try Self.u16(isTunnel ? innerL4Offset + Int(innerL4Length) : tunnelOffset)
        storedL3Offset = UInt16(truncatingIfNeeded: isTunnel ? innerL3Offset : outerL3Offset)
        storedL4Offset = UInt16(truncatingIfNeeded: isTunnel ? innerL4Offset : outerL4Offset)
    }

    /// The lengths DPDK's mbuf tx-offload fields want (rte_mbuf_core.h): for a tunnel
    /// outer_l2_len, outer_l3_len, l2_len = outer L4 + tunnel + inner L2, l3_len, l4_len;
    /// otherwise the outer fields are 0 and l2/l3/l4 describe the only headers.
    public struct OffloadLengths: Hashable, Sendable {
        public var outerL2Len: UInt16
        public var outerL3Len: UInt16
        public var l2Len: UInt16
        public var l3Len: UInt16
        public var l4Len: UInt16
        @inlinable public init(outerL2Len: UInt16, outerL3Len: UInt16, l2Len: UInt16, l3Len: UInt16, l4Len: UInt16) {
            self.outerL2Len = outerL2Len
            self.outerL3Len = outerL3Len
            self.l2Len = l2Len
            self.l3Len = l3Len
            self.l4Len = l4Len
        }
    }

    @inlinable public var offloadLengths: OffloadLengths {
        if isTunnel {
            return OffloadLengths(
                outerL2Len: outerL2Length, outerL3Len: outerL3Length,
                l2Len: outerL4Length &+ tunnelLength &+ innerL2Length, l3Len: innerL3Length, l4Len: innerL4Length)
        }
        return OffloadLengths(
            outerL2Len: 0, outerL3Len: 0, l2Len: outerL2Length, l3Len: outerL3Length, l4Len: outerL4Length)
    }
}
