// The parser's short path: the shapes nearly all traffic has, read straight off the bytes.
//
// The full walk (PacketParser.swift) opens every header through its checked view, which is
// general (options, extension headers, every tunnel) and costs some 450 instructions for a
// VXLAN/TCP frame. The short path takes a frame only when every check the full walk would
// make passes, and returns what the walk would return. Anything else (VLAN stacks, IPv4
// options, fragments, IPv6 extension headers, tunnels other than VXLAN and Geneve over
// Ethernet, nested tunnels, STT's port, any malformation) makes it return nil, and the full
// walk decides, errors included. ParserShortPathTests holds it to the walk frame by frame,
// mutated and truncated.

/// The headers the short path read from one Ethernet header on: lengths and kinds, and
/// where the IP packet ends (total or payload length: padding excluded).
@usableFromInline struct CommonHeaders {
    @usableFromInline var l2Length: Int
    @usableFromInline var vlans: UInt8
    @usableFromInline var l3: L3Kind = .none
    @usableFromInline var l3Length: UInt16 = 0
    @usableFromInline var proto: UInt8 = 0
    @usableFromInline var l4: L4Kind = .none
    @usableFromInline var l4Length: UInt16 = 0
    @usableFromInline var end: Int
    @inlinable init(l2Length: Int, vlans: UInt8, end: Int) {
        self.l2Length = l2Length
        self.vlans = vlans
        self.end = end
    }
    /// From the Ethernet header's start to the payload's.
    @inlinable var length: Int { l2Length &+ Int(l3Length) &+ Int(l4Length) }
}

extension PacketLayout {
    /// Ethernet with at most one VLAN tag, then IPv4 without options or fragments or IPv6
    /// without extension headers, then TCP, UDP, ICMP or ICMPv6; over a VXLAN port, or a
    /// Geneve port carrying Ethernet, the same again inside (the inner Ethernet header may
    /// carry any EtherType). nil: ask the full walk.
    @inline(__always)
    static func parseCommon(_ frame: UnsafeRawBufferPointer, tunnels: TunnelPortTable) -> PacketLayout? {
        guard let outer = commonHeaders(frame, at: 0, end: frame.count, tunnels: tunnels), outer.l3 != .none else {
            return nil
        }
        guard outer.l4 == .udp else { return PacketLayout(outer: outer, flags: []) }
        let udp = outer.l2Length &+ Int(outer.l3Length)
        var flags: Flags = frame.be16(udp &+ 6) == 0 ? .outerUDPChecksumZero : []
        guard let entry = tunnels.lookup(destinationPort: frame.be16(udp &+ 2)) else {
            return PacketLayout(outer: outer, flags: flags)
        }
        let tunnel = outer.length
        let space = outer.end &- tunnel
        guard space >= 8 else { return nil }
        var tunnelLength = 8
        switch entry.kind {
        case .vxlan:
            guard frame.u8(tunnel) & 0x08 != 0 else { return nil }
        case .geneve:
            // Version 0, Ethernet inside, options that fill their area exactly.
            let first = frame.u8(tunnel)
            tunnelLength = 8 &+ Int(first & 0x3F) &* 4
            guard first >> 6 == 0, frame.be16(tunnel &+ 2) == EtherType.transparentEthernetBridging,
                tunnelLength <= space
            else { return nil }
            guard let geneveFlags = commonGeneveFlags(frame, at: tunnel, length: tunnelLength) else { return nil }
            flags.formUnion(geneveFlags)
        default:
            return nil
        }
        let innerStart = tunnel &+ tunnelLength
        guard let inner = commonHeaders(frame, at: innerStart, end: outer.end, tunnels: tunnels),
            inner.l4 != .udp
                || tunnels.lookup(destinationPort: frame.be16(innerStart &+ inner.l2Length &+ Int(inner.l3Length) &+ 2)) == nil
        else { return nil }
        return PacketLayout(
            outer: outer, flags: flags, tunnel: entry.kind == .vxlan ? .vxlan : .geneve, at: tunnel,
            length: tunnelLength, inner: inner)
    }

    /// A frame without a tunnel, every field written once (built field by field in a local,
    /// the layout came back through narrow stores and a wide reload: a store-forwarding stall).
    @inline(__always)
    init(outer: CommonHeaders, flags: Flags) {
        outerL2Length = UInt16(truncatingIfNeeded: outer.l2Length)
        outerVLANCount = outer.vlans
        outerL3 = outer.l3
        outerL3Length = outer.l3Length
        outerIPProtocol = outer.proto
        outerL4 = outer.l4
        outerL4Length = outer.l4Length
        payloadLength = UInt32(truncatingIfNeeded: outer.end &- outer.length)
        self.flags = flags
        storedL3Offset = UInt16(truncatingIfNeeded: outer.l2Length)
        storedL4Offset = UInt16(truncatingIfNeeded: outer.l2Length &+ Int(outer.l3Length))
        storedPayloadOffset = UInt16(truncatingIfNeeded: outer.length)
    }

    /// A UDP tunnel frame whose tunnel header (`length` bytes) is at `tunnelStart` and the
    /// inner Ethernet header right after it.
    @inline(__always)
    init(outer: CommonHeaders, flags: Flags, tunnel: TunnelKind, at tunnelStart: Int, length: Int, inner: CommonHeaders) {
        outerL2Length = UInt16(truncatingIfNeeded: outer.l2Length)
        outerVLANCount = outer.vlans
        outerL3 = outer.l3
        outerL3Length = outer.l3Length
        outerIPProtocol = outer.proto
        outerL4 = outer.l4
        outerL4Length = outer.l4Length
        self.tunnel = tunnel
        tunnelLength = UInt16(truncatingIfNeeded: length)
        innerL2Length = UInt16(truncatingIfNeeded: inner.l2Length)
        innerVLANCount = inner.vlans
        innerL3 = inner.l3
        innerL3Length = inner.l3Length
        innerIPProtocol = inner.proto
        innerL4 = inner.l4
        innerL4Length = inner.l4Length
        let start = tunnelStart &+ length
        payloadLength = UInt32(truncatingIfNeeded: inner.end &- start &- inner.length)
        self.flags = flags
        storedL3Offset = UInt16(truncatingIfNeeded: start &+ inner.l2Length)
        storedL4Offset = UInt16(truncatingIfNeeded: start &+ inner.l2Length &+ Int(inner.l3Length))
        storedPayloadOffset = UInt16(truncatingIfNeeded: start &+ inner.length)
    }

    /// The flags a Geneve header of `length` bytes at `start` sets (control, critical
    /// options); nil when its options do not fill their area exactly. Out of line: the loop
    /// would cost the VXLAN path registers.
    @inline(never)
    static func commonGeneveFlags(_ b: UnsafeRawBufferPointer, at start: Int, length: Int) -> Flags? {
        let second = b.u8(start &+ 1)
        var critical = second & 0x40 != 0
        var option = start &+ 8
        let end = start &+ length
        while option < end {
            guard end &- option >= 4 else { return nil }
            critical = critical || b.u8(option &+ 2) & 0x80 != 0
            option &+= 4 &+ Int(b.u8(option &+ 3) & 0x1F) &* 4
            guard option <= end else { return nil }
        }
        var flags: Flags = []
        if second & 0x80 != 0 { flags.insert(.tunnelControl) }
        if critical { flags.insert(.geneveCriticalOption) }
        return flags
    }

    /// Ethernet (no VLAN tag or one), IP and TCP/UDP/ICMP at `start`, within `end`; an
    /// Ethernet header alone when its EtherType is not IP (the walk ends there too). nil for
    /// any other shape, and for STT's port (the walk opens it, or marks it nested). `end` of
    /// the result is the IP packet's.
    @inline(__always)
    static func commonHeaders(
        _ b: UnsafeRawBufferPointer, at start: Int, end: Int, tunnels: TunnelPortTable
    ) -> CommonHeaders? {
        guard end &- start >= 14 else { return nil }
        var type = b.be16(start &+ 12)
        var headers = CommonHeaders(l2Length: 14, vlans: 0, end: end)
        if EtherType.isVLANTag(type) {
            guard end &- start >= 18 else { return nil }
            type = b.be16(start &+ 16)
            guard !EtherType.isVLANTag(type) else { return nil }
            headers.l2Length = 18
            headers.vlans = 1
        }
        let l3 = start &+ headers.l2Length
        let available = end &- l3
        if type == EtherType.ipv4 {
            guard available >= 20, b.u8(l3) == 0x45, b.be16(l3 &+ 6) & 0x3FFF == 0 else { return nil }
            let total = Int(b.be16(l3 &+ 2))
            guard total >= 20, total <= available else { return nil }
            headers.l3 = .ipv4
            headers.l3Length = 20
            headers.proto = b.u8(l3 &+ 9)
            headers.end = l3 &+ total
        } else if type == EtherType.ipv6 {
            guard available >= 40, b.u8(l3) >> 4 == 6 else { return nil }
            let total = 40 &+ Int(b.be16(l3 &+ 4))
            guard total <= available else { return nil }
            headers.l3 = .ipv6
            headers.l3Length = 40
            headers.proto = b.u8(l3 &+ 6)
            headers.end = l3 &+ total
        } else {
            headers.end = end
            return headers
        }
        let l4 = l3 &+ Int(headers.l3Length)
        let rest = headers.end &- l4
        switch headers.proto {
        case IPProtocol.tcp:
            guard rest >= 20 else { return nil }
            let length = Int(b.u8(l4 &+ 12) >> 4) &* 4
            guard length >= 20, length <= rest, !(tunnels.recognizesSTT && b.be16(l4 &+ 2) == STTHeader.tcpPort),
                commonTCPOptionsAreValid(b, at: l4 &+ 20, length &- 20)
            else { return nil }
            headers.l4 = .tcp
            headers.l4Length = UInt16(truncatingIfNeeded: length)
        case IPProtocol.udp:
            guard rest >= 8, Int(b.be16(l4 &+ 4)) == rest else { return nil }
            headers.l4 = .udp
            headers.l4Length = 8
        case IPProtocol.icmp, IPProtocol.icmpv6:
            headers.l4 = .other
        default:
            return nil  // extension headers, GRE, IP in IP, and the rest: the walk's
        }
        return headers
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
