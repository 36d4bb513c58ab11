import CCPU
import ChecksumKernelV3
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
    /// Words of a flow's slot: the mask `find` and `mergeIntoAgreeingFlow` compare the flow's
    /// first header under, then `ExpressLane`'s strict mask and expected header.
    static let slotWords = 3 * maxWords
    static let strictMask = maxWords
    static let expectedHeader = 2 * maxWords

    /// Header words compared for a segment whose payload starts at `payloadOffset`, or 0 when
    /// the fast test does not apply (the last word would reach past the frame's first buffer).
    @inline(__always)
    static func words(payloadOffset: Int, dataLength: Int) -> Int {
        let words = (payloadOffset &+ 7) >> 3
        return words <= maxWords && words << 3 <= dataLength ? words : 0
    }

    /// Writes a flow's two masks into its slot, from its first segment's headers: ones where
    /// its segments must agree. The strict one (`ExpressLane`'s, at `strictMask`) keeps the
    /// lengths, which the flow's next full-size segment must carry too, and a UDP checksum the
    /// flow sends as 0 (its segments must too); the other (at 0) clears those. Neither keeps
    /// the IPv4 IDs or the TCP sequence number: the lane checks them against the flow's next
    /// values. Once per flow, in whole words where it can.
    static func build(_ slot: UnsafeMutablePointer<UInt64>, words: Int, layout: PacketLayout, header: UnsafeRawPointer) {
        let strict = slot + strictMask
        let payloadOffset = layout.payloadOffset
        for index in 0..<words {
            // The first `headerBytes` bytes of the word are header (little-endian byte order).
            let headerBytes = payloadOffset &- index << 3
            strict[index] = headerBytes >= 8
                ? ~0 : headerBytes <= 0 ? 0 : UInt64(littleEndian: (UInt64(1) << UInt64(headerBytes << 3)) &- 1)
        }
        let length = words << 3
        // Whole-word edits: byte stores under the word loads that follow would stall them.
        func clear(_ mask: UnsafeMutablePointer<UInt64>, _ offset: Int, _ count: Int) {
            guard offset &+ count <= length else { return }
            clearBits(mask, at: offset, (UInt64(1) &<< UInt64(truncatingIfNeeded: count &<< 3)) &- 1)
        }
        func sendsChecksum(_ udp: Int) -> Bool { header.load(fromByteOffset: udp &+ 6, as: UInt16.self) != 0 }
        let tunnel = layout.isTunnel
        let l4 = layout.l4Offset
        // What any segment may change: header checksums, a UDP checksum the flow sends, the
        // TCP checksum and urgent pointer, PSH and FIN.
        if tunnel {
            if layout.outerL3 == .ipv4 { clear(strict, layout.outerL3Offset &+ 10, 2) }
            if layout.outerL4 == .udp, sendsChecksum(layout.outerL4Offset) { clear(strict, layout.outerL4Offset &+ 6, 2) }
            if layout.tunnel == .gre || layout.tunnel == .nvgre,
                header.load(fromByteOffset: layout.tunnelOffset, as: UInt8.self) & 0x80 != 0
            {
                clear(strict, layout.tunnelOffset &+ 4, 4)  // checksum and reserved1 (RFC 2784 §2.5)
            }
        }
        if layout.l3 == .ipv4 { clear(strict, layout.l3Offset &+ 10, 2) }
        if layout.l4 == .udp {
            if sendsChecksum(l4) { clear(strict, l4 &+ 6, 2) }
        } else {
            if l4 &+ 13 < length { clearBits(strict, at: l4 &+ 13, UInt64(TCPFlagBits.psh | TCPFlagBits.fin)) }
            clear(strict, l4 &+ 16, 4)
            clear(strict, l4 &+ 4, 4)  // the sequence number: the lane's key
        }
        // The IDs: the lane compares them with the flow's next (incrementing or fixed).
        if tunnel, layout.outerL3 == .ipv4 { clear(strict, layout.outerL3Offset &+ 4, 2) }
        if layout.l3 == .ipv4 { clear(strict, layout.l3Offset &+ 4, 2) }
        // The other mask also leaves out the lengths (a short last segment) and a UDP checksum
        // sent as 0; the IDs and the sequence number are out of both already.
        slot.update(from: strict, count: words)
        func clearIPLength(_ offset: Int, _ kind: L3Kind) { clear(slot, offset &+ (kind == .ipv4 ? 2 : 4), 2) }
        if tunnel {
            clearIPLength(layout.outerL3Offset, layout.outerL3)
            if layout.outerL4 == .udp { clear(slot, layout.outerL4Offset &+ 4, 4) }
        }
        clearIPLength(layout.l3Offset, layout.l3)
        if layout.l4 == .udp { clear(slot, l4 &+ 4, 4) }  // length and checksum
    }

    /// Clears in `mask` the bits `bits` (of at most 7 bytes, the first byte lowest) sets, from
    /// byte `offset` on; the caller keeps them inside the mask's words.
    @inline(__always)
    static func clearBits(_ mask: UnsafeMutablePointer<UInt64>, at offset: Int, _ bits: UInt64) {
        let shift = UInt64(truncatingIfNeeded: (offset & 7) &<< 3)
        let index = offset &>> 3
        mask[index] = (UInt64(littleEndian: mask[index]) & ~(bits &<< shift)).littleEndian
        if shift != 0, bits &>> (64 &- shift) != 0 {
            mask[index &+ 1] = (UInt64(littleEndian: mask[index &+ 1]) & ~(bits &>> (64 &- shift))).littleEndian
        }
    }

    /// The two headers agree wherever the mask says they must: in 32-byte vectors where the CPU
    /// has AVX2 and the headers are `vectorWords` long or more, else in words.
    @inline(__always)
    static func agree(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ mask: UnsafePointer<UInt64>, words: Int) -> Bool {
        #if arch(x86_64)
        if words >= Self.vectorWords, ccpu_has_x86_64_v3() {
            return maskedAgreeV3(a, b, UnsafeRawPointer(mask), bytes: words &<< 3)
        }
        #endif
        return agreeByWords(a, b, mask, words: words)
    }

    /// From this many words on `agree` takes the vectors: a tunnel's headers (96 bytes and
    /// more), where gro-bench's VXLAN rows ran about 10% faster. Plain TCP/IPv4 (66 bytes with
    /// timestamps) was no faster in them (one flow: 3–7% slower), though in fewer instructions:
    /// the call and the third, overlapping vector cost what the wider compare saves.
    static let vectorWords = 12

    /// `agree` in 64-bit words, on any CPU.
    @inline(__always)
    static func agreeByWords(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ mask: UnsafePointer<UInt64>, words: Int) -> Bool {
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
}
