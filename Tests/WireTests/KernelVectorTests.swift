import XCTest
import Wire

/// Known answers from frames the Linux kernel built (Tools/scripts/capture-kernel-vxlan.sh,
/// KernelVectors.swift): the parser must classify them, and every checksum the kernel wrote
/// must verify and be recomputed bit for bit by Wire.
final class KernelVectorTests: XCTestCase {
    static func bytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var it = hex.utf8.makeIterator()
        while let h = it.next(), let l = it.next() {
            func v(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : c - 87 }
            out.append(v(h) << 4 | v(l))
        }
        return out
    }

    var frames: [[UInt8]] { KernelVectors.frames.map(Self.bytes) }

    func testCaptureHasBothUnderlays() {
        XCTAssertEqual(frames.count, 22, "regenerate with Tools/scripts/capture-kernel-vxlan.sh")
    }

    func testParserClassifiesKernelFrames() throws {
        for (i, frame) in frames.enumerated() {
            try frame.withUnsafeBytes { b in
                let layout = try PacketLayout.parse(b, tunnels: .defaults)
                let v6 = layout.outerL3 == .ipv6
                XCTAssertEqual(layout.tunnel, .vxlan, "frame \(i + 1)")
                XCTAssertEqual(layout.outerL4, .udp)
                XCTAssertEqual(Int(layout.innerL2Length), 14)
                let vxlan = try VXLANHeader(UnsafeRawBufferPointer(rebasing: b[layout.tunnelOffset...]))
                XCTAssertEqual(vxlan.vni, v6 ? 43 : 42, "frame \(i + 1)")
                let innerEthernet = try EthernetHeader(UnsafeRawBufferPointer(rebasing: b[layout.innerL2Offset...]))
                if innerEthernet.etherType == EtherType.arp {
                    XCTAssertEqual(layout.innerL3, .none)
                    XCTAssertEqual(layout.payloadLength, 28, "an ARP body")
                    return
                }
                XCTAssertEqual(layout.innerL3, .ipv4)
                XCTAssertEqual(layout.innerL4, .tcp)
                XCTAssertEqual(layout.payloadOffset + Int(layout.payloadLength), b.count)
            }
        }
    }

    func testSYNOptionsAndOffloadLengths() throws {
        let syn = frames[2]  // IPv4 underlay, 10.0.0.1 -> 10.0.0.2:8080 SYN
        try syn.withUnsafeBytes { b in
            let layout = try PacketLayout.parse(b, tunnels: .defaults)
            let tcp = try TCPHeader(UnsafeRawBufferPointer(rebasing: b[layout.innerL4Offset...]))
            XCTAssertEqual(tcp.destinationPort, 8080)
            XCTAssertEqual(tcp.flags, [.syn])
            let o = tcp.parsedOptions
            XCTAssertEqual(o.maximumSegmentSize, 1410, "VXLAN device MTU 1450 - 40")
            XCTAssertTrue(o.sackPermitted)
            XCTAssertNotNil(o.timestamps)
            XCTAssertEqual(o.windowScale, 10)
            XCTAssertEqual(
                layout.offloadLengths,
                .init(outerL2Len: 14, outerL3Len: 20, l2Len: 8 + 8 + 14, l3Len: 20, l4Len: 40))
        }
        let data = frames[5]  // PSH: the client's 20 bytes
        try data.withUnsafeBytes { b in
            let layout = try PacketLayout.parse(b, tunnels: .defaults)
            let payload = Array(b[layout.payloadOffset...])
            XCTAssertEqual(String(decoding: payload, as: UTF8.self), "tunnelpmd wire test\n")
        }
    }

    /// Zero each checksum field the kernel filled, recompute it with Wire, compare.
    func testWireRecomputesKernelChecksums() throws {
        var checked = 0
        for (i, original) in frames.enumerated() {
            var frame = original
            let layout = try frame.withUnsafeBytes { try PacketLayout.parse($0, tunnels: .defaults) }
            frame.withUnsafeMutableBytes { b in
                let r = UnsafeRawBufferPointer(b)
                func tail(_ at: Int) -> UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(rebasing: b[at...]) }
                var outerPseudo: UInt16 = 0
                if layout.outerL3 == .ipv4 {
                    let ip = try! MutableIPv4Header(tail(layout.outerL3Offset))
                    XCTAssertTrue(ip.verifyChecksum)
                    let kernel = ip.headerChecksum
                    ip.fillChecksum()
                    XCTAssertEqual(ip.headerChecksum, kernel, "outer IPv4, frame \(i + 1)")
                    outerPseudo = InternetChecksum.pseudoHeaderSum(
                        source: ip.sourceAddress, destination: ip.destinationAddress, protocol: IPProtocol.udp,
                        length: ip.totalLength - ip.headerLength)
                } else {
                    let ip = try! MutableIPv6Header(tail(layout.outerL3Offset))
                    outerPseudo = InternetChecksum.pseudoHeaderSum(
                        source: ip.sourceAddress, destination: ip.destinationAddress, nextHeader: IPProtocol.udp,
                        length: ip.payloadLength)
                }
                let udp = try! MutableUDPHeader(tail(layout.outerL4Offset))
                XCTAssertNotEqual(udp.checksum, 0)
                XCTAssertTrue(udp.verifyChecksum(pseudoHeaderSum: outerPseudo), "outer UDP, frame \(i + 1)")
                let kernelUDP = udp.checksum
                udp.fillChecksum(pseudoHeaderSum: outerPseudo)
                XCTAssertEqual(udp.checksum, kernelUDP, "outer UDP, frame \(i + 1)")
                checked += 1
                guard layout.innerL4 == .tcp else { return }
                let ip = try! MutableIPv4Header(tail(layout.innerL3Offset))
                let kernelIP = ip.headerChecksum
                ip.fillChecksum()
                XCTAssertEqual(ip.headerChecksum, kernelIP, "inner IPv4, frame \(i + 1)")
                let segment = UnsafeMutableRawBufferPointer(
                    rebasing: b[layout.innerL4Offset..<layout.innerL3Offset + ip.totalLength])
                let tcp = try! MutableTCPHeader(segment)
                let pseudo = InternetChecksum.pseudoHeaderSum(
                    source: ip.sourceAddress, destination: ip.destinationAddress, protocol: IPProtocol.tcp,
                    length: segment.count)
                XCTAssertTrue(tcp.verifyChecksum(pseudoHeaderSum: pseudo))
                let kernelTCP = tcp.checksum
                tcp.fillChecksum(pseudoHeaderSum: pseudo)
                XCTAssertEqual(tcp.checksum, kernelTCP, "inner TCP, frame \(i + 1)")
                _ = r
            }
            XCTAssertEqual(frame, original)
        }
        XCTAssertEqual(checked, 22)
    }
}
