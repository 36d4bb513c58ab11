import FrameSupport
import XCTest
import Wire

/// The parser on each tunnel kind x IPv4/IPv6 outer x IPv4/IPv6 inner x TCP/UDP, with and
/// without VLAN tags; tshark checks the same frames' checksums and dissection independently.
final class ParserMatrixTests: XCTestCase {
    static let kinds: [TunnelKind] = [.none, .vxlan, .vxlanGPE, .geneve, .gre, .nvgre, .gue, .fou, .ipInIP, .stt]

    struct Case {
        var tunnel: TunnelKind, outerV6: Bool, innerV6: Bool, l4: L4Kind, vlans: [UInt16], innerVLANs: [UInt16]
        var name: String { "\(tunnel) outer\(outerV6 ? 6 : 4) inner\(innerV6 ? 6 : 4) \(l4) vlans\(vlans.count)/\(innerVLANs.count)" }
        var carriesEthernet: Bool { [.vxlan, .vxlanGPE, .geneve, .nvgre, .stt].contains(tunnel) }
    }

    static var cases: [Case] {
        var all: [Case] = []
        var n = 0
        for tunnel in kinds {
            for outerV6 in [false, true] where !(tunnel == .none && outerV6) {
                for innerV6 in [false, true] {
                    for l4 in [L4Kind.tcp, .udp] {
                        let vlans: [UInt16] = [[], [100], [100, 200]][n % 3]
                        let innerVLANs: [UInt16] = (n / 2) % 2 == 1 ? [7] : []
                        var c = Case(tunnel: tunnel, outerV6: outerV6, innerV6: innerV6, l4: l4, vlans: vlans, innerVLANs: innerVLANs)
                        if !c.carriesEthernet { c.innerVLANs = [] }
                        all.append(c)
                        n += 1
                    }
                }
            }
        }
        return all
    }

    static func build(_ c: Case) -> [UInt8] {
        Frames.frame(c.tunnel, outer: .outer(v6: c.outerV6), inner: .inner(v6: c.innerV6), l4: c.l4,
                     vlans: c.vlans, innerVLANs: c.innerVLANs, payloadLength: 100)
    }

    func testLayoutOfEveryKind() throws {
        for c in Self.cases {
            let frame = Self.build(c)
            let layout = try frame.withUnsafeBytes { try PacketLayout.parse($0, tunnels: Frames.table) }
            let l4Length = c.l4 == .tcp ? 32 : 8  // TCP: 20 + NOP NOP timestamps 12
            let l3Length = c.innerV6 ? 40 : 20
            XCTAssertEqual(layout.tunnel, c.tunnel, c.name)
            XCTAssertEqual(Int(layout.outerL2Length), 14 + 4 * c.vlans.count, c.name)
            XCTAssertEqual(Int(layout.outerVLANCount), c.vlans.count, c.name)
            XCTAssertEqual(layout.payloadOffset + Int(layout.payloadLength), frame.count, c.name)
            XCTAssertEqual(Int(layout.payloadLength), 100, c.name)
            XCTAssertEqual(layout.l4, c.l4, c.name)
            XCTAssertEqual(layout.l3, c.innerV6 ? .ipv6 : .ipv4, c.name)
            XCTAssertEqual(layout.payloadOffset, frame.count - 100, c.name)
            XCTAssertEqual(layout.l4Offset, frame.count - 100 - l4Length, c.name)
            XCTAssertEqual(layout.l3Offset, frame.count - 100 - l4Length - l3Length, c.name)
            let lengths = layout.offloadLengths
            XCTAssertEqual(Int(lengths.l3Len), l3Length, c.name)
            XCTAssertEqual(Int(lengths.l4Len), l4Length, c.name)
            guard c.tunnel != .none else {
                XCTAssertEqual(lengths.outerL2Len, 0, c.name)
                XCTAssertEqual(Int(lengths.l2Len), 14 + 4 * c.vlans.count, c.name)
                continue
            }
            XCTAssertEqual(layout.outerL3, c.outerV6 ? .ipv6 : .ipv4, c.name)
            XCTAssertEqual(Int(layout.outerL3Length), c.outerV6 ? 40 : 20, c.name)
            XCTAssertEqual(layout.innerL3, c.innerV6 ? .ipv6 : .ipv4, c.name)
            XCTAssertEqual(layout.innerIPProtocol, c.l4 == .tcp ? IPProtocol.tcp : IPProtocol.udp, c.name)
            let innerL2 = c.carriesEthernet ? 14 + 4 * c.innerVLANs.count : 0
            XCTAssertEqual(Int(layout.innerL2Length), innerL2, c.name)
            XCTAssertEqual(Int(layout.innerVLANCount), c.innerVLANs.count, c.name)
            let (outerL4, tunnelLength): (Int, Int) = switch c.tunnel {
            case .vxlan, .vxlanGPE: (8, 8)
            case .geneve: (8, 16)  // 8 + one 8-byte option
            case .gre: (0, 16)  // C, K and S present
            case .nvgre: (0, 8)
            case .gue: (8, 12)  // private flags + remote checksum offload
            case .fou: (8, 0)
            case .ipInIP: (0, 0)
            case .stt: (20, 18)
            case .none: (0, 0)
            }
            XCTAssertEqual(Int(layout.outerL4Length), outerL4, c.name)
            XCTAssertEqual(Int(layout.tunnelLength), tunnelLength, c.name)
            XCTAssertEqual(Int(lengths.outerL2Len), 14 + 4 * c.vlans.count, c.name)
            XCTAssertEqual(Int(lengths.outerL3Len), c.outerV6 ? 40 : 20, c.name)
            XCTAssertEqual(Int(lengths.l2Len), outerL4 + tunnelLength + innerL2, c.name)
            XCTAssertEqual(layout.innerL4Offset, frame.count - 100 - l4Length, c.name)
        }
    }

    /// Larger than four registers, a layout is passed by address; at 32 bytes or less Swift
    /// packs its twenty fields into registers at every call and unpacks them in the callee
    /// (measured: a fifth of a new flow's instructions in the coalescer).
    func testALayoutIsPassedByAddress() {
        XCTAssertGreaterThan(MemoryLayout<PacketLayout>.size, 32)
    }

    /// tshark dissects the same frames and verifies every checksum it can reach: none may be
    /// Bad, and each IPv4 header, the outer UDP/TCP and the inner TCP/UDP must be Good
    /// (GUE has no dissector, so only its outer layers are checked). Wireshark opens STT
    /// only as an IP heuristic tried first, which then skips the outer TCP checksum: STT
    /// frames over IPv4 get a second pass for their inner layers.
    func testTsharkAgreesFramesAreValid() throws {
        let cases = Self.cases
        let pcap = try Pcap.write(cases.map(Self.build), name: "matrix")
        defer { try? FileManager.default.removeItem(at: pcap) }
        let verdicts = try Tshark.checksumVerdicts(
            pcap, decodeAs: ["udp.port==\(Frames.fouIPv4Port),ip", "udp.port==\(Frames.fouIPv6Port),ipv6"])
        XCTAssertEqual(verdicts.count, cases.count)
        for (c, got) in zip(cases, verdicts) {
            var expected: [String] = []
            if c.tunnel != .none {
                if !c.outerV6 { expected.append("ip:Good") }
                switch c.tunnel {
                case .vxlan, .vxlanGPE, .geneve, .gue, .fou: expected.append("udp:Good")
                case .stt: expected.append("tcp:Good")
                default: break
                }
            }
            if c.tunnel != .gue && c.tunnel != .stt {
                if !c.innerV6 { expected.append("ip:Good") }
                expected.append(c.l4 == .tcp ? "tcp:Good" : "udp:Good")
            }
            XCTAssertEqual(got.filter { $0 != "ip:Unverified" }.sorted(), expected.sorted(), c.name)
        }

        // Wireshark registers the STT heuristic on IPv4 only.
        let stt = cases.filter { $0.tunnel == .stt && !$0.outerV6 }
        let sttPcap = try Pcap.write(stt.map(Self.build), name: "stt")
        defer { try? FileManager.default.removeItem(at: sttPcap) }
        let inner = try Tshark.checksumVerdicts(sttPcap, preferences: ["ip.try_heuristic_first:TRUE"])
        XCTAssertEqual(inner.count, stt.count)
        for (c, got) in zip(stt, inner) {
            var expected = ["ip:Good"]
            if !c.innerV6 { expected.append("ip:Good") }
            expected.append(c.l4 == .tcp ? "tcp:Good" : "udp:Good")
            XCTAssertEqual(got.filter { !$0.hasSuffix("Unverified") }.sorted(), expected.sorted(), "STT inner: " + c.name)
        }
    }
}
