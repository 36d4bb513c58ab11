import Dataplane
import DPDK
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
              verbose: 100
              gso_ports: none
              eth_peers:
                0: 78:d4:f1:5a:8d:9d
                1: "08:c0:eb:6c:7b:c7"
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
        XCTAssertEqual(options.verbose, 100, "any level, as testpmd")
        XCTAssertEqual(options.gsoPorts, .ids([]), "none: Swift GSO off everywhere")
        XCTAssertEqual(options.ethPeers, [0: MACAddress(0x78, 0xD4, 0xF1, 0x5A, 0x8D, 0x9D), 1: MACAddress(0x08, 0xC0, 0xEB, 0x6C, 0x7B, 0xC7)])
        XCTAssertEqual(options.peer(of: 2), MACAddress(2, 0, 0, 0, 0, 2), "testpmd's default peer")
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
            ("forwarding:\n  gso_ports: some\n", "t.yaml:2: invalid forwarding.gso_ports 'some'; allowed: all, none, or port ids separated by commas (e.g. 0,1)"),
            ("forwarding:\n  eth_peers:\n    0: 78:d4:f1\n",
             "t.yaml:3: invalid forwarding.eth_peers '78:d4:f1'; allowed: XX:XX:XX:XX:XX:XX (six hex pairs, e.g. 78:d4:f1:5a:8d:9d)"),
            ("forwarding:\n  eth_peers:\n    x: 78:d4:f1:5a:8d:9d\n",
             "t.yaml:3: invalid forwarding.eth_peers 'x,78:d4:f1:5a:8d:9d'; allowed: <port>,<mac> with port 0-31 and mac XX:XX:XX:XX:XX:XX (six hex pairs, e.g. 78:d4:f1:5a:8d:9d)"),
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

    func testEthPeersConfigFileIsTestpmdsFormat() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tunnelpmd-peers-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let good = directory.appendingPathComponent("peers.txt")
        try "78:d4:f1:5a:8d:9d\n08:C0:EB:6C:7B:C7 \n\n".write(to: good, atomically: true, encoding: .utf8)
        let config = try RunConfiguration.parse("forwarding:\n  eth_peers_configfile: \(good.path)\n", source: "t.yaml")
        XCTAssertEqual(config.forwarding.ethPeers, [0: MACAddress(0x78, 0xD4, 0xF1, 0x5A, 0x8D, 0x9D), 1: MACAddress(0x08, 0xC0, 0xEB, 0x6C, 0x7B, 0xC7)])
        let bad = directory.appendingPathComponent("bad.txt")
        try "78:d4:f1:5a:8d:9d\nnot-a-mac\n".write(to: bad, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ForwardingOptions.readEthPeers(path: bad.path, option: "eth-peers-configfile")) { error in
            XCTAssertEqual("\(error)", "\(bad.path):2: invalid eth-peers-configfile 'not-a-mac'; allowed: "
                + "XX:XX:XX:XX:XX:XX (six hex pairs, e.g. 78:d4:f1:5a:8d:9d) on line 2 for port 1")
        }
        XCTAssertThrowsError(try ForwardingOptions.readEthPeers(path: "/nonexistent/peers", option: "eth-peers-configfile")) { error in
            XCTAssertTrue("\(error)".hasPrefix("invalid eth-peers-configfile '/nonexistent/peers'; allowed: a readable file"), "\(error)")
        }
    }

    func testEthPeerOption() throws {
        let peer = try ForwardingOptions.parseEthPeer("1,08:c0:eb:6c:7b:c7", option: "eth-peer")
        XCTAssertEqual(peer.port, 1)
        XCTAssertEqual(peer.mac.description, "08:C0:EB:6C:7B:C7")
        for text in ["1", "32,08:c0:eb:6c:7b:c7", "-1,08:c0:eb:6c:7b:c7", "1,08:c0:eb:6c:7b", "1,08-c0-eb-6c-7b-c7"] {
            XCTAssertThrowsError(try ForwardingOptions.parseEthPeer(text, option: "eth-peer"), text)
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
