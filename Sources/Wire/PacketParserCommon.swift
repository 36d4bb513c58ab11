// The parser's short path: the shapes nearly all traffic has, their Ethernet, IP and TCP/UDP
// headers read straight off the bytes (the VXLAN and Geneve headers through their views).
//
// The full walk (PacketParser.swift) opens every header through its checked view, which is
// general (options, extension headers, every tunnel) and costs some 450 instructions for a
// VXLAN/TCP frame. The short path takes a frame only when every check the full walk would
// make passes, and makes the layout the walk would make. Anything else (VLAN stacks, IPv4
// options, fragments, IPv6 extension headers, tunnels other than VXLAN and Geneve over
// Ethernet, nested tunnels, STT's port, any malformation) makes it decline, and the full
// walk decides, errors included. ParserShortPathTests holds it to the walk frame by frame,
// mutated and truncated; so does the fuzzer.

extension PacketLayout {
    /// Whether the outer headers may be a common shape, by EtherType and IP protocol alone:
    /// no call to the short path for GRE, IP in IP and the like (a VLAN tag: ask it).
    @inline(__always)
    static func mayTakeShortPath(_ frame: UnsafeRawBufferPointer) -> Bool {
        guard frame.count >= 34 else { return false }
        let type = frame.be16(12)
        let proto = type == EtherType.ipv4 ? frame.u8(23) : type == EtherType.ipv6 ? frame.u8(20) : 0
        return proto == IPProtocol.tcp || proto == IPProtocol.udp || proto == IPProtocol.icmp
            || proto == IPProtocol.icmpv6 || EtherType.isVLANTag(type)
    }

    /// Ethernet with at most one VLAN tag, then IPv4 without options or fragments or IPv6
    /// without extension headers, then TCP, UDP, ICMP or ICMPv6; over a VXLAN port, or a
    /// Geneve port carrying Ethernet, the same again inside (the inner Ethernet header may
    /// carry any EtherType). Written into `layout`, which starts empty (the walk's own value:
    /// returned the walk's way, it costs the walk nothing); false, and `layout` empty again,
    /// when the walk must decide. Out of line: the walk keeps its registers.
    @inline(never)
    static func parseCommon(_ b: UnsafeRawBufferPointer, tunnels: TunnelPortTable, into layout: inout PacketLayout) -> Bool {
        if commonFrame(b, tunnels: tunnels, into: &layout) { return true }
        layout = PacketLayout()
        return false
    }

    @inline(__always)
    static func commonFrame(_ b: UnsafeRawBufferPointer, tunnels: TunnelPortTable, into layout: inout PacketLayout) -> Bool {
        let outerEnd = commonHeaders(b, at: 0, end: b.count, inner: false, tunnels: tunnels, into: &layout)
        guard outerEnd >= 0, layout.outerL3 != .none else { return false }
        let l4 = Int(layout.outerL2Length) &+ Int(layout.outerL3Length)
        if layout.outerL4 != .udp {
            layout.settleCommon(l3: Int(layout.outerL2Length), l4: l4, payload: l4 &+ Int(layout.outerL4Length), end: outerEnd)
            return true
        }
        if b.be16(l4 &+ 6) == 0 { layout.flags.insert(.outerUDPChecksumZero) }
        guard let entry = tunnels.lookup(destinationPort: b.be16(l4 &+ 2)) else {
            layout.settleCommon(l3: Int(layout.outerL2Length), l4: l4, payload: l4 &+ 8, end: outerEnd)
            return true
        }
        // The tunnel header through its view, as the walk opens it.
        let tunnel = l4 &+ 8
        let tunnelLength: Int
        switch entry.kind {
        case .vxlan:
            guard (try? VXLANHeader(b.slice(tunnel, outerEnd &- tunnel))) != nil else { return false }
            layout.tunnel = .vxlan
            tunnelLength = 8
        case .geneve:
            guard let length = commonGeneve(b, at: tunnel, end: outerEnd, into: &layout) else { return false }
            layout.tunnel = .geneve
            tunnelLength = length
        default:
            return false
        }
        layout.tunnelLength = UInt16(truncatingIfNeeded: tunnelLength)
        let inner = tunnel &+ tunnelLength
        let innerEnd = commonHeaders(b, at: inner, end: outerEnd, inner: true, tunnels: tunnels, into: &layout)
        guard innerEnd >= 0 else { return false }
        let l3 = inner &+ Int(layout.innerL2Length)
        let innerL4 = l3 &+ Int(layout.innerL3Length)
        if layout.innerL4 == .udp, tunnels.lookup(destinationPort: b.be16(innerL4 &+ 2)) != nil { return false }
        layout.settleCommon(l3: l3, l4: innerL4, payload: innerL4 &+ Int(layout.innerL4Length), end: innerEnd)
        return true
    }

    /// The payload's length and the innermost offsets (all far below 16 bits here).
    @inline(__always)
    mutating func settleCommon(l3: Int, l4: Int, payload: Int, end: Int) {
        payloadLength = UInt32(truncatingIfNeeded: end &- payload)
        storedL3Offset = UInt16(truncatingIfNeeded: l3)
        storedL4Offset = UInt16(truncatingIfNeeded: l4)
        storedPayloadOffset = UInt16(truncatingIfNeeded: payload)
    }

    /// The Geneve header at `start` (within `end`) when it carries Ethernet: its length, with
    /// its control and critical-option flags set as the walk sets them. Out of line: the
    /// option walk would cost the VXLAN path registers.
    @inline(never)
    static func commonGeneve(_ b: UnsafeRawBufferPointer, at start: Int, end: Int, into layout: inout PacketLayout) -> Int? {
        guard let geneve = try? GeneveHeader(b.slice(start, end &- start)),
            geneve.protocolType == EtherType.transparentEthernetBridging
        else { return nil }
        if geneve.isControl { layout.flags.insert(.tunnelControl) }
        if geneve.hasCriticalOptions || geneve.anyOptionCritical { layout.flags.insert(.geneveCriticalOption) }
        return geneve.headerLength
    }

    /// Ethernet (no VLAN tag or one), IP and TCP/UDP/ICMP at `start` within `end`, into the
    /// outer or inner fields; an Ethernet header alone when its EtherType is not IP (the
    /// walk ends there too). Returns where the IP packet ends (`end` for non-IP), -1 for any
    /// other shape and for STT's port (which the walk opens, or marks nested).
    @inline(__always)
    static func commonHeaders(
        _ b: UnsafeRawBufferPointer, at start: Int, end: Int, inner: Bool, tunnels: TunnelPortTable,
        into layout: inout PacketLayout
    ) -> Int {
        guard end &- start >= 14 else { return -1 }
        var type = b.be16(start &+ 12)
        var l2Length = 14
        if EtherType.isVLANTag(type) {
            guard end &- start >= 18 else { return -1 }
            type = b.be16(start &+ 16)
            guard !EtherType.isVLANTag(type) else { return -1 }
            l2Length = 18
        }
        let vlans: UInt8 = l2Length == 18 ? 1 : 0
        if inner {
            layout.innerL2Length = UInt16(truncatingIfNeeded: l2Length)
            layout.innerVLANCount = vlans
        } else {
            layout.outerL2Length = UInt16(truncatingIfNeeded: l2Length)
            layout.outerVLANCount = vlans
        }
        let l3 = start &+ l2Length
        let available = end &- l3
        let kind: L3Kind
        let l3Length: Int
        let proto: UInt8
        let ipEnd: Int
        if type == EtherType.ipv4 {
            guard available >= 20, b.u8(l3) == 0x45, b.be16(l3 &+ 6) & 0x3FFF == 0 else { return -1 }
            let total = Int(b.be16(l3 &+ 2))
            guard total >= 20, total <= available else { return -1 }
            (kind, l3Length, proto, ipEnd) = (.ipv4, 20, b.u8(l3 &+ 9), l3 &+ total)
        } else if type == EtherType.ipv6 {
            guard available >= 40, b.u8(l3) >> 4 == 6 else { return -1 }
            let total = 40 &+ Int(b.be16(l3 &+ 4))
            guard total <= available else { return -1 }
            (kind, l3Length, proto, ipEnd) = (.ipv6, 40, b.u8(l3 &+ 6), l3 &+ total)
        } else {
            return end
        }
        let l4 = l3 &+ l3Length
        let rest = ipEnd &- l4
        let l4Kind: L4Kind
        var l4Length = 0
        switch proto {
        case IPProtocol.tcp:
            guard rest >= 20 else { return -1 }
            l4Length = Int(b.u8(l4 &+ 12) >> 4) &* 4
            guard l4Length >= 20, l4Length <= rest, !(tunnels.recognizesSTT && b.be16(l4 &+ 2) == STTHeader.tcpPort),
                commonTCPOptionsAreValid(b, at: l4 &+ 20, l4Length &- 20)
            else { return -1 }
            l4Kind = .tcp
        case IPProtocol.udp:
            guard rest >= 8, Int(b.be16(l4 &+ 4)) == rest else { return -1 }
            l4Kind = .udp
            l4Length = 8
        case IPProtocol.icmp, IPProtocol.icmpv6:
            l4Kind = .other
        default:
            return -1  // extension headers, GRE, IP in IP, and the rest: the walk's
        }
        if inner {
            layout.innerL3 = kind
            layout.innerL3Length = UInt16(truncatingIfNeeded: l3Length)
            layout.innerIPProtocol = proto
            layout.innerL4 = l4Kind
            layout.innerL4Length = UInt16(truncatingIfNeeded: l4Length)
        } else {
            layout.outerL3 = kind
            layout.outerL3Length = UInt16(truncatingIfNeeded: l3Length)
            layout.outerIPProtocol = proto
            layout.outerL4 = l4Kind
            layout.outerL4Length = UInt16(truncatingIfNeeded: l4Length)
        }
        return ipEnd
    }

    /// No options, Linux's usual NOP, NOP, timestamps, or any list the walk's check accepts.
    @inline(__always)
    static func commonTCPOptionsAreValid(_ b: UnsafeRawBufferPointer, at start: Int, _ count: Int) -> Bool {
        if count == 0 || (count == 12 && b.be32(start) == 0x0101_080A) { return true }
        do throws(WireError) {
            try TCPOptionIterator.validate(b.slice(start, count))
        } catch {
            return false
        }
        return true
    }
}
