import Wire

/// The fast test of a segment against a held flow: the flow's headers and the segment's,
/// compared as 64-bit words under a mask that clears the bits a flow's segments may change
/// (IP lengths, IDs and header checksums; UDP lengths and checksums; the TCP sequence number,
/// checksum, urgent pointer and the PSH/FIN bits; a GRE checksum). Every other header bit
/// equal means the same flow with the same shape (the parser reads the same bytes), and every
/// equality rule of `CoalescingRules.mergeRefusal` met (addresses, ports, VLANs, tunnel
/// header, TTL/TOS/DF, hop limit/traffic class, ack, flags, window, options). What the words
/// cannot say (a stripped VLAN tag, whether a UDP checksum is present) is compared beside
/// them. When the words differ, the full rules (`sameFlow`, `mergeRefusal`) decide and name
/// the reason, so the fast test changes no verdict, only what one costs.
enum HeaderMask {
    /// Header words kept per flow: 256 bytes of headers; longer ones take the full rules.
    static let maxWords = 32

    /// Header words compared for a segment whose payload starts at `payloadOffset`, or 0 when
    /// the fast test does not apply (the last word would reach past the frame's first buffer).
    @inline(__always)
    static func words(payloadOffset: Int, dataLength: Int) -> Int {
        let words = (payloadOffset &+ 7) >> 3
        return words <= maxWords && words << 3 <= dataLength ? words : 0
    }

    /// Writes the mask of a flow's first segment: ones where its segments must agree.
    static func build(_ mask: UnsafeMutablePointer<UInt64>, words: Int, layout: PacketLayout, header: UnsafeRawPointer) {
        let bytes = UnsafeMutableRawPointer(mask).assumingMemoryBound(to: UInt8.self)
        let length = words << 3
        bytes.initialize(repeating: 0xFF, count: length)
        let payloadOffset = layout.payloadOffset
        for offset in payloadOffset..<length { bytes[offset] = 0 }
        func clear(_ offset: Int, _ count: Int) {
            for index in offset..<(offset + count) where index < length { bytes[index] = 0 }
        }
        func clearIP(_ offset: Int, _ kind: L3Kind) {
            if kind == .ipv4 {
                clear(offset + 2, 4)   // total length, identification
                clear(offset + 10, 2)  // header checksum
            } else {
                clear(offset + 4, 2)   // payload length
            }
        }
        if layout.isTunnel {
            clearIP(layout.outerL3Offset, layout.outerL3)
            if layout.outerL4 == .udp { clear(layout.outerL4Offset + 4, 4) }
            if layout.tunnel == .gre || layout.tunnel == .nvgre,
                header.load(fromByteOffset: layout.tunnelOffset, as: UInt8.self) & 0x80 != 0
            {
                clear(layout.tunnelOffset + 4, 4)  // checksum and reserved1 (RFC 2784 §2.5)
            }
        }
        clearIP(layout.l3Offset, layout.l3)
        let l4 = layout.l4Offset
        if layout.l4 == .udp {
            clear(l4 + 4, 4)
        } else {
            clear(l4 + 4, 4)  // sequence number
            if l4 + 13 < length { bytes[l4 + 13] &= ~(TCPFlagBits.psh | TCPFlagBits.fin) }
            clear(l4 + 16, 4)  // checksum, urgent pointer
        }
    }

    /// The two headers agree wherever the mask says they must.
    @inline(__always)
    static func agree(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ mask: UnsafePointer<UInt64>, words: Int) -> Bool {
        var difference: UInt64 = 0
        var index = 0
        while index < words {
            let offset = index << 3
            difference |= (a.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                ^ b.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) & mask[index]
            index &+= 1
        }
        return difference == 0
    }

    /// `agree`, leaving at the first word that differs: most flows a segment is tried against
    /// are not its own, and differ early (addresses, ports).
    @inline(__always)
    static func agreeOrExit(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ mask: UnsafePointer<UInt64>, words: Int) -> Bool {
        var index = 0
        while index < words {
            let offset = index << 3
            if (a.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                ^ b.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) & mask[index] != 0
            {
                return false
            }
            index &+= 1
        }
        return true
    }
}
