import FrameSupport
import XCTest
import Wire

final class TunnelPortTableTests: XCTestCase {
    func testDefaultsAndRunTimePorts() throws {
        var t = TunnelPortTable.defaults
        XCTAssertEqual(t.lookup(destinationPort: 4789)?.kind, .vxlan)
        XCTAssertEqual(t.lookup(destinationPort: 4790)?.kind, .vxlanGPE)
        XCTAssertEqual(t.lookup(destinationPort: 6081)?.kind, .geneve)
        XCTAssertNil(t.lookup(destinationPort: 8472))
        XCTAssertNil(t.lookup(destinationPort: 0))
        try t.add(port: 8472, kind: .vxlan)
        try t.add(port: 8472, kind: .vxlan)  // idempotent
        try t.add(port: 5555, kind: .fou, fouProtocol: IPProtocol.ipv4)
        XCTAssertEqual(t.lookup(destinationPort: 5555)?.fouProtocol, 4)
        XCTAssertEqual(t.count, 5)
        XCTAssertThrowsError(try t.add(port: 8472, kind: .geneve)) {
            XCTAssertEqual($0 as? TunnelPortTableError, .conflict(port: 8472, existing: .vxlan))
        }
        XCTAssertThrowsError(try t.add(port: 0, kind: .vxlan)) { XCTAssertEqual($0 as? TunnelPortTableError, .portZero) }
        XCTAssertThrowsError(try t.add(port: 7, kind: .fou)) {
            XCTAssertEqual($0 as? TunnelPortTableError, .fouNeedsProtocol(port: 7))
        }
        XCTAssertTrue(t.remove(port: 4789))
        XCTAssertFalse(t.remove(port: 4789))
        XCTAssertNil(t.lookup(destinationPort: 4789))
    }

    func testCapacityAndSlotReuse() throws {
        var t = TunnelPortTable()
        for p in 1...UInt16(TunnelPortTable.capacity) { try t.add(port: 1000 + p, kind: .gue) }
        XCTAssertThrowsError(try t.add(port: 9, kind: .vxlan)) {
            XCTAssertEqual($0 as? TunnelPortTableError, .full(capacity: 16))
        }
        t.remove(port: 1005)
        try t.add(port: 9, kind: .vxlan)
        XCTAssertEqual(t.lookup(destinationPort: 9)?.kind, .vxlan)
        XCTAssertEqual(t.entries.count, 16)
    }

    /// The parser follows the table: the same frame is VXLAN on 8472 only once it is added.
    func testParserUsesTable() throws {
        let frame = Frames.frame(.vxlan, outer: .outer(v6: false), inner: .inner(v6: false), l4: .udp)
        var f = frame
        f[36] = 0x21
        f[37] = 0x18  // destination port 8472 (the UDP checksum no longer matters to the parser)
        var t = TunnelPortTable.defaults
        XCTAssertEqual(try f.withUnsafeBytes { try PacketLayout.parse($0, tunnels: t) }.tunnel, .none)
        try t.add(port: 8472, kind: .vxlan)
        XCTAssertEqual(try f.withUnsafeBytes { try PacketLayout.parse($0, tunnels: t) }.tunnel, .vxlan)
    }
}
