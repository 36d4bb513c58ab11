import Wire

/// The bench's super-frames, built with Wire's builders: Ethernet, outer IPv4/IPv6, UDP and a
/// VXLAN or Geneve (with options) header, or nothing (plain TCP); inner Ethernet, IPv4, TCP
/// with the timestamps option, `payload` bytes.
enum SuperFrame {
    enum Kind { case plain, vxlan, geneve }

    static func emit(_ size: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> Void) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: size)
        bytes.withUnsafeMutableBytes { try! body($0) }
        return bytes
    }

    static func build(_ kind: Kind, outerV6: Bool = false, payload: Int) -> [UInt8] {
        let src = IPv4Address(10, 0, 0, 1), dst = IPv4Address(10, 0, 0, 2)
        var tcp = TCPFields(sourcePort: 33000, destinationPort: 80, sequenceNumber: 1, acknowledgmentNumber: 1,
                            flags: [.ack, .psh], window: 500)
        var options = TCPOptions()
        options.timestamps = (value: 100, echoReply: 200)
        tcp.options = options.encode()
        let body = (0..<payload).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let segment = emit(tcp.headerLength) { try tcp.emit(into: $0) } + body
        let ip = IPv4Fields(protocol: IPProtocol.tcp, sourceAddress: src, destinationAddress: dst, identification: 1)
        let innerIP = emit(20) { try ip.emit(into: $0, payloadLength: segment.count) } + segment
        let mac = EthernetFields(destination: EthernetAddress(0x02_00_00_00_00_02), source: EthernetAddress(0x02_00_00_00_00_01),
                                 etherType: EtherType.ipv4)
        let innerFrame = emit(14) { try mac.emit(into: $0) } + innerIP
        if kind == .plain { return innerFrame }
        let tunnel: [UInt8]
        let port: UInt16
        if kind == .vxlan {
            tunnel = emit(8) { try VXLANFields(vni: 42).emit(into: $0) }
            port = 4789
        } else {
            let option = GeneveOptionFields(optionClass: 0x0102, type: 0x01, data: [0, 0, 0, 7, 0, 0, 0, 9])
            let encoded = emit(option.length) { try option.emit(into: $0) }
            tunnel = emit(8 + encoded.count) { b in try encoded.withUnsafeBytes { _ = try GeneveFields(vni: 44).emit(into: b, options: $0) } }
            port = 6081
        }
        let udpBody = tunnel + innerFrame
        let udp = emit(8) { try UDPFields(sourcePort: 49152, destinationPort: port).emit(into: $0, payloadLength: udpBody.count) } + udpBody
        let outerIP: [UInt8]
        var outerMAC = mac
        if outerV6 {
            let f = IPv6Fields(nextHeader: IPProtocol.udp, sourceAddress: IPv6Address(high: 0x2001_0DB8 << 32, low: 1),
                               destinationAddress: IPv6Address(high: 0x2001_0DB8 << 32, low: 2))
            outerIP = emit(40) { try f.emit(into: $0, payloadLength: udp.count) } + udp
            outerMAC.etherType = EtherType.ipv6
        } else {
            let f = IPv4Fields(protocol: IPProtocol.udp, sourceAddress: IPv4Address(192, 0, 2, 1),
                               destinationAddress: IPv4Address(192, 0, 2, 2), identification: 7)
            outerIP = emit(20) { try f.emit(into: $0, payloadLength: udp.count) } + udp
        }
        return emit(14) { try outerMAC.emit(into: $0) } + outerIP
    }
}
