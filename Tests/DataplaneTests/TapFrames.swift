import Foundation
import Wire

/// Frames as the kernel hands them to a tap with tunnel offloads, built byte by byte, with
/// the virtio-net header that goes with them.
enum TapFrames {
    struct Built {
        var header: VirtioNetHeader
        var frame: [UInt8]
        /// The 24-byte header followed by the frame: what one read from the tap returns.
        var readBytes: [UInt8] {
            var bytes = [UInt8](repeating: 0, count: 24)
            bytes.withUnsafeMutableBytes { _ = try! header.encode(into: $0, format: .tunnel) }
            return bytes + frame
        }
        var outerTransport: Int { Int(header.outerTransportOffset) }
        var l4: Int { Int(header.checksumStart) }
    }

    static func be16(_ v: Int) -> [UInt8] { [UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    static func sum(_ bytes: ArraySlice<UInt8>) -> UInt16 {
        Array(bytes).withUnsafeBytes { InternetChecksum.sum($0) }
    }

    static func ipv4(total: Int, proto: UInt8, source: [UInt8], destination: [UInt8]) -> [UInt8] {
        var h: [UInt8] = [0x45, 0] + be16(total) + [0x12, 0x34, 0x40, 0, 64, proto, 0, 0] + source + destination
        let c = ~sum(h[0...])
        h[10] = UInt8(c >> 8)
        h[11] = UInt8(c & 0xFF)
        return h
    }

    static func ipv6(payload: Int, next: UInt8, source: [UInt8], destination: [UInt8]) -> [UInt8] {
        [0x60, 0, 0, 0] + be16(payload) + [next, 64] + source + destination
    }

    /// Pseudo-header sum with the length (Linux's partial checksum form).
    static func pseudo(_ ip: [UInt8], proto: UInt8, length: Int) -> UInt16 {
        let addresses = ip[0] >> 4 == 6 ? ip[8..<40] : ip[12..<20]
        return InternetChecksum.add(InternetChecksum.add(sum(addresses), UInt16(proto)), UInt16(truncatingIfNeeded: length))
    }

    static func tcpHeader(pseudo: UInt16) -> [UInt8] {
        // ports 40000 -> 5001, seq, ack, data offset 8 (NOP NOP timestamps), ACK|PSH, window.
        [0x9C, 0x40, 0x13, 0x89, 0, 0, 0x10, 0, 0, 0, 0x20, 0, 0x80, 0x18, 0x01, 0xF5] + be16(Int(pseudo)) + [0, 0]
            + [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]
    }

    static let outerSourceV4: [UInt8] = [10, 99, 0, 1], outerDestinationV4: [UInt8] = [10, 99, 0, 2]
    static let outerSourceV6: [UInt8] = [0xFD, 0, 0, 0x99] + [UInt8](repeating: 0, count: 11) + [1]
    static let outerDestinationV6: [UInt8] = [0xFD, 0, 0, 0x99] + [UInt8](repeating: 0, count: 11) + [2]
    static let ethernetHeader: [UInt8] = [2, 0, 0, 0x99, 0, 0x0B, 2, 0, 0, 0x99, 0, 0x0A]

    static func payload(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 % 251) } }

    /// A VXLAN (UDP 4789) TCP/IPv4 super-frame of `payload` bytes, as the kernel writes it:
    /// lengths of the whole super-frame, inner TCP checksum = pseudo-header sum with the
    /// length, outer UDP checksum likewise (or 0), header gso_type 0x21/0x41.
    static func vxlanTCP(outerIPv6: Bool = false, outerChecksum: Bool = true, payload count: Int = 60_000, gsoSize: Int = 1398) -> Built {
        let innerTCPLength = 32 + count
        let innerIP = ipv4(total: 20 + innerTCPLength, proto: 6, source: [10, 98, 0, 1], destination: [10, 98, 0, 2])
        let inner = [2, 0, 0, 0x98, 0, 0x0B, 2, 0, 0, 0x98, 0, 0x0A, 0x08, 0x00] + innerIP
            + tcpHeader(pseudo: pseudo(innerIP, proto: 6, length: innerTCPLength)) + payload(count)
        let udpLength = 16 + inner.count
        let outerIP = outerIPv6
            ? ipv6(payload: udpLength, next: 17, source: outerSourceV6, destination: outerDestinationV6)
            : ipv4(total: 20 + udpLength, proto: 17, source: outerSourceV4, destination: outerDestinationV4)
        let udpChecksum = outerChecksum ? Int(pseudo(outerIP, proto: 17, length: udpLength)) : 0
        let frame = ethernetHeader + (outerIPv6 ? [0x86, 0xDD] : [0x08, 0x00]) + outerIP
            + [0xC3, 0x50, 0x12, 0xB5] + be16(udpLength) + be16(udpChecksum) + [0x08, 0, 0, 0, 0, 0, 42, 0] + inner
        var header = VirtioNetHeader()
        header.flags = outerChecksum ? [.needsChecksum, .udpTunnelChecksum] : .needsChecksum
        header.gsoType = .tunnel(.tcpv4, outerIPv6: outerIPv6)
        let outerTH = 14 + outerIP.count
        header.outerTransportOffset = UInt16(outerTH)
        header.innerNetworkOffset = UInt16(outerTH + 30)
        header.checksumStart = UInt16(outerTH + 50)
        header.checksumOffset = 16
        header.headerLength = UInt16(outerTH + 82)
        header.gsoSize = UInt16(gsoSize)
        return Built(header: header, frame: frame)
    }

    /// A plain TCP/IPv4 frame; with `gso` a TSO super-frame header, else NEEDS_CSUM only.
    static func tcp(payload count: Int, gso: Bool) -> Built {
        let tcpLength = 32 + count
        let ip = ipv4(total: 20 + tcpLength, proto: 6, source: [10, 98, 0, 1], destination: [10, 98, 0, 2])
        let frame = ethernetHeader + [0x08, 0x00] + ip + tcpHeader(pseudo: pseudo(ip, proto: 6, length: tcpLength)) + payload(count)
        var header = VirtioNetHeader()
        header.flags = .needsChecksum
        header.checksumStart = 34
        header.checksumOffset = 16
        if gso {
            header.gsoType = .tcpv4
            header.gsoSize = 1448
            header.headerLength = 66
        }
        return Built(header: header, frame: frame)
    }

    /// A UDP/IPv4 datagram with a USO header (gso_type UDP_L4).
    static func udp(payload count: Int, gsoSize: Int) -> Built {
        let udpLength = 8 + count
        let ip = ipv4(total: 20 + udpLength, proto: 17, source: [10, 98, 0, 1], destination: [10, 98, 0, 2])
        let frame = ethernetHeader + [0x08, 0x00] + ip + [0x13, 0x88, 0x13, 0x89] + be16(udpLength)
            + be16(Int(pseudo(ip, proto: 17, length: udpLength))) + payload(count)
        var header = VirtioNetHeader()
        header.flags = .needsChecksum
        header.gsoType = .udpL4
        header.gsoSize = UInt16(gsoSize)
        header.checksumStart = 34
        header.checksumOffset = 6
        header.headerLength = 42
        return Built(header: header, frame: frame)
    }

    /// An ICMP echo request with its checksum left partial (no mbuf flag can ask for it).
    static func icmpPartial(payload count: Int) -> Built {
        let ip = ipv4(total: 20 + 8 + count, proto: 1, source: [10, 98, 0, 1], destination: [10, 98, 0, 2])
        let frame = ethernetHeader + [0x08, 0x00] + ip + [8, 0, 0, 0, 0x12, 0x34, 0, 1] + payload(count)
        var header = VirtioNetHeader()
        header.flags = .needsChecksum
        header.checksumStart = 34
        header.checksumOffset = 2
        return Built(header: header, frame: frame)
    }

    /// VXLAN with Geneve's port but a 104-byte Geneve option area: l2_len would be 134,
    /// more than its 7 bits hold.
    static func geneveWithLongOptions() -> Built {
        let count = 4000
        let innerTCPLength = 32 + count
        let innerIP = ipv4(total: 20 + innerTCPLength, proto: 6, source: [10, 98, 0, 1], destination: [10, 98, 0, 2])
        let inner = [2, 0, 0, 0x98, 0, 0x0B, 2, 0, 0, 0x98, 0, 0x0A, 0x08, 0x00] + innerIP
            + tcpHeader(pseudo: pseudo(innerIP, proto: 6, length: innerTCPLength)) + payload(count)
        // Geneve: ver 0, opt len 26 words; protocol 0x6558; VNI 42; one option class 0x0102
        // type 0x01 length 25 words.
        let options: [UInt8] = [0x01, 0x02, 0x01, 25] + [UInt8](repeating: 0xAB, count: 100)
        let geneve: [UInt8] = [26, 0, 0x65, 0x58, 0, 0, 42, 0] + options
        let udpLength = 8 + geneve.count + inner.count
        let outerIP = ipv4(total: 20 + udpLength, proto: 17, source: outerSourceV4, destination: outerDestinationV4)
        let frame = ethernetHeader + [0x08, 0x00] + outerIP + [0xC3, 0x50, 0x17, 0xC1] + be16(udpLength) + [0, 0] + geneve + inner
        var header = VirtioNetHeader()
        header.flags = .needsChecksum
        header.gsoType = .tunnel(.tcpv4, outerIPv6: false)
        header.outerTransportOffset = 34
        header.innerNetworkOffset = UInt16(34 + 8 + geneve.count + 14)
        header.checksumStart = header.innerNetworkOffset + 20
        header.checksumOffset = 16
        header.headerLength = header.checksumStart + 32
        header.gsoSize = 1398
        return Built(header: header, frame: frame)
    }
}
