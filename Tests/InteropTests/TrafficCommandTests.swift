import Foundation
import XCTest

/// The traffic commands and options on the real binary: `start tx_first`, `set txpkts`,
/// `set txsplit`, `set tx_ip`, `set tx_udp`, `set txonly-pcap` on the console, `--tx-first` and
/// bad values on the command line.
final class TrafficCommandTests: XCTestCase {
    private let rings = ["net_ring0", "net_ring1"]

    func testConsoleSetsTrafficAndStartTxFirstFeedsARingLoop() throws {
        let script = """
            set txpkts 60,40
            set txsplit rand
            set tx_ip 10.0.0.1 10.0.0.2
            set tx_udp 1234,5678
            set txpkts 10
            set tx_ip 1.2.3 4.5.6.7
            set txsplit sometimes
            set txonly-pcap /nonexistent.pcap
            show config txpkts
            set nbport 3
            set nbport 2
            set fwd macswap
            start tx_first 3
            stop
            quit

            """
        let result = try Binary.run(Binary.eal("txfirst", vdevs: rings) + ["--", "-i"], input: script)
        XCTAssertEqual(result.status, 0, result.stderr)
        let out = result.stdout
        XCTAssertTrue(out.contains("Tx packet length set to 100 in 2 segment(s)"), out)
        XCTAssertTrue(out.contains("Tx split mode set to rand"), out)
        XCTAssertTrue(out.contains("Tx IP addresses set to 10.0.0.1 -> 10.0.0.2"), out)
        XCTAssertTrue(out.contains("Tx UDP ports set to 1234 -> 5678"), out)
        XCTAssertTrue(out.contains("invalid txpkts '10'; allowed: 1-64 segment lengths"), out)
        XCTAssertTrue(out.contains("invalid tx_ip '1.2.3,4.5.6.7'; allowed: <src>,<dst>: two IPv4 addresses"), out)
        XCTAssertTrue(out.contains("set txsplit: bad value 'sometimes' for <mode>; allowed: off, on, rand"), out)
        XCTAssertTrue(out.contains("invalid txonly-pcap '/nonexistent.pcap'; allowed: a classic pcap file"), out)
        XCTAssertTrue(out.contains("Number of segments: 2\nSegment sizes: 60,40\nSplit packet: rand\ntxonly: UDP 10.0.0.1:1234 -> 10.0.0.2:5678"), out)
        XCTAssertTrue(out.contains("invalid nbport '3'; allowed: 1-2 (the ports there are)"), out)
        XCTAssertTrue(out.contains("Number of forwarding ports set to 2"), out)
        XCTAssertTrue(out.contains("macswap packet forwarding - ports=2 - cores=1 - streams=2"), out)
        // 3 bursts of 32 on each of the 2 streams went out before forwarding: they are the
        // difference between what was sent and what came back round the rings.
        let rx = try XCTUnwrap(out.number(after: "RX-packets:", in: "Accumulated forward statistics"), out)
        let tx = try XCTUnwrap(out.number(after: "TX-packets:", in: "Accumulated forward statistics"), out)
        XCTAssertEqual(tx - rx, 3 * 32 * 2, out)
    }

    func testTxOnlyPcapOnTheCommandLineCutsSuperFramesIntoTheOutputPcap() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tunnelpmd-replay-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // A pcap written by hand: one Ethernet/IPv4/UDP frame of 9,000 bytes, IPv4 checksum 0
        // (the egress path fills it), no UDP checksum.
        var frame = [UInt8](repeating: 0, count: 9_000)
        frame[0..<12] = [2, 0, 0, 0, 0, 9, 2, 0, 0, 0, 0, 8]
        frame[12] = 0x08
        frame[14] = 0x45
        frame[16] = UInt8((9_000 - 14) >> 8); frame[17] = UInt8((9_000 - 14) & 0xFF)
        frame[22] = 64; frame[23] = 17
        frame[26..<34] = [10, 0, 0, 1, 10, 0, 0, 2]
        frame[34..<38] = [0x13, 0x88, 0x17, 0x70]
        frame[38] = UInt8((9_000 - 34) >> 8); frame[39] = UInt8((9_000 - 34) & 0xFF)
        var file = Data()
        func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { file.append(contentsOf: $0) } }
        u32(0xA1B2_C3D4); u32(0x0004_0002); u32(0); u32(0); u32(65_535); u32(1)
        u32(0); u32(0); u32(9_000); u32(9_000)
        file.append(contentsOf: frame)
        let input = directory.appendingPathComponent("in.pcap")
        try file.write(to: input)
        let output = directory.appendingPathComponent("out.pcap")
        let vdev = "net_pcap0,rx_pcap=\(input.path),tx_pcap=\(output.path)"
        let result = try Binary.run(Binary.eal("replay", vdevs: [vdev]) + [
            "--", "--forward-mode=txonly", "--txonly-pcap=\(input.path)", "--no-flush-rx", "--stop-after", "0.3",
        ])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("txonly packet forwarding"), result.stdout)
        let written = try Data(contentsOf: output)
        // Records after the 24-byte header: UDP datagrams Swift GSO cut (USO), at most 1,514 bytes each.
        var at = 24, records = 0
        while at + 16 <= written.count {
            let length = Int(written[at + 8]) | Int(written[at + 9]) << 8
            XCTAssertLessThanOrEqual(length, 1514)
            records += 1
            at += 16 + length
        }
        XCTAssertGreaterThan(records, 6, "each 9,000-byte frame leaves in pieces")
        let bad = try Binary.run(["--", "--txonly-pcap=\(output.path).none"])
        XCTAssertTrue(bad.stderr.contains("invalid txonly-pcap '\(output.path).none'; allowed: a classic pcap file"), bad.stderr)
        XCTAssertTrue(bad.stderr.contains("(cannot read the file)"), bad.stderr)
    }

    func testTxFirstOnTheCommandLineAndBadTrafficValues() throws {
        let result = try Binary.run(Binary.eal("txfirstcli", vdevs: rings) + ["--", "--tx-first", "--stop-after", "0.5"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let rx = try XCTUnwrap(result.stdout.number(after: "RX-packets:", in: "Accumulated forward statistics"), result.stdout)
        let tx = try XCTUnwrap(result.stdout.number(after: "TX-packets:", in: "Accumulated forward statistics"), result.stdout)
        XCTAssertEqual(tx - rx, 32 * 2, "one burst per stream first")
        XCTAssertGreaterThan(rx, 64, "and then forwarded round the loop")
        for (arguments, message) in [
            (["--txpkts=20"], "invalid txpkts '20'; allowed: 1-64 segment lengths"),
            (["--tx-udp=9,x"], "invalid tx-udp '9,x'; allowed: <src>[,<dst>]: UDP ports 0-65535 (one port: both)"),
            (["--flowgen-flows=0"], "invalid flowgen-flows '0'; allowed: 1-2147483647"),
            (["--forward-mode=5tswapp"], "invalid forward-mode '5tswapp'; allowed: io, mac, csum, rxonly, txonly, macswap, flowgen, 5tswap"),
        ] {
            let bad = try Binary.run(["--"] + arguments)
            XCTAssertNotEqual(bad.status, 0)
            XCTAssertTrue(bad.stderr.contains(message), bad.stderr)
        }
    }
}
