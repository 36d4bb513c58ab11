import Foundation
import Wire

/// One super-frame to cut: a tunnel kind (or none), outer and inner IP versions, TCP or UDP,
/// and tens of KB of payload. Built with Wire's builders; the oracles never see this code.
struct SuperFrameSpec: CustomStringConvertible {
    var tunnel: TunnelKind
    var outerV6 = false
    var innerV6 = false
    var udp = false
    var payloadLength = 40_000
    var tcpFlags: TCPFlags = [.ack, .psh]
    var innerID: UInt16 = 0x1000
    var outerID: UInt16 = 0x2000
    var dontFragment = true
    var vlan: UInt16? = nil
    /// Seed of the payload bytes, so each case's payload differs.
    var seed: UInt32 = 1

    var description: String {
        let kind = tunnel == .none ? "plain" : "\(tunnel)"
        return "\(kind) outer=\(outerV6 ? "v6" : "v4") inner=\(innerV6 ? "v6" : "v4") \(udp ? "udp" : "tcp") payload=\(payloadLength)"
    }

    /// Wire kinds with an outer header (none is a plain packet: only the "inner" one).
    static let tunnels: [TunnelKind] = [.vxlan, .vxlanGPE, .geneve, .gre, .nvgre, .ipInIP, .fou, .gue]

    static let guePort: UInt16 = 6080
    static let fouIPv4Port: UInt16 = 5555
    static let fouIPv6Port: UInt16 = 5556
    static let tcpSequence: UInt32 = 0xFFFF_0000  // wraps during the flow
    static let greKey: UInt32 = 0xA1B2_C3D4
    static let geneveOptions: [UInt8] = [0x01, 0x02, 0x80, 0x01, 0, 0, 0, 7, 0x01, 0x03, 0x05, 0x02, 1, 2, 3, 4, 5, 6, 7, 8]

    static var portTable: TunnelPortTable {
        var t = TunnelPortTable.defaults
        try! t.add(port: guePort, kind: .gue)
        try! t.add(port: fouIPv4Port, kind: .fou, fouProtocol: IPProtocol.ipv4)
        try! t.add(port: fouIPv6Port, kind: .fou, fouProtocol: IPProtocol.ipv6)
        return t
    }

    func payload() -> [UInt8] {
        var state = seed &* 2_654_435_761 &+ 12345
        return (0..<payloadLength).map { _ in
            state = state &* 1_103_515_245 &+ 12345
            return UInt8(truncatingIfNeeded: state >> 16)
        }
    }

    var innerEndpoints: Endpoints {
        Endpoints(v6: innerV6, src4: IPv4Address(10, 0, 0, 1), dst4: IPv4Address(10, 0, 0, 2),
                  src6: IPv6Address(high: 0xFD00_0000_0000_0000, low: 1), dst6: IPv6Address(high: 0xFD00_0000_0000_0000, low: 2))
    }
    var outerEndpoints: Endpoints { Endpoints(v6: outerV6) }

    /// The frame, every length describing the whole super-frame and every checksum filled
    /// (the segmenter must recompute them, not trust them).
    func build() -> [UInt8] {
        let inner = innerEndpoints
        let innerIP = Build.ip(inner, proto: udp ? IPProtocol.udp : IPProtocol.tcp, id: innerID, df: dontFragment,
                               body: Build.transport(udp: udp, inner, body: payload(), flags: tcpFlags))
        if tunnel == .none { return Build.ethernet(Build.etherType(inner), vlan: vlan, body: innerIP) }
        let innerFrame = Build.ethernet(Build.etherType(inner), vlan: nil, body: innerIP)
        let outer = outerEndpoints
        let innerProto = innerV6 ? IPProtocol.ipv6 : IPProtocol.ipv4
        func overUDP(_ port: UInt16, _ body: [UInt8]) -> [UInt8] {
            Build.ip(outer, proto: IPProtocol.udp, id: outerID, df: true,
                     body: Build.udpDatagram(outer, sport: 49152, dport: port, body: body))
        }
        let outerIP: [UInt8]
        switch tunnel {
        case .vxlan:
            outerIP = overUDP(4789, Build.emit(8) { try VXLANFields(vni: 42).emit(into: $0) } + innerFrame)
        case .vxlanGPE:
            outerIP = overUDP(4790, Build.emit(8) { try VXLANGPEFields(vni: 43, nextProtocol: VXLANGPENextProtocol.ethernet).emit(into: $0) } + innerFrame)
        case .geneve:
            let header = Build.emit(8 + Self.geneveOptions.count) { b in
                try Self.geneveOptions.withUnsafeBytes { o in _ = try GeneveFields(vni: 44).emit(into: b, options: o) }
            }
            outerIP = overUDP(6081, header + innerFrame)
        case .gre:
            let g = GREFields(protocolType: Build.etherType(inner), key: Self.greKey, sequenceNumber: 9, checksumPresent: true)
            var body = Build.emit(g.headerLength) { try g.emit(into: $0) } + innerIP
            body.withUnsafeMutableBytes { GREFields.fillChecksum($0) }
            outerIP = Build.ip(outer, proto: IPProtocol.gre, id: outerID, df: true, body: body)
        case .nvgre:
            let g = GREFields.nvgre(virtualSubnetID: 0x123456, flowID: 0x9A)
            outerIP = Build.ip(outer, proto: IPProtocol.gre, id: outerID, df: true, body: Build.emit(8) { try g.emit(into: $0) } + innerFrame)
        case .gue:
            let g = GUEFields(protocolNumber: innerProto)
            outerIP = overUDP(Self.guePort, Build.emit(g.headerLength) { try g.emit(into: $0) } + innerIP)
        case .fou:
            outerIP = overUDP(innerV6 ? Self.fouIPv6Port : Self.fouIPv4Port, innerIP)
        case .ipInIP:
            outerIP = Build.ip(outer, proto: innerProto, id: outerID, df: true, body: innerIP)
        case .stt:
            let stt = STTFields(contextID: 0x1122_3344_5566_7788, flags: [.ipv4, .tcpPayload], l4Offset: 34, maximumSegmentSize: 1400)
            let sttFrame = Build.emit(18) { try stt.emit(into: $0) } + innerFrame
            let seq = STTHeader.sequenceNumber(frameLength: sttFrame.count, fragmentOffset: 0)
            outerIP = Build.ip(outer, proto: IPProtocol.tcp, id: outerID, df: true,
                               body: Build.transport(udp: false, outer, body: sttFrame, sport: 50000, dport: 7471,
                                                     seq: seq, ack: 0xABCD, flags: [.ack, .psh], options: false))
        case .none:
            fatalError("handled above")
        }
        return Build.ethernet(Build.etherType(outer), vlan: vlan, body: outerIP)
    }
}

/// Addresses of one IP layer and its pseudo-header.
struct Endpoints {
    var v6: Bool
    var src4 = IPv4Address(192, 0, 2, 1), dst4 = IPv4Address(192, 0, 2, 2)
    var src6 = IPv6Address(high: 0x2001_0DB8_0000_0000, low: 1), dst6 = IPv6Address(high: 0x2001_0DB8_0000_0000, low: 2)

    func pseudoHeaderSum(_ proto: UInt8, length: Int) -> UInt16 {
        v6 ? InternetChecksum.pseudoHeaderSum(source: src6, destination: dst6, nextHeader: proto, length: length)
            : InternetChecksum.pseudoHeaderSum(source: src4, destination: dst4, protocol: proto, length: length)
    }
}

enum Build {
    static func emit(_ size: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> Void) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: size)
        bytes.withUnsafeMutableBytes { try! body($0) }
        return bytes
    }

    static func etherType(_ ep: Endpoints) -> UInt16 { ep.v6 ? EtherType.ipv6 : EtherType.ipv4 }

    static func udpDatagram(_ ep: Endpoints, sport: UInt16, dport: UInt16, body: [UInt8]) -> [UInt8] {
        var seg = emit(8) { try UDPFields(sourcePort: sport, destinationPort: dport).emit(into: $0, payloadLength: body.count) }
        seg += body
        seg.withUnsafeMutableBytes { b in
            try! MutableUDPHeader(b).fillChecksum(pseudoHeaderSum: ep.pseudoHeaderSum(IPProtocol.udp, length: b.count))
        }
        return seg
    }

    /// A TCP segment with the timestamps option (as Linux data segments carry), or a UDP datagram.
    static func transport(udp: Bool, _ ep: Endpoints, body: [UInt8], sport: UInt16 = 33000, dport: UInt16 = 80,
                          seq: UInt32 = SuperFrameSpec.tcpSequence, ack: UInt32 = 1, flags: TCPFlags = [.ack, .psh],
                          options: Bool = true) -> [UInt8] {
        if udp { return udpDatagram(ep, sport: sport, dport: dport, body: body) }
        var fields = TCPFields(sourcePort: sport, destinationPort: dport, sequenceNumber: seq, acknowledgmentNumber: ack,
                               flags: flags, window: 500)
        if options {
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

    static func ip(_ ep: Endpoints, proto: UInt8, id: UInt16, df: Bool, body: [UInt8]) -> [UInt8] {
        if ep.v6 {
            let f = IPv6Fields(nextHeader: proto, sourceAddress: ep.src6, destinationAddress: ep.dst6)
            return emit(40) { try f.emit(into: $0, payloadLength: body.count) } + body
        }
        let f = IPv4Fields(protocol: proto, sourceAddress: ep.src4, destinationAddress: ep.dst4, identification: id, dontFragment: df)
        return emit(20) { try f.emit(into: $0, payloadLength: body.count) } + body
    }

    static func ethernet(_ etherType: UInt16, vlan: UInt16?, body: [UInt8]) -> [UInt8] {
        let macA = EthernetAddress(0x02_00_00_00_00_01), macB = EthernetAddress(0x02_00_00_00_00_02)
        var out = emit(14) {
            try EthernetFields(destination: macB, source: macA, etherType: vlan == nil ? etherType : EtherType.vlan).emit(into: $0)
        }
        if let vlan { out += emit(4) { try VLANFields(vlanID: vlan, etherType: etherType).emit(into: $0) } }
        return out + body
    }
}
