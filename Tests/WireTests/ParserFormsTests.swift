import FrameSupport
import XCTest
import Wire

/// Tunnel forms outside the matrix: IP directly in VXLAN-GPE and Geneve, GUE variant 1,
/// GRE over FOU, STT segments that are not whole frames, and the layout's flags.
final class ParserFormsTests: XCTestCase {
    let v4 = Endpoints.outer(v6: false), in4 = Endpoints.inner(v6: false), in6 = Endpoints.inner(v6: true)

    func udpFrame(dport: UInt16, tunnelHeader: [UInt8], body: [UInt8], udpChecksum: Bool = true) -> [UInt8] {
        let udp = Frames.transport(.udp, v4, sport: 1, dport: dport, body: tunnelHeader + body, checksum: udpChecksum)
        return Frames.ethernet(EtherType.ipv4, body: Frames.ip(v4, proto: IPProtocol.udp, body: udp))
    }

    /// Every form's stored innermost offsets are the ones its lengths sum to.
    func parse(_ frame: [UInt8], _ table: TunnelPortTable = Frames.table, line: UInt = #line) throws -> PacketLayout {
        let layout = try frame.withUnsafeBytes { try PacketLayout.parse($0, tunnels: table) }
        let outerL4 = Int(layout.outerL2Length) + Int(layout.outerL3Length)
        let innerL3 = outerL4 + Int(layout.outerL4Length) + Int(layout.tunnelLength) + Int(layout.innerL2Length)
        let innerL4 = innerL3 + Int(layout.innerL3Length)
        XCTAssertEqual(layout.l3Offset, layout.isTunnel ? innerL3 : Int(layout.outerL2Length), line: line)
        XCTAssertEqual(layout.l4Offset, layout.isTunnel ? innerL4 : outerL4, line: line)
        XCTAssertEqual(
            layout.payloadOffset, layout.isTunnel ? innerL4 + Int(layout.innerL4Length) : outerL4 + Int(layout.outerL4Length),
            line: line)
        return layout
    }

    func testIPDirectlyInGPEAndGeneve() throws {
        let inner6 = Frames.innerPacket(in6, .tcp, payloadLength: 10)
        let gpe = Frames.emit(8) { try VXLANGPEFields(vni: 1, nextProtocol: VXLANGPENextProtocol.ipv6).emit(into: $0) }
        var l = try parse(udpFrame(dport: 4790, tunnelHeader: gpe, body: inner6, udpChecksum: false))
        XCTAssertEqual(l.tunnel, .vxlanGPE)
        XCTAssertEqual(l.innerL2Length, 0)
        XCTAssertEqual(l.innerL3, .ipv6)
        XCTAssertEqual(l.innerL4, .tcp)
        XCTAssertTrue(l.flags.contains(.outerUDPChecksumZero))

        var g = GeneveFields(vni: 2, protocolType: EtherType.ipv4)
        g.isControl = true
        let opt = GeneveOptionFields(optionClass: 0x0101, type: 0x81, data: [])
        let optBytes = Frames.emit(4) { try opt.emit(into: $0) }
        let geneve = Frames.emit(12) { b in try optBytes.withUnsafeBytes { _ = try g.emit(into: b, options: $0) } }
        l = try parse(udpFrame(dport: 6081, tunnelHeader: geneve, body: Frames.innerPacket(in4, .udp, payloadLength: 3)))
        XCTAssertEqual(l.tunnel, .geneve)
        XCTAssertEqual(l.tunnelLength, 12)
        XCTAssertEqual(l.innerL3, .ipv4)
        XCTAssertTrue(l.flags.contains(.tunnelControl))
        XCTAssertTrue(l.flags.contains(.geneveCriticalOption), "critical bit in the option, C flag clear")
        XCTAssertEqual(l.payloadLength, 3)
    }

    func testGUEVariant1AndGREOverFOU() throws {
        var l = try parse(udpFrame(dport: Frames.guePort, tunnelHeader: [], body: Frames.innerPacket(in6, .udp, payloadLength: 5)))
        XCTAssertEqual(l.tunnel, .gue)
        XCTAssertEqual(l.tunnelLength, 0)
        XCTAssertEqual(l.innerL3, .ipv6)

        var table = Frames.table
        try table.add(port: 5557, kind: .fou, fouProtocol: IPProtocol.gre)
        let gre = Frames.emit(8) { try GREFields.nvgre(virtualSubnetID: 5).emit(into: $0) }
        let innerFrame = Frames.ethernet(EtherType.ipv4, body: Frames.innerPacket(in4, .tcp, payloadLength: 9))
        l = try parse(udpFrame(dport: 5557, tunnelHeader: gre, body: innerFrame), table)
        XCTAssertEqual(l.tunnel, .fou)
        XCTAssertTrue(l.flags.contains(.greOverUDP))
        XCTAssertEqual(l.tunnelLength, 8)
        XCTAssertEqual(l.innerL2Length, 14)
        XCTAssertEqual(l.offloadLengths.l2Len, 8 + 8 + 14)
        XCTAssertEqual(l.payloadLength, 9)

        // GUE control messages carry no inner packet.
        let control: [UInt8] = [0x20, 0x07, 0, 0]
        l = try parse(udpFrame(dport: Frames.guePort, tunnelHeader: control, body: [1, 2, 3, 4]))
        XCTAssertTrue(l.flags.contains(.tunnelControl))
        XCTAssertEqual(l.innerL3, .none)
        XCTAssertEqual(l.payloadLength, 4)
    }

    func testSTTSegments() throws {
        let whole = Frames.frame(.stt, outer: v4, inner: in4, l4: .tcp)
        let l = try parse(whole)
        XCTAssertFalse(l.flags.contains(.sttFragment))
        // First segment of a larger STT frame: header parsed, inner frame left alone.
        var first = whole
        let seq = l.outerL4Offset + 4
        first[seq] = 0x7F
        var p = try parse(first)
        XCTAssertTrue(p.flags.contains(.sttFragment))
        XCTAssertEqual(p.tunnelLength, 18)
        XCTAssertEqual(p.innerL3, .none)
        // A later segment (fragment offset != 0): no STT header at all.
        var later = whole
        later[seq + 3] = 0x40
        p = try parse(later)
        XCTAssertTrue(p.flags.contains(.sttFragment))
        XCTAssertEqual(p.tunnelLength, 0)
        // With STT recognition off, the same frame is plain TCP.
        var table = Frames.table
        table.recognizesSTT = false
        XCTAssertEqual(try parse(whole, table).tunnel, .none)
    }

    func testNonIPFramesAndUnknownProtocols() throws {
        let arp = Frames.ethernet(EtherType.arp, vlans: [9], body: [UInt8](repeating: 0, count: 28))
        var l = try parse(arp)
        XCTAssertEqual(l.outerL3, .none)
        XCTAssertEqual(l.outerL2Length, 18)
        XCTAssertEqual(l.payloadLength, 28)
        let icmp = Frames.ethernet(EtherType.ipv4, body: Frames.ip(v4, proto: 1, body: [8, 0, 0, 0]))
        l = try parse(icmp)
        XCTAssertEqual(l.outerL4, .other)
        XCTAssertEqual(l.outerIPProtocol, 1)
        XCTAssertEqual(l.payloadOffset, 34)
        // Ethernet padding after a short IP packet is not payload.
        l = try parse(icmp + [0, 0, 0, 0, 0, 0])
        XCTAssertEqual(l.payloadLength, 4)
    }
}
