import Wire

// Per-segment header fields, written into a segment's copy of the input's headers: innermost
// first, because each outer checksum covers what is inside it.

extension SegmentHeaders {
    /// TCP or USO segment `index` of `count`, carrying `payloadLength` bytes whose sum is
    /// `payloadSum` (used only when Swift computes the inner L4 checksum).
    @inline(__always)
    func patchSegment(_ h: UnsafeMutableRawPointer, index: Int, count: Int, payloadLength: Int, payloadSum: UInt16) {
        let frameLength = payloadOffset + payloadLength
        let l4SegmentLength = l4Length + payloadLength
        let pseudo = onesAdd(innerPseudoSum, UInt16(truncatingIfNeeded: l4SegmentLength))
        if transport == .tcp {
            h.setBE32(l4Offset + 4, sequence &+ UInt32(truncatingIfNeeded: index &* segmentSize))
            var flags = tcpFlags
            if index != 0 { flags &= ~TCPFlags.cwr.rawValue }
            if index != count - 1 { flags &= ~(TCPFlags.psh.rawValue | TCPFlags.fin.rawValue) }
            h.setU8(l4Offset + 13, flags)
            fillL4Checksum(h, at: l4Offset + 16, pseudo: pseudo, payloadSum: payloadSum, isUDP: false)
        } else {
            h.setBE16(l4Offset + 4, UInt16(truncatingIfNeeded: l4SegmentLength))
            fillL4Checksum(h, at: l4Offset + 6, pseudo: pseudo, payloadSum: payloadSum, isUDP: true)
        }
        writeInnerL3(h, frameLength: frameLength, index: index)
        // The inner L4 segment now sums to ~pseudo: it is right, or the port will make it so.
        // Outer checksums therefore need not read the payload (Linux's local checksum offload).
        finishOuter(h, frameLength: frameLength, index: index, tailOffset: l4Offset, tailSum: ~pseudo)
    }

    /// UFO fragment `index` of `count`: `dataLength` bytes of the datagram (the first one's
    /// count its UDP header) at `fragmentOffset`; `payloadSum` sums its payload bytes. The
    /// first fragment's UDP checksum needs the whole datagram: `finishFirstFragment` does it.
    @inline(__always)
    func patchFragment(
        _ h: UnsafeMutableRawPointer, index: Int, count: Int, fragmentOffset: Int, dataLength: Int,
        payloadSum: UInt16, fragmentID: UInt32
    ) {
        let l4 = outputL4Offset
        let frameLength = l4 + dataLength
        let more = index != count - 1
        if l3IsIPv4 {
            h.setBE16(l3Offset + 2, UInt16(truncatingIfNeeded: frameLength - l3Offset))
            h.setBE16(l3Offset + 4, innerID)  // fragments of one datagram share its ID
            h.setBE16(l3Offset + 6, (more ? 0x2000 : 0) | UInt16(truncatingIfNeeded: fragmentOffset >> 3))
            fillIPv4Checksum(h, at: l3Offset, length: l3Length, software: innerIPv4Software)
        } else {
            h.setBE16(l3Offset + 4, UInt16(truncatingIfNeeded: frameLength - l3Offset - 40))
            h.setU8(l3Offset + 6, IPProtocol.ipv6Fragment)
            let fragment = l3Offset + 40  // RFC 8200 §4.5: next header, reserved, offset|M, ID
            h.setU8(fragment, IPProtocol.udp)
            h.setU8(fragment + 1, 0)
            h.setBE16(fragment + 2, UInt16(truncatingIfNeeded: fragmentOffset) | (more ? 1 : 0))
            h.setBE32(fragment + 4, fragmentID)
        }
        if index != 0 {
            finishOuter(h, frameLength: frameLength, index: index, tailOffset: l4, tailSum: payloadSum)
        }
    }

    /// The first fragment's UDP header (length and checksum of the whole datagram), then its
    /// outer headers, once every payload byte has been summed.
    func finishFirstFragment(_ h: UnsafeMutableRawPointer, dataLength: Int, datagramSum: UInt16, payloadSum: UInt16) {
        let l4 = outputL4Offset
        let udpLength = 8 + payloadLength
        h.setBE16(l4 + 4, UInt16(truncatingIfNeeded: udpLength))
        h.setBE16(l4 + 6, 0)
        let header = h.internetSum(l4, 8)
        let pseudo = onesAdd(innerPseudoSum, UInt16(truncatingIfNeeded: udpLength))
        h.setBE16(l4 + 6, InternetChecksum.udpField(~onesAdd(onesAdd(pseudo, header), datagramSum)))
        let tail = onesAdd(h.internetSum(l4, 8), payloadSum)
        finishOuter(h, frameLength: l4 + dataLength, index: 0, tailOffset: l4, tailSum: tail)
    }

    @inline(__always)
    func fillL4Checksum(_ h: UnsafeMutableRawPointer, at field: Int, pseudo: UInt16, payloadSum: UInt16, isUDP: Bool) {
        guard innerL4Software else {
            h.setBE16(field, pseudo)  // what a port's L4 checksum offload starts from
            return
        }
        h.setBE16(field, 0)
        // The L4 header length is even, so the payload's sum lines up as it is.
        let sum = onesAdd(onesAdd(pseudo, h.internetSum(l4Offset, l4Length)), payloadSum)
        h.setBE16(field, isUDP ? InternetChecksum.udpField(~sum) : ~sum)
    }

    @inline(__always)
    func writeInnerL3(_ h: UnsafeMutableRawPointer, frameLength: Int, index: Int) {
        if l3IsIPv4 {
            h.setBE16(l3Offset + 2, UInt16(truncatingIfNeeded: frameLength - l3Offset))
            h.setBE16(l3Offset + 4, id(innerID, step: innerIDStep, index: index))
            fillIPv4Checksum(h, at: l3Offset, length: l3Length, software: innerIPv4Software)
        } else {
            h.setBE16(l3Offset + 4, UInt16(truncatingIfNeeded: frameLength - l3Offset - 40))
        }
    }

    @inline(__always)
    func fillIPv4Checksum(_ h: UnsafeMutableRawPointer, at offset: Int, length: Int, software: Bool) {
        h.setBE16(offset + 10, 0)
        if software { h.setBE16(offset + 10, ~h.internetSum(offset, length)) }
    }

    /// GRE checksum, outer UDP, outer IP. Bytes from `tailOffset` to the frame's end are not
    /// read: their sum is `tailSum`.
    @inline(__always)
    func finishOuter(_ h: UnsafeMutableRawPointer, frameLength: Int, index: Int, tailOffset: Int, tailSum: UInt16) {
        // Outer checksums cover the inner IPv4 header as it will leave: if the port is to fill
        // its checksum, put that value in while summing.
        let innerIPv4ByPort = l3IsIPv4 && !innerIPv4Software && (greOffset >= 0 || outerUDP == .software)
        if innerIPv4ByPort { h.setBE16(l3Offset + 10, ~h.internetSum(l3Offset, l3Length)) }
        defer { if innerIPv4ByPort { h.setBE16(l3Offset + 10, 0) } }
        if greOffset >= 0 {  // RFC 2784: GRE header and payload, no pseudo-header
            h.setBE16(greOffset + 4, 0)
            let span = tailOffset - greOffset
            h.setBE16(greOffset + 4, ~onesAdd(h.internetSum(greOffset, span), aligned(tailSum, atOffset: span)))
        }
        guard outerL3Offset >= 0 else { return }
        if outerUDPOffset >= 0 {
            let udp = outerUDPOffset
            let udpLength = frameLength - udp
            h.setBE16(udp + 4, UInt16(truncatingIfNeeded: udpLength))
            switch outerUDP {
            case .software:
                h.setBE16(udp + 6, 0)
                let span = tailOffset - udp
                let pseudo = onesAdd(outerPseudoSum, UInt16(truncatingIfNeeded: udpLength))
                let sum = onesAdd(onesAdd(pseudo, h.internetSum(udp, span)), aligned(tailSum, atOffset: span))
                h.setBE16(udp + 6, InternetChecksum.udpField(~sum))
            case .hardware:
                h.setBE16(udp + 6, onesAdd(outerPseudoSum, UInt16(truncatingIfNeeded: udpLength)))
            case .zero, .none:
                h.setBE16(udp + 6, 0)
            }
        }
        if outerIsIPv4 {
            h.setBE16(outerL3Offset + 2, UInt16(truncatingIfNeeded: frameLength - outerL3Offset))
            h.setBE16(outerL3Offset + 4, id(outerID, step: outerIDStep, index: index))
            fillIPv4Checksum(h, at: outerL3Offset, length: outerL3Length, software: outerIPv4Software)
        } else {
            h.setBE16(outerL3Offset + 4, UInt16(truncatingIfNeeded: frameLength - outerL3Offset - 40))
        }
    }
}
