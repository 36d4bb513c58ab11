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
              gso_segsz: 1400
              idle_sleep_us: 50
              enable_lro: true
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
        XCTAssertEqual(options.gsoSegmentSize, 1400)
        XCTAssertEqual(options.idleSleepMicroseconds, 50)
        XCTAssertTrue(options.enableLRO)
        XCTAssertEqual(options.ethPeers, [0: MACAddress(0x78, 0xD4, 0xF1, 0x5A, 0x8D, 0x9D), 1: MACAddress(0x08, 0xC0, 0xEB, 0x6C, 0x7B, 0xC7)])
        XCTAssertEqual(options.peer(of: 2), MACAddress(2, 0, 0, 0, 0, 2), "testpmd's default peer")
        XCTAssertEqual(options.statsPeriod, 2)
        XCTAssertEqual(options.stopAfter, 1.5)
    }

    func testErrorsNameFileLineKeyAndAllowedValues() {
        let cases: [(String, String)] = [
            ("forwarding:\n  mode: frob\n", "t.yaml:2: invalid forwarding.mode 'frob'; allowed: io, mac, csum, rxonly, txonly, macswap, flowgen, 5tswap"),
            ("forwarding:\n  burst: 0\n", "t.yaml:2: invalid forwarding.burst '0'; allowed: 1-512"),
            ("forwarding:\n  topology: ring\n", "t.yaml:2: invalid forwarding.topology 'ring'; allowed: paired, chained, loop"),
            ("eal:\n  lcore: 0-1\n", "t.yaml:2: invalid key in eal 'lcore'; allowed: lcores, memory, no_huge, no_pci, no_shconf, file_prefix, vdevs, allow, args"),
            ("frob: 1\n", "t.yaml:1: invalid key 'frob'; allowed: eal, forwarding, run"),
            ("run:\n  stop_after: -1\n", "t.yaml:2: invalid run.stop_after '-1'; allowed: a positive number of seconds"),
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

    /// Every integer option of the table: its bounds are accepted and one past them refused,
    /// in the config file (validate() included) and by the option's parser, with the table's
    /// range as what is allowed.
    func testEveryIntegerOptionAtAndPastItsBounds() throws {
        let integers = ForwardingOptions.options.filter { $0.range != nil }
        XCTAssertEqual(Set(integers.map(\.name)), [
            "nb-cores", "rxq", "txq", "rxd", "txd", "burst", "mbuf-size", "total-num-mbufs", "max-pkt-len", "verbose", "gso-segsz",
            "idle-sleep-us", "stats-period", "gro-flush", "gro-timeout-us", "gro-flows", "gro-segments", "gro-size", "nb-ports", "socket-num",
            "flowgen-clones", "flowgen-flows",
        ])
        for option in integers {
            let range = try XCTUnwrap(option.range)
            XCTAssertEqual(option.allowed, "\(range.lowerBound)-\(range.upperBound)")
            // rxq needs as many tx queues.
            let extra = option.key == "rxq" ? "\n  txq: 1024" : ""
            let section = option.section == .run ? "run" : "forwarding"
            for value in [range.lowerBound, range.upperBound] {
                let text = "\(section):\n  \(option.key): \(value)" + (option.section == .forwarding ? extra : "") + "\n"
                let config = try RunConfiguration.parse(text, source: "t.yaml")
                XCTAssertEqual(option.current?(config.forwarding), value, option.name)
            }
            for value in [range.lowerBound - 1, range.upperBound + 1] {
                XCTAssertThrowsError(try RunConfiguration.parse("\(section):\n  \(option.key): \(value)\n", source: "t.yaml")) { error in
                    XCTAssertEqual("\(error)", "t.yaml:2: invalid \(section).\(option.key) '\(value)'; allowed: \(option.allowed)")
                }
                // The command line's parser: the same range, in its words.
                XCTAssertThrowsError(try option.parse("\(value)", as: option.name)) { error in
                    XCTAssertEqual("\(error)", "invalid \(option.name) '\(value)'; allowed: \(option.allowed)")
                }
            }
        }
    }

    func testValidateUsesTheTableRanges() {
        var options = ForwardingOptions()
        options.burst = 513
        XCTAssertThrowsError(try options.validate()) { XCTAssertEqual("\($0)", "invalid burst '513'; allowed: 1-512") }
        options = ForwardingOptions()
        options.idleSleepMicroseconds = 100_001
        XCTAssertThrowsError(try options.validate()) { XCTAssertEqual("\($0)", "invalid idle-sleep-us '100001'; allowed: 0-100000") }
        options = ForwardingOptions()
        options.forwardingCores = 0
        XCTAssertThrowsError(try options.validate()) { XCTAssertEqual("\($0)", "invalid nb-cores '0'; allowed: 1-128") }
        options = ForwardingOptions()
        options.mbufSize = 383
        XCTAssertThrowsError(try options.validate()) { XCTAssertEqual("\($0)", "invalid mbuf-size '383'; allowed: 384-65535") }
    }

    /// The unknown-key error lists every key of the section, from the table.
    func testUnknownKeyListsEveryKeyOfTheSection() {
        XCTAssertThrowsError(try RunConfiguration.parse("forwarding:\n  frob: 1\n", source: "t.yaml")) { error in
            XCTAssertEqual("\(error)", "t.yaml:2: invalid key in forwarding 'frob'; allowed: mode, topology, nb_cores, rxq, txq, rxd, txd, "
                + "burst, mbuf_size, total_num_mbufs, max_pkt_len, flush_rx, verbose, gso_ports, gso_segsz, vnet_taps, eth_peers, "
                + "eth_peers_configfile, idle_sleep_us, enable_lro, gro_ports, gro_flush, gro_timeout_us, gro_flows, gro_segments, "
                + "gro_size, gro_verify, portmask, nb_ports, rss_ip, rss_udp, disable_rss, record_burst_stats, numa, socket_num, "
                + "coremask, port_numa_config, ring_numa_config, "
                + "txpkts, tx_ip, tx_udp, tx_first, txonly_pcap, flowgen_clones, flowgen_flows")
        }
        XCTAssertThrowsError(try RunConfiguration.parse("run:\n  frob: 1\n", source: "t.yaml")) { error in
            XCTAssertEqual("\(error)", "t.yaml:2: invalid key in run 'frob'; allowed: stats_period, stop_after")
        }
        for section in [OptionSpec.Section.forwarding, .run] {
            // Once each (--numa and --no-numa share `numa`).
            let keys = ForwardingOptions.options.filter { $0.section == section }.map(\.key)
            XCTAssertEqual(ForwardingOptions.configKeys(in: section), keys.enumerated().filter { keys.firstIndex(of: $0.element) == $0.offset }.map(\.element))
        }
    }

    /// `enable_lro: true` turns LRO on as --enable-lro does; `flush_rx` is --no-flush-rx's key;
    /// a bad value names the key and what is allowed.
    func testFlagsHaveConfigKeys() throws {
        XCTAssertFalse(ForwardingOptions().enableLRO)
        XCTAssertTrue(try RunConfiguration.parse("forwarding:\n  enable_lro: true\n", source: "t.yaml").forwarding.enableLRO)
        XCTAssertFalse(try RunConfiguration.parse("forwarding:\n  enable_lro: false\n", source: "t.yaml").forwarding.enableLRO)
        var flagged = ForwardingOptions()
        try OptionSpec.enableLRO.parse(try XCTUnwrap(OptionSpec.enableLRO.flagValue), as: "enable-lro")(&flagged)
        XCTAssertEqual(flagged, try RunConfiguration.parse("forwarding:\n  enable_lro: true\n", source: "t.yaml").forwarding)
        var noFlush = ForwardingOptions()
        try OptionSpec.noFlushRx.parse(try XCTUnwrap(OptionSpec.noFlushRx.flagValue), as: "no-flush-rx")(&noFlush)
        XCTAssertFalse(noFlush.flushRxOnStart)
        XCTAssertThrowsError(try RunConfiguration.parse("forwarding:\n  enable_lro: maybe\n", source: "t.yaml")) { error in
            XCTAssertEqual("\(error)", "t.yaml:2: invalid forwarding.enable_lro 'maybe'; allowed: true, false")
        }
        XCTAssertThrowsError(try RunConfiguration.parse("forwarding:\n  idle_sleep_us: 100001\n", source: "t.yaml")) { error in
            XCTAssertEqual("\(error)", "t.yaml:2: invalid forwarding.idle_sleep_us '100001'; allowed: 0-100000")
        }
    }

    /// The table's defaults are ForwardingOptions()'s, and the console's GSO range is the table's.
    func testTableDefaultsMatchTheOptions() {
        let defaults = ForwardingOptions()
        for option in ForwardingOptions.options {
            guard let value = option.current?(defaults) else { continue }
            XCTAssertTrue(option.defaultText.hasPrefix("\(value)"), "\(option.name): \(option.defaultText) vs \(value)")
        }
        XCTAssertEqual(OptionSpec.gsoSegsz.range, Forwarder.gsoSegmentSizeRange)
        XCTAssertEqual(ForwardingOptions.maxBurst, 512)
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
        // The bare-metal example: 4 queues per port on 4 forwarding lcores, RSS over UDP ports, NUMA mode, and options that pass the same validation as the command line's.
        let bareMetal = try RunConfiguration.load(path: root.appendingPathComponent("Configs/bare-metal.yaml").path)
        let options = bareMetal.forwarding
        XCTAssertEqual([Int(options.rxQueues), Int(options.txQueues), options.forwardingCores], [4, 4, 4])
        XCTAssertEqual(options.rssHashFunctions, RSSTypes.udp, "testpmd's --rss-udp: RTE_ETH_RSS_UDP")
        XCTAssertTrue(options.numa)
        XCTAssertNoThrow(try options.validate())
        XCTAssertEqual(Array(bareMetal.ealArguments.prefix(2)), ["-l", "2-6"])
    }
}
