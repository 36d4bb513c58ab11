import FrameSupport
import XCTest
@testable import Wire

/// The parser's short path (`parseCommon`) against its full walk (`walk`): whenever the
/// short path returns a layout, the walk must accept the same frame and return the same
/// layout, field for field; when it declines, it must leave the layout empty; and `parse`
/// must always give what the walk gives. Frames: the parser matrix (every tunnel kind, both IP versions,
/// TCP and UDP, VLAN tags), ICMP, ARP in the overlay, Geneve options, TCP option lists;
/// then each of them with every header byte changed several ways, and cut at every length.
final class ParserShortPathTests: XCTestCase {
    let table = Frames.table

    /// nil: the short path declined. Fails when it answered and the walk disagrees.
    @discardableResult
    func agree(_ frame: [UInt8], _ what: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line) -> Bool? {
        frame.withUnsafeBytes { b -> Bool? in
            // Whatever the short path does, `parse` (it, then the walk on the same value) is the walk.
            XCTAssertEqual(try? PacketLayout.parse(b, tunnels: table), try? PacketLayout.walk(b, tunnels: table),
                           "\(what()): parse and the walk differ", file: file, line: line)
            var short = PacketLayout()
            guard PacketLayout.parseCommon(b, tunnels: table, into: &short) else {
                // The walk goes on from the same value: it must be left empty.
                XCTAssertEqual(short, PacketLayout(), "\(what()): declined, but left fields set", file: file, line: line)
                return nil
            }
            do {
                let full = try PacketLayout.walk(b, tunnels: table)
                if short != full {
                    XCTFail("\(what()): short path \(short) != walk \(full)", file: file, line: line)
                    return false
                }
                return true
            } catch {
                XCTFail("\(what()): short path accepted what the walk rejects (\(error))", file: file, line: line)
                return false
            }
        }
    }

    static var frames: [(String, [UInt8])] {
        var all = ParserMatrixTests.cases.map { ($0.name, ParserMatrixTests.build($0)) }
        let v4 = Endpoints.outer(v6: false), v6 = Endpoints.outer(v6: true)
        let in4 = Endpoints.inner(v6: false), in6 = Endpoints.inner(v6: true)
        func vxlan(_ outer: Endpoints, _ innerFrame: [UInt8], port: UInt16 = 4789) -> [UInt8] {
            let header = Frames.emit(8) { try VXLANFields(vni: 42).emit(into: $0) }
            let udp = Frames.transport(.udp, outer, sport: 49152, dport: port, body: header + innerFrame)
            return Frames.ethernet(outer.v6 ? EtherType.ipv6 : EtherType.ipv4,
                                   body: Frames.ip(outer, proto: IPProtocol.udp, body: udp))
        }
        for outer in [v4, v6] {
            let type = outer.v6 ? EtherType.ipv6 : EtherType.ipv4
            all.append(("icmp", Frames.ethernet(type, body: Frames.ip(outer, proto: outer.v6 ? 58 : 1, body: [8, 0, 0, 0, 1, 2]))))
            all.append(("arp in vxlan", vxlan(outer, Frames.ethernet(EtherType.arp, body: [UInt8](repeating: 1, count: 28)))))
            let ping = Frames.ethernet(EtherType.ipv4, body: Frames.ip(in4, proto: 1, body: [8, 0, 0, 0]))
            all.append(("ping in vxlan", vxlan(outer, ping)))
            all.append(("vxlan on linux port", vxlan(outer, Frames.ethernet(EtherType.ipv6, body: Frames.innerPacket(in6, .tcp, payloadLength: 9)), port: 8472)))
            let nested = Frames.ethernet(EtherType.ipv4, body: Frames.ip(in4, proto: IPProtocol.udp,
                body: Frames.transport(.udp, in4, sport: 1, dport: 4789, body: [8, 0, 0, 0, 0, 0, 0, 0])))
            all.append(("vxlan in vxlan", vxlan(outer, nested)))
            // TCP without options, with MSS/SACK-permitted/window scale, with SACK blocks.
            for options in [[UInt8](), [2, 4, 5, 180, 4, 2, 3, 3, 7, 0], [1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2]] {
                var fields = TCPFields(sourcePort: 1, destinationPort: 2, sequenceNumber: 3, acknowledgmentNumber: 4,
                                       flags: [.ack], window: 5)
                var padded = options
                while padded.count % 4 != 0 { padded.append(0) }
                fields.options = try! HeaderOptions(padded)
                let tcp = Frames.emit(fields.headerLength) { try fields.emit(into: $0) } + [1, 2, 3]
                all.append(("tcp options \(options.count)", Frames.ethernet(type, body: Frames.ip(outer, proto: IPProtocol.tcp, body: tcp))))
            }
        }
        return all
    }

    func testTheShortPathAgreesWithTheWalk() {
        // It must be taken, not merely harmless: by every plain, VXLAN and Geneve frame
        // without a VLAN stack, and by all the others here but the nested tunnel.
        for c in ParserMatrixTests.cases {
            let expected = [.none, .vxlan, .geneve].contains(c.tunnel) && c.vlans.count < 2 ? true : nil
            XCTAssertEqual(agree(ParserMatrixTests.build(c), c.name), expected, c.name)
        }
        for (name, frame) in Self.frames.dropFirst(ParserMatrixTests.cases.count) {
            XCTAssertEqual(agree(frame, name), name == "vxlan in vxlan" ? nil : true, name)
        }
        for kind: TunnelKind in [.none, .vxlan, .geneve] {
            let frame = Frames.frame(kind, outer: .outer(v6: true), inner: .inner(v6: false), l4: .tcp, vlans: [5])
            XCTAssertEqual(agree(frame, "\(kind)"), true, "\(kind) over IPv6 with one VLAN tag takes the short path")
        }
    }

    func testEveryHeaderByteChangedAndEveryCut() {
        var compared = 0
        for (name, frame) in Self.frames {
            for n in 0..<frame.count where agree(Array(frame[..<n]), "\(name) cut at \(n)") != nil { compared += 1 }
            var mutated = frame
            for offset in 0..<min(frame.count, 170) {
                let original = frame[offset]
                for value in Set([0, 0xFF, original ^ 0x01, original ^ 0x08, original ^ 0x40, original ^ 0x80, original &+ 1, original &- 1]) {
                    mutated[offset] = value
                    if agree(mutated, "\(name) byte \(offset) = \(value)") != nil { compared += 1 }
                }
                mutated[offset] = original
            }
        }
        XCTAssertGreaterThan(compared, 10_000)
    }

    /// The short path declines Geneve options that overrun their area; the walk then throws.
    func testGeneveOptionsMustFillTheirArea() throws {
        var frame = Frames.frame(.geneve, outer: .outer(v6: false), inner: .inner(v6: false), l4: .udp)
        let geneve = 14 + 20 + 8
        XCTAssertEqual(agree(frame, "geneve"), true)
        frame[geneve + 8 + 3] = 0x1F  // the first option claims 124 bytes
        XCTAssertNil(agree(frame, "geneve overrun"))
        XCTAssertThrowsError(try frame.withUnsafeBytes { try PacketLayout.parse($0, tunnels: table) })
    }
}
