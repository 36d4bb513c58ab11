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
        XCTAssertTrue(out.contains("invalid nbport '3'; allowed: 1-2 (the ports there are)"), out)
        XCTAssertTrue(out.contains("Number of forwarding ports set to 2"), out)
        XCTAssertTrue(out.contains("macswap packet forwarding - ports=2 - cores=1 - streams=2"), out)
        // 3 bursts of 32 on each of the 2 streams went out before forwarding: they are the
        // difference between what was sent and what came back round the rings.
        let rx = try XCTUnwrap(out.number(after: "RX-packets:", in: "Accumulated forward statistics"), out)
        let tx = try XCTUnwrap(out.number(after: "TX-packets:", in: "Accumulated forward statistics"), out)
        XCTAssertEqual(tx - rx, 3 * 32 * 2, out)
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
