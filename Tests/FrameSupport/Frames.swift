import Wire

/// Addresses of one IP layer and its pseudo-header.
public struct Endpoints: Sendable {
    public var v6: Bool
    public var src4: IPv4Address, dst4: IPv4Address
    public var src6: IPv6Address, dst6: IPv6Address

    public init(
        v6: Bool, src4: IPv4Address = IPv4Address(192, 0, 2, 1), dst4: IPv4Address = IPv4Address(192, 0, 2, 2),
        src6: IPv6Address = IPv6Address(high: 0x2001_0DB8_0000_0000, low: 1),
        dst6: IPv6Address = IPv6Address(high: 0x2001_0DB8_0000_0000, low: 2)
    ) {
        self.v6 = v6
        self.src4 = src4
        self.dst4 = dst4
        self.src6 = src6
        self.dst6 = dst6
    }

    public static func outer(v6: Bool) -> Endpoints { Endpoints(v6: v6) }
    public static func inner(v6: Bool) -> Endpoints {
        Endpoints(
            v6: v6, src4: IPv4Address(10, 0, 0, 1), dst4: IPv4Address(10, 0, 0, 2),
            src6: IPv6Address(high: 0xFD00_0000_0000_0000, low: 1), dst6: IPv6Address(high: 0xFD00_0000_0000_0000, low: 2))
    }

    public func pseudoHeaderSum(_ proto: UInt8, length: Int) -> UInt16 {
        v6 ? InternetChecksum.pseudoHeaderSum(source: src6, destination: dst6, nextHeader: proto, length: length)
            : InternetChecksum.pseudoHeaderSum(source: src4, destination: dst4, protocol: proto, length: length)
    }
}

/// Test frames built with Wire's own builders, for every test target (Wire's tests need no
/// DPDK; TestSupport adds mbufs): tunnel frames of every kind, and numbered UDP frames whose
/// payload carries a sequence number. Oracles (tshark, scapy) check them independently.
public enum Frames {
    public static let macA = EthernetAddress(0x02_00_00_00_00_01)
    public static let macB = EthernetAddress(0x02_00_00_00_00_02)

    public static func emit(_ size: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> Void) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: size)
        bytes.withUnsafeMutableBytes { try! body($0) }
        return bytes
    }

    public static func payload(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) } }

    /// A TCP segment (timestamps option, as Linux data segments carry) or UDP datagram,
    /// checksum filled.
    public static func transport(_ l4: L4Kind, _ ep: Endpoints, sport: UInt16, dport: UInt16, body: [UInt8],
                          seq: UInt32 = 1000, tcpOptions: Bool = true, checksum: Bool = true) -> [UInt8] {
        if l4 == .udp {
            var seg = emit(8) { try UDPFields(sourcePort: sport, destinationPort: dport).emit(into: $0, payloadLength: body.count) }
            seg += body
            if checksum {
                seg.withUnsafeMutableBytes { b in
                    try! MutableUDPHeader(b).fillChecksum(pseudoHeaderSum: ep.pseudoHeaderSum(IPProtocol.udp, length: b.count))
                }
            }
            return seg
        }
        var fields = TCPFields(sourcePort: sport, destinationPort: dport, sequenceNumber: seq, acknowledgmentNumber: 1,
                               flags: [.ack, .psh], window: 500)
        if tcpOptions {
            var o = TCPOptions()
            o.timestamps = (value: 100, echoReply: 200)
            fields.options = o.encode()
        }
        var seg = emit(fields.headerLength) { try fields.emit(into: $0) }
        seg += body
        seg.withUnsafeMutableBytes { b in
            try! MutableTCPHeader(b).fillChecksum(pseudoHeaderSum: ep.pseudoHeaderSum(IPProtocol.tcp, length: b.count))
        }
        return seg
    }

    public static func ip(_ ep: Endpoints, proto: UInt8, identification: UInt16 = 7, body: [UInt8]) -> [UInt8] {
        if ep.v6 {
            let f = IPv6Fields(nextHeader: proto, sourceAddress: ep.src6, destinationAddress: ep.dst6)
            return emit(40) { try f.emit(into: $0, payloadLength: body.count) } + body
        }
        let f = IPv4Fields(protocol: proto, sourceAddress: ep.src4, destinationAddress: ep.dst4, identification: identification)
        return emit(20) { try f.emit(into: $0, payloadLength: body.count) } + body
    }

    public static func ethernet(
        _ etherType: UInt16, vlans: [UInt16] = [], destination: EthernetAddress = macB, source: EthernetAddress = macA, body: [UInt8]
    ) -> [UInt8] {
        let tpids = vlans.count == 2 ? [EtherType.qinq, EtherType.vlan] : [EtherType.vlan]
        var out = emit(14) {
            try EthernetFields(destination: destination, source: source, etherType: vlans.isEmpty ? etherType : tpids[0]).emit(into: $0)
        }
        for (i, vid) in vlans.enumerated() {
            let next = i + 1 < vlans.count ? tpids[i + 1] : etherType
            out += emit(4) { try VLANFields(vlanID: vid, etherType: next).emit(into: $0) }
        }
        return out + body
    }

    public static func etherType(_ ep: Endpoints) -> UInt16 { ep.v6 ? EtherType.ipv6 : EtherType.ipv4 }

    /// The inner IP packet every tunnel test carries.
    public static func innerPacket(_ inner: Endpoints, _ l4: L4Kind, payloadLength: Int) -> [UInt8] {
        let proto = l4 == .tcp ? IPProtocol.tcp : IPProtocol.udp
        return ip(inner, proto: proto, body: transport(l4, inner, sport: 33000, dport: 80, body: payload(payloadLength)))
    }

    /// UDP ports the test table maps (the fuzzer uses the same ones).
    public static let guePort: UInt16 = 6080
    public static let fouIPv4Port: UInt16 = 5555
    public static let fouIPv6Port: UInt16 = 5556

    public static var table: TunnelPortTable {
        var t = TunnelPortTable.defaults
        try! t.add(port: 8472, kind: .vxlan)
        try! t.add(port: guePort, kind: .gue)
        try! t.add(port: fouIPv4Port, kind: .fou, fouProtocol: IPProtocol.ipv4)
        try! t.add(port: fouIPv6Port, kind: .fou, fouProtocol: IPProtocol.ipv6)
        return t
    }

    public static let geneveOption = GeneveOptionFields(optionClass: 0x0102, type: 0x01, data: [0, 0, 0, 7])

    /// A whole frame: `tunnel` carrying (inner VLANs +) inner IP + `l4` + payload, over outer
    /// IP, VLAN tags and Ethernet. Every checksum is filled, outer UDP's included.
    public static func frame(_ tunnel: TunnelKind, outer: Endpoints, inner: Endpoints, l4: L4Kind,
                      vlans: [UInt16] = [], innerVLANs: [UInt16] = [], payloadLength: Int = 100) -> [UInt8] {
        let innerIP = innerPacket(inner, l4, payloadLength: payloadLength)
        if tunnel == .none {
            return ethernet(etherType(inner), vlans: vlans, body: innerIP)
        }
        let innerFrame = ethernet(etherType(inner), vlans: innerVLANs, body: innerIP)
        let innerProto = inner.v6 ? IPProtocol.ipv6 : IPProtocol.ipv4
        func udp(_ dport: UInt16, _ body: [UInt8]) -> [UInt8] {
            ip(outer, proto: IPProtocol.udp, body: transport(.udp, outer, sport: 49152, dport: dport, body: body))
        }
        let outerIP: [UInt8]
        switch tunnel {
        case .vxlan:
            outerIP = udp(4789, emit(8) { try VXLANFields(vni: 42).emit(into: $0) } + innerFrame)
        case .vxlanGPE:
            outerIP = udp(4790, emit(8) { try VXLANGPEFields(vni: 43, nextProtocol: VXLANGPENextProtocol.ethernet).emit(into: $0) } + innerFrame)
        case .geneve:
            let opt = emit(geneveOption.length) { try geneveOption.emit(into: $0) }
            let hdr = emit(8 + opt.count) { b in opt.withUnsafeBytes { o in _ = try! GeneveFields(vni: 44).emit(into: b, options: o) } }
            outerIP = udp(6081, hdr + innerFrame)
        case .gre:
            let g = GREFields(protocolType: etherType(inner), key: 7, sequenceNumber: 9, checksumPresent: true)
            var body = emit(g.headerLength) { try g.emit(into: $0) } + innerIP
            body.withUnsafeMutableBytes { GREFields.fillChecksum($0) }
            outerIP = ip(outer, proto: IPProtocol.gre, body: body)
        case .nvgre:
            let g = GREFields.nvgre(virtualSubnetID: 0x123456, flowID: 0x9A)
            outerIP = ip(outer, proto: IPProtocol.gre, body: emit(8) { try g.emit(into: $0) } + innerFrame)
        case .gue:
            let g = GUEFields(protocolNumber: innerProto, remoteChecksumStart: 20, remoteChecksumOffset: 16)
            outerIP = udp(guePort, emit(g.headerLength) { try g.emit(into: $0) } + innerIP)
        case .fou:
            outerIP = udp(inner.v6 ? fouIPv6Port : fouIPv4Port, innerIP)
        case .ipInIP:
            outerIP = ip(outer, proto: innerProto, body: innerIP)
        case .stt:
            let stt = STTFields(contextID: 0x1122_3344_5566_7788, flags: [.ipv4, .tcpPayload], l4Offset: 34,
                                maximumSegmentSize: 1400)
            let sttFrame = emit(18) { try stt.emit(into: $0) } + innerFrame
            let seq = STTHeader.sequenceNumber(frameLength: sttFrame.count, fragmentOffset: 0)
            outerIP = ip(outer, proto: IPProtocol.tcp,
                         body: transport(.tcp, outer, sport: 50000, dport: 7471, body: sttFrame, seq: seq, tcpOptions: false))
        case .none:
            fatalError("handled above")
        }
        return ethernet(etherType(outer), vlans: vlans, body: outerIP)
    }

    // MARK: numbered frames

    /// Addresses of the numbered frames: 10.0.0.1 -> 10.0.0.2, UDP 12345 -> 4789.
    public static let numbered = Endpoints(v6: false, src4: IPv4Address(10, 0, 0, 1), dst4: IPv4Address(10, 0, 0, 2))

    /// An Ethernet/IPv4/UDP frame of `length` bytes (at least 46) whose payload starts with
    /// `sequence` (big endian) followed by bytes that depend on it; IPv4 header checksum filled,
    /// UDP checksum 0 (none).
    public static func udp(sequence: UInt32, length: Int = 64) -> [UInt8] {
        precondition(length >= 46)
        var body = [UInt8](repeating: 0, count: length - 42)
        withUnsafeBytes(of: sequence.bigEndian) { body[0..<4] = ArraySlice($0) }
        for index in 4..<body.count { body[index] = UInt8(truncatingIfNeeded: 42 + index &+ Int(sequence)) }
        let datagram = transport(.udp, numbered, sport: 12345, dport: 4789, body: body, checksum: false)
        return ethernet(
            EtherType.ipv4, destination: EthernetAddress(0x02_AA_00_00_00_01), source: EthernetAddress(0x02_BB_00_00_00_02),
            body: ip(numbered, proto: IPProtocol.udp, identification: 1, body: datagram))
    }

    /// The sequence number `udp(sequence:length:)` wrote.
    public static func sequence(of frame: [UInt8]) -> UInt32 {
        frame[42..<46].reduce(0) { $0 << 8 | UInt32($1) }
    }
}
