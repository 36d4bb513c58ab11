import Dataplane
import XCTest

final class ConfigTests: XCTestCase {
    func testEveryKeyIsRead() throws {
        let config = try RunConfiguration.parse("""
            eal:
              lcores: "0-1"
              memory: 256
              no_huge: true
              no_pci: true
              no_shconf: true
              file_prefix: demo
              vdevs: [net_null0, net_null1]
              args: ["--log-level", "8"]
            forwarding:
              mode: mac
              topology: chained
              nb_cores: 1
              rxq: 1
              txq: 2
              rxd: 512
              txd: 256
              burst: 64
              mbuf_size: 2048
              total_num_mbufs: 4096
              max_pkt_len: 9018
              flush_rx: false
              verbose: 1
            run:
              stats_period: 2
              stop_after: 1.5
            """, source: "t.yaml")
        XCTAssertEqual(config.ealArguments, [
            "-l", "0-1", "-m", "256", "--no-huge", "--no-pci", "--no-shconf", "--file-prefix", "demo",
            "--vdev", "net_null0", "--vdev", "net_null1", "--log-level", "8",
        ])
        let options = config.forwarding
        XCTAssertEqual(options.mode, .mac)
        XCTAssertEqual(options.topology, .chained)
        XCTAssertEqual(options.txQueues, 2)
        XCTAssertEqual(options.rxDescriptors, 512)
        XCTAssertEqual(options.txDescriptors, 256)
        XCTAssertEqual(options.burst, 64)
        XCTAssertEqual(options.mbufSize, 2048)
        XCTAssertEqual(options.totalMbufs, 4096)
        XCTAssertEqual(options.maxPacketLength, 9018)
        XCTAssertFalse(options.flushRxOnStart)
        XCTAssertEqual(options.verbose, 1)
        XCTAssertEqual(options.statsPeriod, 2)
        XCTAssertEqual(options.stopAfter, 1.5)
    }

    func testErrorsNameFileLineKeyAndAllowedValues() {
        let cases: [(String, String)] = [
            ("forwarding:\n  mode: frob\n", "t.yaml:2: invalid forwarding.mode 'frob'; allowed: io, mac, csum"),
            ("forwarding:\n  burst: 0\n", "t.yaml:2: invalid forwarding.burst '0'; allowed: an integer in 1-512"),
            ("forwarding:\n  topology: ring\n", "t.yaml:2: invalid forwarding.topology 'ring'; allowed: paired, chained, loop"),
            ("eal:\n  lcore: 0-1\n", "t.yaml:2: invalid key in eal 'lcore'; allowed: lcores, memory, no_huge, no_pci, no_shconf, file_prefix, vdevs, allow, args"),
            ("frob: 1\n", "t.yaml:1: invalid key 'frob'; allowed: eal, forwarding, run"),
            ("run:\n  stop_after: -1\n", "t.yaml:2: invalid run.stop_after '-1'; allowed: a positive number"),
            ("eal:\n  no_huge: maybe\n", "t.yaml:2: invalid eal.no_huge 'maybe'; allowed: true, false"),
            ("forwarding:\n  rxq: 2\n", "t.yaml: invalid txq '1'; allowed: at least --rxq (2): each rx queue forwards to its own tx queue"),
            ("eal: [a, b]\n", "t.yaml:1: invalid eal '(a list)'; allowed: a mapping of keys"),
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try RunConfiguration.parse(text, source: "t.yaml"), text) { error in
                XCTAssertEqual("\(error)", message)
            }
        }
        XCTAssertThrowsError(try RunConfiguration.load(path: "/nonexistent/x.yaml")) { error in
            XCTAssertTrue("\(error)".hasPrefix("invalid config '/nonexistent/x.yaml'; allowed: a readable YAML file"), "\(error)")
        }
    }

    func testShippedConfigsParse() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for name in ["demo.yaml", "ci.yaml", "bare-metal.yaml"] {
            let path = root.appendingPathComponent("Configs/\(name)").path
            XCTAssertNoThrow(try RunConfiguration.load(path: path), name)
        }
    }
}
