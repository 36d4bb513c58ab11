// PacketLayout.parse: classify a frame into header offsets and kinds.
//
// Every header goes through its view's checked initialiser on a slice that ends where the
// enclosing length field says, so nothing here reads past the frame or past the packet that
// contains it. One tunnel level is parsed; a tunnel inside it is an error.

/// What follows a tunnel header.
@usableFromInline enum InnerStart: UInt8 { case none, ethernet, ipv4, ipv6, gre }

@usableFromInline struct L2Info {
    @usableFromInline var length: Int
    @usableFromInline var vlans: Int
    @usableFromInline var etherType: UInt16
    @inlinable init(length: Int, vlans: Int, etherType: UInt16) {
        self.length = length
        self.vlans = vlans
        self.etherType = etherType
    }
}

@usableFromInline struct L3Info {
    @usableFromInline var kind: L3Kind
    @usableFromInline var headerLength: Int
    @usableFromInline var proto: UInt8
    /// Absolute offset where the IP packet ends (total/payload length, padding excluded).
    @usableFromInline var end: Int
    @usableFromInline var fragment: Bool
    /// A fragment other than the first: it carries no L4 header.
    @usableFromInline var laterFragment: Bool
    @inlinable init(kind: L3Kind, headerLength: Int, proto: UInt8, end: Int, fragment: Bool, laterFragment: Bool) {
        self.kind = kind
        self.headerLength = headerLength
        self.proto = proto
        self.end = end
        self.fragment = fragment
        self.laterFragment = laterFragment
    }
}

extension PacketLayout {
    /// Classifies `frame` (starting with an Ethernet header). UDP tunnels are recognised by
    /// destination port through `tunnels`, STT by TCP port 7471, GRE and IP-in-IP by protocol.
    /// Unknown EtherTypes or protocols end the walk without error; malformed headers throw.
    /// Each return settles the offsets from the final lengths (`settleOffsets`). The common
    /// shapes take a short path first (`parseCommon`) that makes the layout the walk would.
    /// Not `@inlinable`: only Wire may set a layout's fields, so that they cannot disagree.
    public static func parse(_ frame: UnsafeRawBufferPointer, tunnels: TunnelPortTable) throws(WireError) -> PacketLayout {
        try parse(frame, tunnels: tunnels, shortPath: true)
    }

    /// The full walk alone: what the short path is held to (ParserShortPathTests, the fuzzer).
    static func walk(_ frame: UnsafeRawBufferPointer, tunnels: TunnelPortTable) throws(WireError) -> PacketLayout {
        try parse(frame, tunnels: tunnels, shortPath: false)
    }

    @inline(__always)
    static func parse(_ frame: UnsafeRawBufferPointer, tunnels: TunnelPortTable, shortPath: Bool) throws(WireError) -> PacketLayout {
        var layout = PacketLayout()
        // Into the walk's own value, returned the walk's way. A short path returning a value
        // of its own, with the walk called apart, cost the shapes it leaves to the walk a
        // third of their speed: a hundred more instructions copying and merging two results.
        if shortPath, mayTakeShortPath(frame), parseCommon(frame, tunnels: tunnels, into: &layout) { return layout }
        let l2 = try parseL2(frame, at: 0)
        layout.outerL2Length = UInt16(l2.length)
        layout.outerVLANCount = UInt8(l2.vlans)
        guard let l3Kind = l3Kind(etherType: l2.etherType) else {
            layout.payloadLength = UInt32(frame.count - l2.length)
            try layout.settleOffsets()
            return layout
        }
        let l3 = try parseL3(frame, at: l2.length, kind: l3Kind)
        layout.outerL3 = l3.kind
        layout.outerL3Length = try u16(l3.headerLength)
        layout.outerIPProtocol = l3.proto
        if l3.fragment { layout.flags.insert(.outerFragment) }
        let l4Start = l2.length + l3.headerLength
        let ipEnd = l3.end
        let packet = frame.slice(0, ipEnd)  // later slices cannot reach the frame's padding
        if l3.laterFragment {
            layout.payloadLength = UInt32(ipEnd - l4Start)
            try layout.settleOffsets()
            return layout
        }

        var inner = InnerStart.none
        var innerAt = 0
        switch l3.proto {
        case IPProtocol.udp:
            layout.outerL4 = .udp
            layout.outerL4Length = 8
            if l3.fragment {
                // A first fragment: the UDP length counts the whole datagram, not what is here.
                let header = packet.tail(l4Start)
                try requireBytes(header, 8, .udp)
                if header.be16(6) == 0 { layout.flags.insert(.outerUDPChecksumZero) }
                break
            }
            let udp = try UDPHeader(packet.tail(l4Start))
            if udp.checksum == 0 { layout.flags.insert(.outerUDPChecksumZero) }
            guard udp.length == ipEnd - l4Start else {
                throw WireError(.udp, .lengthMismatch, needed: udp.length, available: ipEnd - l4Start)
            }
            guard let entry = tunnels.lookup(destinationPort: udp.destinationPort) else { break }
            (inner, innerAt) = try parseUDPTunnel(packet, at: l4Start + 8, entry: entry, into: &layout)
        case IPProtocol.tcp:
            let tcp = try TCPHeader(packet.tail(l4Start))
            layout.outerL4 = .tcp
            layout.outerL4Length = try u16(tcp.headerLength)
            if tunnels.recognizesSTT, !l3.fragment, tcp.destinationPort == STTHeader.tcpPort {
                (inner, innerAt) = try parseSTT(packet, tcp: tcp, at: l4Start + tcp.headerLength, into: &layout)
            }
        case IPProtocol.gre:
            if l3.fragment { layout.outerL4 = .other; break }
            (inner, innerAt) = try parseGRE(packet, at: l4Start, into: &layout)
        case IPProtocol.ipv4, IPProtocol.ipv6:
            if l3.fragment { layout.outerL4 = .other; break }
            layout.tunnel = .ipInIP
            inner = l3.proto == IPProtocol.ipv4 ? .ipv4 : .ipv6
            innerAt = l4Start
        default:
            layout.outerL4 = .other
        }

        if !layout.isTunnel || inner == .none {
            let end = layout.isTunnel ? layout.innerL2Offset : layout.tunnelOffset
            layout.payloadLength = UInt32(ipEnd - end)
            try layout.settleOffsets()
            return layout
        }
        do throws(WireError) {
            try parseInner(packet, at: innerAt, start: inner, tunnels: tunnels, into: &layout)
            try layout.settleOffsets()  // inner headers that end past 16 bits: an inner error
        } catch {
            var e = error
            e.inner = true
            throw e
        }
        return layout
    }

    @inlinable static func u16(_ v: Int) throws(WireError) -> UInt16 {
        guard v <= 0xFFFF else { throw WireError(.tunnel, .headersTooLong, needed: v, available: 0xFFFF) }
        return UInt16(v)
    }

    @inlinable static func l3Kind(etherType: UInt16) -> L3Kind? {
        switch etherType {
        case EtherType.ipv4: .ipv4
        case EtherType.ipv6: .ipv6
        default: nil
        }
    }

    /// Ethernet plus at most two VLAN tags (802.1Q, or QinQ S-tag then C-tag).
    @inlinable @inline(__always) static func parseL2(_ b: UnsafeRawBufferPointer, at start: Int) throws(WireError) -> L2Info {
        guard start + 14 <= b.count else { throw WireError(.ethernet, .truncated, needed: 14, available: b.count - start) }
        var type = b.be16(start + 12)
        var at = start + 14
        var vlans = 0
        while EtherType.isVLANTag(type) {
            guard vlans < 2 else { throw WireError(.vlan, .tooManyTags) }
            guard at + 4 <= b.count else { throw WireError(.vlan, .truncated, needed: 4, available: b.count - at) }
            type = b.be16(at + 2)
            at += 4
            vlans += 1
        }
        return L2Info(length: at - start, vlans: vlans, etherType: type)
    }

    @inlinable @inline(__always) static func parseL3(_ b: UnsafeRawBufferPointer, at start: Int, kind: L3Kind) throws(WireError) -> L3Info {
        if kind == .ipv4 {
            let ip = try IPv4Header(b.tail(start))
            let later = ip.fragmentOffset != 0
            return L3Info(
                kind: .ipv4, headerLength: ip.headerLength, proto: ip.protocol, end: start + ip.totalLength,
                fragment: ip.isFragment, laterFragment: later)
        }
        let ip = try IPv6Header(b.tail(start))
        let chain = try IPv6ExtensionChain.walk(ip.payload, firstNextHeader: ip.nextHeader)
        return L3Info(
            kind: .ipv6, headerLength: 40 + chain.length, proto: chain.upperLayerProtocol,
            end: start + 40 + ip.payloadLength, fragment: chain.isFragment,
            laterFragment: chain.fragmentOffset != 0)
    }

    @inline(__always) static func parseUDPTunnel(
        _ b: UnsafeRawBufferPointer, at start: Int, entry: (kind: UDPTunnelKind, fouProtocol: UInt8),
        into layout: inout PacketLayout
    ) throws(WireError) -> (InnerStart, Int) {
        let rest = b.tail(start)
        switch entry.kind {
        case .vxlan:
            _ = try VXLANHeader(rest)
            layout.tunnel = .vxlan
            layout.tunnelLength = 8
            return (.ethernet, start + 8)
        case .vxlanGPE:
            let gpe = try VXLANGPEHeader(rest)
            layout.tunnel = .vxlanGPE
            layout.tunnelLength = 8
            if gpe.isOAM { layout.flags.insert(.tunnelControl) }
            switch gpe.nextProtocol {
            case VXLANGPENextProtocol.ethernet: return (.ethernet, start + 8)
            case VXLANGPENextProtocol.ipv4: return (.ipv4, start + 8)
            case VXLANGPENextProtocol.ipv6: return (.ipv6, start + 8)
            default: return (.none, start + 8)
            }
        case .geneve:
            let g = try GeneveHeader(rest)
            layout.tunnel = .geneve
            layout.tunnelLength = UInt16(g.headerLength)
            if g.isControl { layout.flags.insert(.tunnelControl) }
            if g.hasCriticalOptions || g.anyOptionCritical { layout.flags.insert(.geneveCriticalOption) }
            return (innerStart(etherType: g.protocolType), start + g.headerLength)
        case .gue:
            let g = try GUEHeader(rest)
            layout.tunnel = .gue
            layout.tunnelLength = UInt16(g.headerLength)
            if g.isControl {
                layout.flags.insert(.tunnelControl)
                return (.none, start + g.headerLength)
            }
            return (innerStart(ipProtocol: g.payloadProtocol ?? 0), start + g.headerLength)
        case .fou:
            layout.tunnel = .fou
            return (innerStart(ipProtocol: entry.fouProtocol), start)
        }
    }

    @inlinable static func innerStart(etherType: UInt16) -> InnerStart {
        switch etherType {
        case EtherType.transparentEthernetBridging: .ethernet
        case EtherType.ipv4: .ipv4
        case EtherType.ipv6: .ipv6
        default: .none
        }
    }

    @inlinable static func innerStart(ipProtocol: UInt8) -> InnerStart {
        switch ipProtocol {
        case IPProtocol.ipv4: .ipv4
        case IPProtocol.ipv6: .ipv6
        case IPProtocol.gre: .gre
        default: .none
        }
    }

    static func parseGRE(
        _ b: UnsafeRawBufferPointer, at start: Int, into layout: inout PacketLayout
    ) throws(WireError) -> (InnerStart, Int) {
        let gre = try GREHeader(b.tail(start))
        layout.tunnel = gre.isNVGRE ? .nvgre : .gre
        layout.tunnelLength = UInt16(gre.headerLength)
        return (innerStart(etherType: gre.protocolType), start + gre.headerLength)
    }

    static func parseSTT(
        _ b: UnsafeRawBufferPointer, tcp: TCPHeader, at start: Int, into layout: inout PacketLayout
    ) throws(WireError) -> (InnerStart, Int) {
        layout.tunnel = .stt
        let segment = b.count - start
        let seq = tcp.sequenceNumber
        if STTHeader.fragmentOffset(sequenceNumber: seq) != 0 {
            layout.flags.insert(.sttFragment)  // a continuation: no STT header here
            return (.none, start)
        }
        _ = try STTHeader(b.tail(start))
        layout.tunnelLength = 18
        let frameLength = STTHeader.frameLength(sequenceNumber: seq)
        if frameLength > segment {
            layout.flags.insert(.sttFragment)  // first of several segments: inner frame incomplete
            return (.none, start + 18)
        }
        guard frameLength == segment else {
            throw WireError(.stt, .lengthMismatch, needed: frameLength, available: segment)
        }
        return (.ethernet, start + 18)
    }

    /// Inner L2 (optional), L3 and L4 inside `b`, which ends where the outer packet ends.
    static func parseInner(
        _ b: UnsafeRawBufferPointer, at start: Int, start kind: InnerStart, tunnels: TunnelPortTable,
        into layout: inout PacketLayout
    ) throws(WireError) {
        var at = start
        var l3Kind: L3Kind
        switch kind {
        case .gre:  // GRE over FOU/GUE: the GRE header extends the tunnel header
            let gre = try GREHeader(b.tail(at))
            layout.tunnelLength = try u16(Int(layout.tunnelLength) + gre.headerLength)
            layout.flags.insert(.greOverUDP)
            at += gre.headerLength
            switch innerStart(etherType: gre.protocolType) {
            case .ethernet: try parseInner(b, at: at, start: .ethernet, tunnels: tunnels, into: &layout); return
            case .ipv4: l3Kind = .ipv4
            case .ipv6: l3Kind = .ipv6
            default:
                layout.payloadLength = UInt32(b.count - at)
                return
            }
        case .ethernet:
            let l2 = try parseL2(b, at: at)
            layout.innerL2Length = UInt16(l2.length)
            layout.innerVLANCount = UInt8(l2.vlans)
            at += l2.length
            guard let k = Self.l3Kind(etherType: l2.etherType) else {
                layout.payloadLength = UInt32(b.count - at)
                return
            }
            l3Kind = k
        case .ipv4: l3Kind = .ipv4
        case .ipv6: l3Kind = .ipv6
        case .none:
            layout.payloadLength = UInt32(b.count - at)
            return
        }
        let l3 = try parseL3(b, at: at, kind: l3Kind)
        layout.innerL3 = l3.kind
        layout.innerL3Length = try u16(l3.headerLength)
        layout.innerIPProtocol = l3.proto
        if l3.fragment { layout.flags.insert(.innerFragment) }
        let l4Start = at + l3.headerLength
        let packet = b.slice(0, l3.end)
        var l4Length = 0
        if !l3.laterFragment {
            switch l3.proto {
            case IPProtocol.udp:
                // A first fragment holds the header but not the `length` bytes it announces.
                try requireBytes(packet.tail(l4Start), 8, .udp)
                if !l3.fragment {
                    let udp = try UDPHeader(packet.tail(l4Start))
                    guard udp.length == l3.end - l4Start else {
                        throw WireError(.udp, .lengthMismatch, needed: udp.length, available: l3.end - l4Start)
                    }
                    if tunnels.lookup(destinationPort: udp.destinationPort) != nil { layout.flags.insert(.nestedTunnel) }
                }
                layout.innerL4 = .udp
                l4Length = 8
            case IPProtocol.tcp:
                let tcp = try TCPHeader(packet.tail(l4Start))
                if tunnels.recognizesSTT, tcp.destinationPort == STTHeader.tcpPort { layout.flags.insert(.nestedTunnel) }
                layout.innerL4 = .tcp
                l4Length = tcp.headerLength
            case IPProtocol.gre, IPProtocol.ipv4, IPProtocol.ipv6:
                // Carried, not opened: one level of tunnel is parsed.
                layout.flags.insert(.nestedTunnel)
                layout.innerL4 = .other
            default:
                layout.innerL4 = .other
            }
        }
        layout.innerL4Length = try u16(l4Length)
        layout.payloadLength = UInt32(l3.end - l4Start - l4Length)
    }
}
