import FrameSupport
import XCTest
import Wire

/// Every class of malformed input is rejected with the layer and reason that explain it.
final class MalformedInputTests: XCTestCase {
    func expect(_ frame: [UInt8], _ layer: WireError.Layer, _ reason: WireError.Reason, inner: Bool = false,
                tunnels: TunnelPortTable = Frames.table, file: StaticString = #filePath, line: UInt = #line) {
        do {
            let layout = try frame.withUnsafeBytes { try PacketLayout.parse($0, tunnels: tunnels) }
            XCTFail("parsed, expected \(layer) \(reason): \(layout)", file: file, line: line)
        } catch {
            guard let error = error as? WireError else { return XCTFail("untyped \(error)", file: file, line: line) }
            XCTAssertEqual(error.layer, layer, "\(error)", file: file, line: line)
            XCTAssertEqual(error.reason, reason, "\(error)", file: file, line: line)
            XCTAssertEqual(error.inner, inner, "\(error)", file: file, line: line)
        }
    }

    func layout(_ frame: [UInt8]) -> PacketLayout {
        try! frame.withUnsafeBytes { try PacketLayout.parse($0, tunnels: Frames.table) }
    }

    let v4 = Endpoints.outer(v6: false), v6 = Endpoints.outer(v6: true)
    let in4 = Endpoints.inner(v6: false), in6 = Endpoints.inner(v6: true)

    /// Any strict prefix of a valid frame is an error, never a crash: every length field
    /// points past the cut.
    func testEveryTruncationIsAnError() {
        for tunnel in ParserMatrixTests.kinds {
            let frame = Frames.frame(tunnel, outer: v4, inner: in6, l4: .tcp, vlans: [3], innerVLANs: [4])
            for n in 0..<frame.count {
                let prefix = Array(frame[..<n])
                XCTAssertThrowsError(try prefix.withUnsafeBytes { try PacketLayout.parse($0, tunnels: Frames.table) },
                                     "\(tunnel) cut at \(n)")
            }
        }
    }

    func testL2() {
        expect([UInt8](repeating: 0, count: 10), .ethernet, .truncated)
        let tagged = Frames.frame(.none, outer: v4, inner: in4, l4: .udp, vlans: [1, 2])
        expect(Array(tagged[..<16]), .vlan, .truncated)
        var three = tagged
        three.insert(contentsOf: [0x00, 0x03, 0x81, 0x00], at: 18)  // TCI 3, then another C-tag: three tags
        expect(three, .vlan, .tooManyTags)
    }

    func testIPv4() {
        let good = Frames.frame(.none, outer: v4, inner: in4, l4: .udp)
        var f = good
        f[14] = 0x44  // IHL 4
        expect(f, .ipv4, .headerLengthTooShort)
        f = good
        f[14] = 0x55  // version 5
        expect(f, .ipv4, .unsupportedVersion)
        f = good
        f[16] = 0x7F  // total length past the frame
        expect(f, .ipv4, .truncated)
        f = good
        f[16] = 0
        f[17] = 10  // total length below the header
        expect(f, .ipv4, .lengthMismatch)
        f = good
        f[14] = 0x46  // IHL 6: four option bytes, an option claiming 10 bytes
        f.replaceSubrange(34..<38, with: [0x07, 10, 0, 0])
        expect(f, .ipv4Options, .optionOverrun)
        f[35] = 1  // option length 1 < 2
        expect(f, .ipv4Options, .optionOverrun)
    }

    func testIPv6ExtensionHeaders() {
        func withExtensions(_ chain: [(UInt8, [UInt8])]) -> [UInt8] {
            // fixed header next = first type; each entry is (its own type, body after next/len)
            let udp = Frames.transport(.udp, in6, sport: 1, dport: 2, body: [1, 2, 3, 4])
            var body: [UInt8] = []
            for (i, (_, data)) in chain.enumerated() {
                let next = i + 1 < chain.count ? chain[i + 1].0 : IPProtocol.udp
                body += [next, UInt8((data.count + 2) / 8 - 1)] + data
            }
            return Frames.ethernet(EtherType.ipv6, body: Frames.ip(Endpoints.inner(v6: true), proto: chain.first?.0 ?? 17, body: body + udp))
        }
        let pad6 = [UInt8](repeating: 0, count: 6)
        XCTAssertEqual(layout(withExtensions([(0, pad6), (60, pad6), (44, pad6), (60, pad6)])).outerL3Length, 40 + 32)
        expect(withExtensions([(43, pad6), (43, pad6)]), .ipv6ExtensionHeader, .extensionHeaderLoop)
        expect(withExtensions([(60, pad6), (0, pad6)]), .ipv6ExtensionHeader, .extensionHeaderLoop)
        expect(withExtensions([(60, pad6), (60, pad6), (60, pad6)]), .ipv6ExtensionHeader, .extensionHeaderLoop)
        var long = withExtensions([(60, pad6)])
        long[14 + 40 + 1] = 9  // header claims 80 bytes
        expect(long, .ipv6ExtensionHeader, .optionOverrun)
        var short = withExtensions([])
        short[18] = 0xFF  // payload length past the frame
        expect(short, .ipv6, .truncated)
    }

    func testUDPAndTCP() {
        let udp = Frames.frame(.none, outer: v4, inner: in4, l4: .udp)
        var f = udp
        f[38] = 0
        f[39] = 9  // UDP length 9 < IP payload
        expect(f, .udp, .lengthMismatch)
        f[39] = 4  // below the header
        expect(f, .udp, .headerLengthTooShort)
        let tcp = Frames.frame(.none, outer: v4, inner: in4, l4: .tcp)
        f = tcp
        f[46] = 0x40  // data offset 4
        expect(f, .tcp, .headerLengthTooShort)
        f = tcp
        f[54] = 2
        f[55] = 40  // MSS option claiming 40 bytes
        expect(f, .tcpOptions, .optionOverrun)
        f[55] = 3  // MSS of the wrong size
        expect(f, .tcpOptions, .lengthMismatch)
    }

    func testTunnelHeaders() {
        var f = Frames.frame(.vxlan, outer: v4, inner: in4, l4: .udp)
        let vx = layout(f).tunnelOffset
        f[vx] = 0  // I flag clear
        expect(f, .vxlan, .invalidFlags)

        f = Frames.frame(.geneve, outer: v4, inner: in4, l4: .udp)
        let g = layout(f).tunnelOffset
        var bad = f
        bad[g] = 0x40 | 2  // version 1
        expect(bad, .geneve, .unsupportedVersion)
        bad = f
        bad[g + 8 + 3] = 5  // option length 20 bytes in an 8-byte option area
        expect(bad, .geneveOption, .optionOverrun)
        bad = f
        let cut = Array(f[..<(g + 12)])  // options cut short; fix IP/UDP lengths to match
        bad = fixLengths(cut, ipAt: 14, udpAt: 34)
        expect(bad, .geneve, .truncated)

        f = Frames.frame(.gre, outer: v4, inner: in4, l4: .udp)
        bad = f
        bad[34 + 1] |= 1  // version 1 (PPTP)
        expect(bad, .gre, .unsupportedVersion)
        bad = f
        bad[34] |= 0x40  // routing present
        expect(bad, .gre, .invalidFlags)
        expect(fixLengths(Array(f[..<(34 + 10)]), ipAt: 14, udpAt: nil), .gre, .truncated)

        f = Frames.frame(.gue, outer: v4, inner: in4, l4: .udp)
        let u = layout(f).tunnelOffset
        bad = f
        bad[u + 3] |= 0x02  // an unknown flag
        expect(bad, .gue, .invalidFlags)
        bad = f
        bad[u] = 0x80  // variant 2
        expect(bad, .gue, .unsupportedVersion)
        bad = f
        bad[u] = 0x01  // Hlen 1 word but private data + remote checksum need 2
        expect(bad, .gue, .lengthMismatch)

        f = Frames.frame(.stt, outer: v4, inner: in4, l4: .udp)
        let s = layout(f).tunnelOffset
        bad = f
        bad[s] = 1  // STT version 1
        expect(bad, .stt, .unsupportedVersion)
        bad = f
        bad[s - 20 + 4] = 0  // frame length (seq high half) smaller than the segment
        bad[s - 20 + 5] = 30
        expect(bad, .stt, .lengthMismatch)
    }

    func testInnerErrorsAreMarkedInner() {
        var f = Frames.frame(.vxlan, outer: v6, inner: in4, l4: .tcp)
        let at = layout(f).innerL3Offset
        f[at] = 0x43
        expect(f, .ipv4, .headerLengthTooShort, inner: true)
    }

    /// A tunnel inside a tunnel is carried, not dropped (nested overlays are real traffic; the
    /// soak found TCP to port 7471 inside VXLAN dropped as "nested tunnel"): one level is
    /// parsed, the inner UDP/TCP header ends the layout and the inner tunnel is payload.
    func testNestedTunnelsAreCarriedAsPayload() {
        // VXLAN in VXLAN: the inner frame is itself a VXLAN frame.
        let inner = Frames.frame(.vxlan, outer: in4, inner: in4, l4: .udp)
        let outerUDP = Frames.transport(.udp, v4, sport: 1, dport: 4789,
                                        body: Frames.emit(8) { try VXLANFields(vni: 1).emit(into: $0) } + inner)
        let vxlanInVXLAN = layout(Frames.ethernet(EtherType.ipv4, body: Frames.ip(v4, proto: IPProtocol.udp, body: outerUDP)))
        XCTAssertEqual(vxlanInVXLAN.tunnel, .vxlan)
        XCTAssertTrue(vxlanInVXLAN.flags.contains(.nestedTunnel))
        XCTAssertEqual(vxlanInVXLAN.innerL4, .udp)
        XCTAssertEqual(vxlanInVXLAN.innerL4Length, 8)
        XCTAssertEqual(Int(vxlanInVXLAN.payloadLength), inner.count - 14 - 20 - 8, "the inner VXLAN header and frame are payload")
        // TCP to STT's port inside VXLAN: an ordinary inner TCP flow.
        let stt = Frames.transport(.tcp, in4, sport: 40000, dport: 7471, body: [UInt8](repeating: 0x5A, count: 100))
        let sttFrame = Frames.ethernet(EtherType.ipv4, body: Frames.ip(in4, proto: IPProtocol.tcp, body: stt))
        let sttUDP = Frames.transport(.udp, v4, sport: 1, dport: 4789,
                                      body: Frames.emit(8) { try VXLANFields(vni: 1).emit(into: $0) } + sttFrame)
        let sttInVXLAN = layout(Frames.ethernet(EtherType.ipv4, body: Frames.ip(v4, proto: IPProtocol.udp, body: sttUDP)))
        XCTAssertTrue(sttInVXLAN.flags.contains(.nestedTunnel))
        XCTAssertEqual(sttInVXLAN.innerL4, .tcp)
        XCTAssertEqual(sttInVXLAN.payloadLength, 100)
        // IP-in-IP in GRE: the inner IP header ends the layout.
        let ipip = Frames.ip(in4, proto: IPProtocol.ipv4, body: Frames.innerPacket(in4, .udp, payloadLength: 4))
        let gre = Frames.emit(4) { try GREFields(protocolType: EtherType.ipv4).emit(into: $0) } + ipip
        let ipipInGRE = layout(Frames.ethernet(EtherType.ipv4, body: Frames.ip(v4, proto: IPProtocol.gre, body: gre)))
        XCTAssertTrue(ipipInGRE.flags.contains(.nestedTunnel))
        XCTAssertEqual(ipipInGRE.innerL4, .other)
        XCTAssertEqual(Int(ipipInGRE.payloadLength), ipip.count - 20)
    }

    /// Non-first fragments carry no L4 header and are not opened as tunnels.
    func testFragmentsAreClassifiedNotParsed() {
        var f = Frames.frame(.vxlan, outer: v4, inner: in4, l4: .udp)
        f[20] = 0x00
        f[21] = 0x10  // fragment offset 128 bytes
        let l = layout(f)
        XCTAssertTrue(l.flags.contains(.outerFragment))
        XCTAssertEqual(l.tunnel, .none)
        XCTAssertEqual(l.outerL4, .none)
        f[20] = 0x20
        f[21] = 0  // first fragment, MF set
        let first = layout(f)
        XCTAssertEqual(first.outerL4, .udp)
        XCTAssertEqual(first.tunnel, .none)
    }

    /// Rewrites IPv4 total length and UDP length after cutting a frame.
    func fixLengths(_ frame: [UInt8], ipAt: Int, udpAt: Int?) -> [UInt8] {
        var f = frame
        let total = f.count - ipAt
        f[ipAt + 2] = UInt8(total >> 8)
        f[ipAt + 3] = UInt8(total & 0xFF)
        if let udpAt {
            let length = f.count - udpAt
            f[udpAt + 4] = UInt8(length >> 8)
            f[udpAt + 5] = UInt8(length & 0xFF)
        }
        return f
    }
}
