import FrameSupport
import XCTest
import Wire

/// Builder -> bytes -> view -> builder is the identity for every header, byte layouts match
/// the RFC diagrams, builders refuse bad values and short buffers, setters edit in place.
final class HeaderRoundTripTests: XCTestCase {
    func bytes(_ n: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> Void) -> [UInt8] { Frames.emit(n, body) }

    func testEthernetAndVLAN() throws {
        let e = EthernetFields(destination: .broadcast, source: EthernetAddress(0x0200_0000_0001), etherType: EtherType.qinq)
        let b = bytes(14) { try e.emit(into: $0) }
        XCTAssertEqual(b, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02, 0, 0, 0, 0, 0x01, 0x88, 0xA8])
        XCTAssertEqual(try b.withUnsafeBytes { EthernetFields(try EthernetHeader($0)) }, e)
        let v = VLANFields(priorityCodePoint: 5, dropEligible: true, vlanID: 0xABC, etherType: EtherType.ipv6)
        let vb = bytes(4) { try v.emit(into: $0) }
        XCTAssertEqual(vb, [0xBA, 0xBC, 0x86, 0xDD])  // PCP 101, DEI 1, VID abc
        XCTAssertEqual(try vb.withUnsafeBytes { VLANFields(try VLANHeader($0)) }, v)
        XCTAssertThrowsError(try [UInt8](repeating: 0, count: 4).withUnsafeBytes { _ in
            var out = [UInt8](repeating: 0, count: 4)
            try out.withUnsafeMutableBytes { try VLANFields(vlanID: 4096, etherType: 0).emit(into: $0) }
        }) { XCTAssertEqual(($0 as? WireError)?.reason, .fieldOutOfRange) }
    }

    func testIPv4WithOptions() throws {
        var f = IPv4Fields(protocol: IPProtocol.udp, sourceAddress: IPv4Address(10, 1, 2, 3), destinationAddress: IPv4Address(10, 3, 2, 1))
        f.options = try HeaderOptions([0x94, 0x04, 0x00, 0x00])  // Router Alert (RFC 2113)
        f.typeOfService = 0xB8
        f.identification = 0x1234
        f.dontFragment = false
        f.moreFragments = true
        f.fragmentOffset = 1480
        let b = bytes(24 + 8) { try f.emit(into: $0, payloadLength: 8) }
        try b.withUnsafeBytes { raw in
            let ip = try IPv4Header(raw)
            XCTAssertEqual(ip.headerLength, 24)
            XCTAssertEqual(ip.totalLength, 32)
            XCTAssertTrue(ip.verifyChecksum)
            XCTAssertEqual(ip.dscp, 46)
            XCTAssertTrue(ip.isFragment)
            let options = Array(ip.optionIterator)
            XCTAssertEqual(options.map(\.type), [0x94])
            XCTAssertEqual(Array(options[0].data), [0, 0])
            XCTAssertEqual(IPv4Fields(ip), f)
        }
        var tooBig = IPv4Fields(protocol: 6, sourceAddress: IPv4Address(0), destinationAddress: IPv4Address(0))
        tooBig.fragmentOffset = 3
        var out = [UInt8](repeating: 0, count: 20)
        XCTAssertThrowsError(try out.withUnsafeMutableBytes { try tooBig.emit(into: $0, payloadLength: 0) })
        XCTAssertThrowsError(try out.withUnsafeMutableBytes { try f.emit(into: $0, payloadLength: 0) }) {
            XCTAssertEqual($0 as? WireError, WireError(.ipv4, .bufferTooSmall, needed: 24, available: 20))
        }
        f.options = try HeaderOptions([0x07, 0x09, 0, 0])  // an option running past the area
        var room = [UInt8](repeating: 0, count: 64)
        XCTAssertThrowsError(try room.withUnsafeMutableBytes { try f.emit(into: $0, payloadLength: 0) }) {
            XCTAssertEqual(($0 as? WireError)?.layer, .ipv4Options)
        }
        var t = TCPFields(sourcePort: 1, destinationPort: 2)
        t.options = try HeaderOptions([0x02, 0x03, 0, 0])  // MSS with length 3
        XCTAssertThrowsError(try room.withUnsafeMutableBytes { try t.emit(into: $0) }) {
            XCTAssertEqual($0 as? WireError, WireError(.tcpOptions, .lengthMismatch, needed: 3, available: 3))
        }
    }

    /// tshark reads the options-bearing header as we wrote it and agrees on its checksum.
    func testIPv4OptionsWithTshark() throws {
        var f = IPv4Fields(protocol: IPProtocol.udp, sourceAddress: IPv4Address(10, 1, 2, 3), destinationAddress: IPv4Address(10, 3, 2, 1))
        f.options = try HeaderOptions([0x94, 0x04, 0x00, 0x00])
        let ep = Endpoints(v6: false, src4: f.sourceAddress, dst4: f.destinationAddress)
        let udp = Frames.transport(.udp, ep, sport: 7, dport: 9, body: Frames.payload(10))
        let frame = Frames.ethernet(EtherType.ipv4, body: bytes(24) { try f.emit(into: $0, payloadLength: udp.count) } + udp)
        let pcap = try Pcap.write([frame], name: "ipv4-options")
        defer { try? FileManager.default.removeItem(at: pcap) }
        let fields = try Tshark.run(pcap, ["-T", "fields", "-e", "ip.hdr_len", "-e", "ip.opt.type", "-e", "ip.checksum.status", "-e", "udp.checksum.status"])
        XCTAssertEqual(fields, ["24\t148\t1\t1"])
    }

    func testIPv6() throws {
        let f = IPv6Fields(nextHeader: IPProtocol.tcp, sourceAddress: IPv6Address(high: 1, low: 2),
                           destinationAddress: IPv6Address(high: 3, low: 4), hopLimit: 9, trafficClass: 0xAB, flowLabel: 0xCDEF1)
        let b = bytes(40 + 20) { try f.emit(into: $0, payloadLength: 20) }
        XCTAssertEqual(Array(b[0..<4]), [0x6A, 0xBC, 0xDE, 0xF1])
        try b.withUnsafeBytes { XCTAssertEqual(IPv6Fields(try IPv6Header($0)), f) }
        var m = b
        try m.withUnsafeMutableBytes { raw in
            let ip = try MutableIPv6Header(raw)
            ip.setTrafficClass(0x12)
            ip.setPayloadLength(8)
            XCTAssertEqual(ip.trafficClass, 0x12)
            XCTAssertEqual(ip.flowLabel, 0xCDEF1)
            XCTAssertEqual(ip.payloadLength, 8)
        }
    }

    func testUDPAndTCP() throws {
        let u = UDPFields(sourcePort: 49152, destinationPort: 4789, checksum: 0xBEEF)
        let ub = bytes(8 + 4) { try u.emit(into: $0, payloadLength: 4) }
        XCTAssertEqual(Array(ub[0..<8]), [0xC0, 0x00, 0x12, 0xB5, 0x00, 0x0C, 0xBE, 0xEF])
        try ub.withUnsafeBytes { XCTAssertEqual(UDPFields(try UDPHeader($0)), u) }

        var t = TCPFields(sourcePort: 1, destinationPort: 2, sequenceNumber: 0xDEAD_BEEF, acknowledgmentNumber: 7,
                          flags: [.syn, .ece, .cwr], window: 1024)
        var o = TCPOptions()
        o.maximumSegmentSize = 8960
        o.windowScale = 7
        o.sackPermitted = true
        o.timestamps = (value: 1, echoReply: 0)
        t.options = o.encode()
        XCTAssertEqual(t.options.bytes, [2, 4, 0x23, 0x00, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7],
                       "Linux's SYN option order")
        let tb = bytes(t.headerLength) { try t.emit(into: $0) }
        try tb.withUnsafeBytes { raw in
            let h = try TCPHeader(raw)
            XCTAssertEqual(TCPFields(h), t)
            XCTAssertEqual(h.parsedOptions, o)
            XCTAssertEqual(h.headerLength, 40)
        }
        // Unknown options are kept and walked over.
        let unknown: [UInt8] = [0x50 | 0x0, 0] + [UInt8](repeating: 0, count: 10) + [0x60, 0x02, 0, 0, 0, 0, 0, 0]
            + [0xFD, 0x04, 0xAB, 0xCD]  // experimental option (RFC 6994), 4 bytes
        try unknown.withUnsafeBytes { raw in
            let h = try TCPHeader(raw)
            XCTAssertEqual(h.parsedOptions.unknownCount, 1)
            if case .unknown(let kind, let data) = Array(h.optionIterator)[0] {
                XCTAssertEqual(kind, 0xFD)
                XCTAssertEqual(Array(data), [0xAB, 0xCD])
            } else { XCTFail("expected an unknown option") }
        }
    }

    func testTunnelHeaders() throws {
        let vx = bytes(8) { try VXLANFields(vni: 0x123456).emit(into: $0) }
        XCTAssertEqual(vx, [0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0])  // RFC 7348 §5
        try vx.withUnsafeBytes { XCTAssertEqual(VXLANFields(try VXLANHeader($0)), VXLANFields(vni: 0x123456)) }

        let gpe = VXLANGPEFields(vni: 9, nextProtocol: VXLANGPENextProtocol.ipv6)
        let gb = bytes(8) { try gpe.emit(into: $0) }
        XCTAssertEqual(gb, [0x0C, 0, 0, 2, 0, 0, 9, 0])
        try gb.withUnsafeBytes { XCTAssertEqual(VXLANGPEFields(try VXLANGPEHeader($0)), gpe) }

        var g = GeneveFields(vni: 77)
        g.hasCriticalOptions = true
        let critical = GeneveOptionFields(optionClass: 0x0103, type: 0x80 | 5, data: [1, 2, 3, 4])
        let opt = bytes(critical.length) { try critical.emit(into: $0) }
        let geneve = bytes(16) { b in try opt.withUnsafeBytes { _ = try g.emit(into: b, options: $0) } }
        XCTAssertEqual(Array(geneve[0..<8]), [0x02, 0x40, 0x65, 0x58, 0, 0, 77, 0])  // RFC 8926 §3.4
        try geneve.withUnsafeBytes { raw in
            let h = try GeneveHeader(raw)
            XCTAssertEqual(GeneveFields(h), g)
            XCTAssertTrue(h.anyOptionCritical)
            let o = Array(h.optionIterator)
            XCTAssertEqual(o.count, 1)
            XCTAssertEqual(o[0].optionClass, 0x0103)
            XCTAssertEqual(Array(o[0].data), [1, 2, 3, 4])
        }

        let nv = GREFields.nvgre(virtualSubnetID: 0xABCDEF, flowID: 0x42)
        let nb = bytes(8) { try nv.emit(into: $0) }
        XCTAssertEqual(nb, [0x20, 0x00, 0x65, 0x58, 0xAB, 0xCD, 0xEF, 0x42])  // RFC 7637 §3.2
        try nb.withUnsafeBytes { raw in
            let h = try GREHeader(raw)
            XCTAssertTrue(h.isNVGRE)
            XCTAssertEqual(h.virtualSubnetID, 0xABCDEF)
            XCTAssertEqual(h.flowID, 0x42)
            XCTAssertEqual(GREFields(h), nv)
        }
        let full = GREFields(protocolType: EtherType.ipv4, key: 1, sequenceNumber: 2, checksumPresent: true)
        try bytes(16) { try full.emit(into: $0) }.withUnsafeBytes { raw in
            let h = try GREHeader(raw)
            XCTAssertEqual(h.headerLength, 16)
            XCTAssertEqual(h.key, 1)
            XCTAssertEqual(h.sequenceNumber, 2)
            XCTAssertEqual(GREFields(h), full)
        }

        let gue = GUEFields(protocolNumber: IPProtocol.ipv6, remoteChecksumStart: 40, remoteChecksumOffset: 6)
        try bytes(12) { try gue.emit(into: $0) }.withUnsafeBytes { raw in
            XCTAssertEqual(Array(raw[0..<4]), [0x02, 41, 0x00, 0x01])
            let h = try GUEHeader(raw)
            XCTAssertEqual(h.remoteChecksumOffload?.start, 40)
            XCTAssertEqual(h.payloadProtocol, IPProtocol.ipv6)
            XCTAssertEqual(GUEFields(h), gue)
        }
        try ([0x45, 0, 0, 20] as [UInt8]).withUnsafeBytes { raw in  // variant 1: bare IPv4
            let h = try GUEHeader(raw)
            XCTAssertEqual(h.variant, 1)
            XCTAssertEqual(h.headerLength, 0)
            XCTAssertEqual(h.payloadProtocol, IPProtocol.ipv4)
        }

        let stt = STTFields(contextID: 0x0102_0304_0506_0708, flags: [.checksumPartial, .ipv4], l4Offset: 20,
                            maximumSegmentSize: 1460, vlanID: 100, priorityCodePoint: 3)
        let sb = bytes(18) { try stt.emit(into: $0) }
        XCTAssertEqual(sb, [0, 0x06, 20, 0, 0x05, 0xB4, 0x70, 0x64, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0])
        try sb.withUnsafeBytes { XCTAssertEqual(STTFields(try STTHeader($0)), stt) }
        XCTAssertEqual(STTHeader.sequenceNumber(frameLength: 3000, fragmentOffset: 1448), 3000 << 16 | 1448)
        XCTAssertEqual(STTHeader.frameLength(sequenceNumber: 3000 << 16 | 1448), 3000)
    }

    /// In-place edits through mutable views keep checksums right when fixed incrementally.
    func testMutableViewsAndIncrementalChecksum() throws {
        var frame = Frames.frame(.none, outer: .outer(v6: false), inner: .inner(v6: false), l4: .tcp)
        try frame.withUnsafeMutableBytes { b in
            let ip = try MutableIPv4Header(UnsafeMutableRawBufferPointer(rebasing: b[14...]))
            let old = ip.timeToLive
            let oldWord = UInt16(old) << 8 | UInt16(ip.protocol)
            ip.setTimeToLive(old - 1)
            ip.setHeaderChecksum(InternetChecksum.update(checksum: ip.headerChecksum, old: oldWord, new: oldWord - 0x100))
            XCTAssertTrue(ip.verifyChecksum)
            let tcp = try MutableTCPHeader(UnsafeMutableRawBufferPointer(rebasing: b[34...]))
            let seq = tcp.sequenceNumber
            tcp.setSequenceNumber(seq &+ 1448)
            tcp.setChecksum(InternetChecksum.update(checksum: tcp.checksum, old: seq, new: seq &+ 1448))
            let pseudo = InternetChecksum.pseudoHeaderSum(source: ip.sourceAddress, destination: ip.destinationAddress,
                                                          protocol: IPProtocol.tcp, length: b.count - 34)
            XCTAssertTrue(tcp.verifyChecksum(pseudoHeaderSum: pseudo))
        }
    }
}
