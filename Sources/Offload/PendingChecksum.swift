import CDPDK
import DPDK
import Wire

/// A checksum the sender left for someone downstream to finish: the field holds a seed (the
/// pseudo-header sum) and the real value is the complement of the sum from `start` to the end
/// of the packet — virtio-net's NEEDS_CSUM with csum_start/csum_offset, which is protocol
/// agnostic. Whatever the parser makes of the bytes (ARP in VXLAN, ICMP, an unknown port, a
/// frame it calls malformed), the field is finished the way Linux's skb_checksum_help
/// (net/core/dev.c) finishes it, so a checksum never leaves less valid than it arrived.
///
/// In an mbuf the request takes one of two forms:
/// - a tx checksum request (`TCP_CKSUM`/`UDP_CKSUM` without segmentation), with the lengths
///   placing the L4 header (`outer_l2_len + outer_l3_len` first when `OUTER_IPV4/IPV6` is set),
///   as the vnet tap maps NEEDS_CSUM;
/// - `RX_L4_CKSUM_NONE` alone ("not correct in the packet data, but the data is verified",
///   rte_mbuf_core.h), as virtio's rx path leaves it (drivers/net/virtio/virtio_rxtx.c,
///   virtio_rx_offload): the first L4 header, TCP or UDP, since virtio finishes every other
///   position in software itself.
/// Segmentation requests (`TCP_SEG`/`UDP_SEG`, `RX_LRO`) are not pending checksums: a cut
/// rewrites every checksum of the segments.
@frozen
public struct PendingChecksum: Hashable, Sendable {
    /// Where the summed region starts (csum_start).
    public var start: Int
    /// The checksum field, from `start` (csum_offset).
    public var offset: Int

    @inlinable
    public init(start: Int, offset: Int) {
        self.start = start
        self.offset = offset
    }

    @inlinable public var field: Int { start &+ offset }

    /// Flags that ask for transmit work (a checksum to finish, a super-frame to cut): one test
    /// per packet in the engines that otherwise leave packets alone. RX_L4_CKSUM_BAD (half of
    /// NONE), RX_LRO, OUTER_UDP_CKSUM, UDP_SEG, TCP_SEG, TCP/UDP_CKSUM, IP_CKSUM, OUTER_IP_CKSUM.
    @inlinable public static var attentionFlags: MbufFlags {
        MbufFlags(rawValue: 1 << 3 | 1 << 16 | 1 << 41 | 1 << 42 | 1 << 50 | 3 << 52 | 1 << 54 | 1 << 58)
    }

    /// The pending checksum the metadata of `packet` describes, if any. `layout` (the first
    /// L4 header) is needed only for the `RX_L4_CKSUM_NONE` form; without it that form gives
    /// a checksum out of reach, which `complete` refuses.
    @inlinable
    public static func of(_ packet: Mbuf, layout: PacketLayout?) -> PendingChecksum? {
        let flags = packet.offloadFlags
        if !flags.isDisjoint(with: [.txTCPSegmentation, .txUDPSegmentation, .rxLRO]) { return nil }
        let request = flags.intersection(.txL4Mask)
        if request == .txTCPChecksum || request == .txUDPChecksum {
            let lengths = packet.txOffload
            let outer = flags.isDisjoint(with: [.txOuterIPv4, .txOuterIPv6]) ? 0 : lengths.outerL2 &+ lengths.outerL3
            return PendingChecksum(
                start: outer &+ lengths.l2 &+ lengths.l3, offset: request == .txTCPChecksum ? 16 : 6)
        }
        guard flags.intersection([.rxL4ChecksumBad, .rxL4ChecksumGood]) == [.rxL4ChecksumBad, .rxL4ChecksumGood] else {
            return nil
        }
        // Pending, but where is unknown without a parse: out of reach (`complete` refuses it).
        guard let layout else { return PendingChecksum(start: -1, offset: 0) }
        switch layout.outerL4 {
        case .tcp: return PendingChecksum(start: layout.outerL4Offset, offset: 16)
        case .udp: return PendingChecksum(start: layout.outerL4Offset, offset: 6)
        default: return nil
        }
    }

    /// Whether the csum engine rewrites this field anyway for `layout`: the innermost TCP/UDP
    /// checksum (not of a fragment), the outer UDP checksum of a UDP tunnel, and for STT both
    /// the outer TCP-like checksum and the carried frame's.
    @inlinable
    public func isRewritten(for layout: PacketLayout) -> Bool {
        let field = self.field
        func l4Field(_ kind: L4Kind, at offset: Int) -> Int {
            kind == .tcp ? offset &+ 16 : kind == .udp ? offset &+ 6 : -1
        }
        if layout.tunnel == .stt {
            if field == l4Field(layout.outerL4, at: layout.outerL4Offset) { return true }
            return !layout.flags.contains(.innerFragment) && field == l4Field(layout.innerL4, at: layout.innerL4Offset)
        }
        if layout.isTunnel {
            if layout.outerL4 == .udp && field == layout.outerL4Offset &+ 6 { return true }
            return !layout.flags.contains(.innerFragment) && field == l4Field(layout.innerL4, at: layout.innerL4Offset)
        }
        return !layout.flags.contains(.outerFragment) && field == l4Field(layout.outerL4, at: layout.outerL4Offset)
    }

    /// Finishes the checksum in place: the complement of the sum from `start` to the end of
    /// the packet (seed included), 0 written as 0xFFFF as UDP wants it (a TCP checksum cannot
    /// sum to 0 with a non-zero pseudo-header). False, with nothing written, when the field
    /// is not in the first segment or lies past the packet.
    public func complete(in packet: Mbuf) -> Bool {
        let length = Int(packet.packetLength)
        guard start >= 0, offset >= 0, field &+ 2 <= Int(packet.dataLength), field &+ 2 <= length else { return false }
        let folded = ~PacketChecksums.chainSum(packet, from: start, count: length &- start)
        packet.data.setBE16(field, folded == 0 ? 0xFFFF : folded)
        return true
    }
}
