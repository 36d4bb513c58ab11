import Wire

/// The bench's receive traffic, built with Wire's builders: MTU-sized TCP segments (1,514-byte
/// frames) of one or more flows, plain or in VXLAN over IPv4, Geneve (with an option) over
/// IPv4, or VXLAN over IPv6. Every checksum is right (outer UDP included), inner and outer
/// IPv4 IDs increment per segment with DF set, TCP carries the timestamps option (as Linux
/// data segments do), flags ACK only.
enum Segments {
    enum Kind: CustomStringConvertible {
        case plain, vxlan, geneve, vxlan6, gre

        var description: String {
            switch self {
            case .plain: "TCP4"
            case .vxlan: "VXLAN/TCP4"
            case .geneve: "Geneve(opt)/TCP4"
            case .vxlan6: "VXLAN6/TCP4"
            case .gre: "GRE(key)/TCP4"
            }
        }
    }

    static let frameLength = 1514

    static func emit(_ size: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> Void) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: size)
        bytes.withUnsafeMutableBytes { try! body($0) }
        return bytes
    }

    /// Bytes in front of the TCP payload.
    static func headerLength(_ kind: Kind) -> Int { frame(kind, flow: 0, index: 0, payload: 0).count }

    /// Payload bytes per 1,514-byte segment.
    static func payloadLength(_ kind: Kind) -> Int { frameLength - headerLength(kind) }

    /// Segment `index` of flow `flow` (flows differ in the inner TCP source port and, like
    /// real tunnels, in the outer UDP source port).
    static func frame(_ kind: Kind, flow: Int, index: Int, payload: Int) -> [UInt8] {
        let innerSource = IPv4Address(10, 0, 0, 1), innerDestination = IPv4Address(10, 0, 0, 2)
        var fields = TCPFields(sourcePort: UInt16(33000 + flow), destinationPort: 80,
                               sequenceNumber: UInt32(1 + index * payload), acknowledgmentNumber: 7777,
                               flags: [.ack], window: 500)
        var options = TCPOptions()
        options.timestamps = (value: 100, echoReply: 200)
        fields.options = options.encode()
        let body = (0..<payload).map { UInt8(truncatingIfNeeded: ($0 &+ index &* 7 &+ flow) &* 31) }
        var segment = emit(fields.headerLength) { try fields.emit(into: $0) } + body
        segment.withUnsafeMutableBytes { b in
            try! MutableTCPHeader(b).fillChecksum(pseudoHeaderSum: InternetChecksum.pseudoHeaderSum(
                source: innerSource, destination: innerDestination, protocol: IPProtocol.tcp, length: b.count))
        }
        let ip = IPv4Fields(protocol: IPProtocol.tcp, sourceAddress: innerSource, destinationAddress: innerDestination,
                            identification: UInt16(truncatingIfNeeded: 0x100 + index))
        let innerIP = emit(20) { try ip.emit(into: $0, payloadLength: segment.count) } + segment
        var mac = EthernetFields(destination: EthernetAddress(0x02_00_00_00_00_02), source: EthernetAddress(0x02_00_00_00_00_01),
                                 etherType: EtherType.ipv4)
        let innerFrame = emit(14) { try mac.emit(into: $0) } + innerIP
        if kind == .plain { return innerFrame }
        if kind == .gre {
            // IPv4 straight in GRE with a key (`ip tunnel add ... mode gre key 7`): no inner Ethernet.
            let gre = GREFields(protocolType: EtherType.ipv4, key: 7)
            let body = emit(gre.headerLength) { try gre.emit(into: $0) } + innerIP
            let f = IPv4Fields(protocol: IPProtocol.gre, sourceAddress: IPv4Address(192, 0, 2, 1),
                               destinationAddress: IPv4Address(192, 0, 2, 2), identification: UInt16(truncatingIfNeeded: 0x2000 + index))
            return emit(14) { try mac.emit(into: $0) } + emit(20) { try f.emit(into: $0, payloadLength: body.count) } + body
        }

        let tunnel: [UInt8]
        let port: UInt16
        switch kind {
        case .geneve:
            let option = GeneveOptionFields(optionClass: 0x0102, type: 0x01, data: [0, 0, 0, 7])
            let encoded = emit(option.length) { try option.emit(into: $0) }
            tunnel = emit(8 + encoded.count) { b in
                try encoded.withUnsafeBytes { _ = try GeneveFields(vni: 44).emit(into: b, options: $0) }
            }
            port = 6081
        default:
            tunnel = emit(8) { try VXLANFields(vni: 42).emit(into: $0) }
            port = 4789
        }
        let udpBody = tunnel + innerFrame
        var udp = emit(8) {
            try UDPFields(sourcePort: UInt16(49152 + flow), destinationPort: port).emit(into: $0, payloadLength: udpBody.count)
        } + udpBody
        let outerIP: [UInt8]
        if kind == .vxlan6 {
            let source = IPv6Address(high: 0x2001_0DB8 << 32, low: 1), destination = IPv6Address(high: 0x2001_0DB8 << 32, low: 2)
            udp.withUnsafeMutableBytes { b in
                try! MutableUDPHeader(b).fillChecksum(pseudoHeaderSum: InternetChecksum.pseudoHeaderSum(
                    source: source, destination: destination, nextHeader: IPProtocol.udp, length: b.count))
            }
            let f = IPv6Fields(nextHeader: IPProtocol.udp, sourceAddress: source, destinationAddress: destination)
            outerIP = emit(40) { try f.emit(into: $0, payloadLength: udp.count) } + udp
            mac.etherType = EtherType.ipv6
        } else {
            let source = IPv4Address(192, 0, 2, 1), destination = IPv4Address(192, 0, 2, 2)
            udp.withUnsafeMutableBytes { b in
                try! MutableUDPHeader(b).fillChecksum(pseudoHeaderSum: InternetChecksum.pseudoHeaderSum(
                    source: source, destination: destination, protocol: IPProtocol.udp, length: b.count))
            }
            let f = IPv4Fields(protocol: IPProtocol.udp, sourceAddress: source, destinationAddress: destination,
                               identification: UInt16(truncatingIfNeeded: 0x2000 + index))
            outerIP = emit(20) { try f.emit(into: $0, payloadLength: udp.count) } + udp
        }
        return emit(14) { try mac.emit(into: $0) } + outerIP
    }
}
