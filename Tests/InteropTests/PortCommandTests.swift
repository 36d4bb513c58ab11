import Foundation
import XCTest

/// testpmd's everyday port and state commands piped into the real binary, each checked for
/// testpmd's meaning (the setting changed as a later display shows) and output shape; the
/// commands tunnelpmd leaves out answer "not supported"; --rxq > 1 configures RSS.
/// Ports: net_null0/1 (RSS, RETA, MTU, MAC set; no promiscuous/link control) and net_ring0
/// (promiscuous, all-multicast and link control; no RSS).
final class PortCommandTests: XCTestCase {
    static let vdevs = ["net_null0", "net_null1", "net_ring0"]

    func testPortAndStateCommandsAsTestpmd() throws {
        let script = """
            show config cores
            port config all rxq 2
            port stop all
            port config all rxq 0
            port config all rxq 2
            port config all txq 2
            port config all rxq 2
            port config 0 rxd 512
            port config all rxd 512
            port start all
            show config rxtx
            show port 0 rss-hash
            show port 0 rss-hash key
            port config all rss udp
            show port 0 rss-hash
            port config all rss frob
            port config all rss level-inner
            port config 0 rss reta (0,9)
            port config 0 rss reta (0,1),(1,0)
            show port 0 rss reta 128 (0x3,0x0)
            port config mtu 0 10
            port config mtu 0 9000
            port stop 0
            port start 0
            show port info 0
            set promisc 2 off
            set allmulti 2 on
            set promisc 2 maybe
            set allmulti all off
            set allmulti 2 on
            show port info 2
            set link-down port 2
            show port summary all
            set link-up port 2
            show port summary all
            mac_addr set 0 02:11:22:33:44:66
            show port 0 macs
            mac_addr add 0 02:11:22:33:44:77
            show rxq info 0 1
            show port 0 txq 1 info
            show rxq info 0 5
            show device info all
            set record-burst-stats on
            start
            show fwd stats all
            stop
            clear fwd stats all
            show fwd stats all
            port reset 1
            port stop 1
            port reset 1
            port start 1
            show port info 1
            port stop 2
            port close 2
            show port summary all
            quit

            """
        let result = try Binary.run(Binary.eal("portcmds", vdevs: Self.vdevs) + ["--", "-i"], input: script)
        XCTAssertEqual(result.status, 0, result.stderr)
        let out = result.stdout
        func answer(_ command: String, _ occurrence: Int = 1) -> String { out.answer(to: command, occurrence: occurrence) }

        XCTAssertEqual(answer("show config cores"), "List of forwarding lcores:  1")
        // Queues change with every port stopped only, within the option's range, txq >= rxq.
        XCTAssertEqual(answer("port config all rxq 2"), "port config: port(s) 0, 1, 2 started; stop them first (port stop all)")
        XCTAssertEqual(answer("port config all rxq 0"), "port config: invalid rxq '0'; allowed: 1-1024")
        XCTAssertEqual(answer("port config all rxq 2", 2),
                       "port config: invalid txq '1'; allowed: at least --rxq (2): each rx queue forwards to its own tx queue")
        XCTAssertEqual(answer("port config all rxq 2", 3), "")
        XCTAssertTrue(answer("port config 0 rxd 512").contains("per-port rxd is not supported; allowed: port config all rxd <value>"), out)
        let rxtx = answer("show config rxtx")
        XCTAssertTrue(rxtx.hasPrefix("  io packet forwarding packets/burst=32\n  nb forwarding cores=1 - nb forwarding ports=3"), rxtx)
        for port in 0..<3 { XCTAssertTrue(rxtx.contains("  port \(port): RX queue number: 2 Tx queue number: 2"), rxtx) }
        XCTAssertTrue(rxtx.contains("      RX desc=512 - RX free threshold="), rxtx)
        XCTAssertTrue(rxtx.contains("      TX desc=1024 - TX free threshold="), rxtx)
        // Two rx queues: RSS on with testpmd's default (IP), then UDP; the port reports it.
        XCTAssertEqual(answer("show port 0 rss-hash"), "RSS functions:\n  ip  ipv4  ipv4-frag  ipv4-other  ipv6  ipv6-frag  ipv6-other\n  ipv6-ex")
        XCTAssertEqual(answer("show port 0 rss-hash key"),
                       "show port: port 0 reports no hash key size (dev_info.hash_key_size 0): its key cannot be read")
        let rss = answer("port config all rss udp")
        XCTAssertTrue(rss.contains("Port 2 offers no RSS hash types"), rss)
        XCTAssertTrue(rss.hasSuffix("rss_hf 0x20820"), rss)
        XCTAssertEqual(answer("show port 0 rss-hash", 2), "RSS functions:\n  udp  ipv4-udp  ipv6-udp  ipv6-udp-ex")
        XCTAssertTrue(answer("port config all rss frob").hasPrefix("port config all rss: bad value 'frob' for <types>; allowed: all, none, ip, udp, tcp"))
        let inner = answer("port config all rss level-inner")
        XCTAssertTrue(inner.contains("Port 0 offers no RSS level selection (RTE_ETH_RSS_LEVEL_*)"), inner)
        XCTAssertTrue(inner.contains("Port 0 modified RSS hash function based on hardware support,requested:0x8000000020820 configured:0x20820"), inner)
        XCTAssertEqual(answer("show port 0 rss reta 128 (0x3,0x0)"),
                       "RSS RETA configuration: hash index=0, queue=1\nRSS RETA configuration: hash index=1, queue=0")
        XCTAssertEqual(answer("port config mtu 0 10"), "port config mtu: invalid mtu '10'; allowed: 46-65535 (port 0)")
        // MTU at once and over a restart (rte_eth_dev_configure would reset it).
        XCTAssertTrue(answer("show port info 0").contains("\nMTU: 9000\n"), out)
        let ring = answer("show port info 2")
        XCTAssertTrue(ring.contains("Promiscuous mode: disabled\nAllmulticast mode: enabled"), ring)
        XCTAssertTrue(ring.contains("No RSS offload flow type is supported."), ring)
        XCTAssertEqual(answer("set promisc 2 maybe"), "set promisc: bad value 'maybe' for <on>; allowed: on, off")
        // `all` names each port whose driver refuses (net_null) and goes on to the next.
        let allOff = answer("set allmulti all off")
        XCTAssertTrue(allOff.hasPrefix("set allmulti: port 0: disabling all-multicast mode on port 0: Operation not supported"), allOff)
        XCTAssertEqual(allOff.components(separatedBy: "\n").count, 2, allOff)
        XCTAssertEqual(answer("port config 0 rss reta (0,9)"), "port config: invalid queue '9'; allowed: 0-1 (the rx queues)")
        XCTAssertTrue(answer("show port summary all").contains("net_ring0    net_ring       down"), out)
        XCTAssertTrue(answer("show port summary all", 2).contains("net_ring0    net_ring       up"), out)
        XCTAssertEqual(answer("show port 0 macs"), "Number of MAC address added: 1\n  02:11:22:33:44:66")
        XCTAssertTrue(answer("mac_addr add 0 02:11:22:33:44:77").hasPrefix("mac_addr: port 0: adding MAC address 02:11:22:33:44:77 to port 0:"), out)
        let rxq = answer("show rxq info 0 1")
        XCTAssertTrue(rxq.contains("********************* Infos for port 0 , RX queue 1  *********************"), rxq)
        XCTAssertTrue(rxq.contains("Mempool: mb_pool_0\nRx queue state: started\nNumber of RXDs: 512"), rxq)
        XCTAssertTrue(answer("show port 0 txq 1 info").contains("TX queue 1 ") && answer("show port 0 txq 1 info").contains("Number of TXDs: 1024"), out)
        XCTAssertEqual(answer("show rxq info 0 5"), "show rxq info: invalid rx queue 5 of port 0; allowed: 0-1")
        let devices = answer("show device info all")
        XCTAssertTrue(devices.contains("********************* Infos for device net_null0 *********************\nBus name: vdev"), devices)
        XCTAssertTrue(devices.contains("Driver name: net_ring") && devices.contains("\tMAC address: 02:11:22:33:44:66"), devices)
        // Two queues on three ports: six streams (rx queue q forwards to tx queue q).
        XCTAssertTrue(answer("start").hasPrefix("io packet forwarding - ports=3 - cores=1 - streams=6"), out)
        XCTAssertTrue(answer("start").contains("  RX P=2/Q=1 (socket 0) -> TX P=2/Q=1 (socket 0)"), out)
        // Burst statistics at stop; clear fwd stats starts from zero.
        let stop = answer("stop")
        XCTAssertTrue(stop.contains("  RX-bursts : ") && stop.contains("  TX-bursts : "), stop)
        XCTAssertGreaterThan(stop.number(after: "RX-packets:", in: "Accumulated forward statistics") ?? 0, 0, stop)
        XCTAssertTrue(answer("show fwd stats all").contains("Forward statistics for port 0"), out)
        let cleared = answer("show fwd stats all", 2)
        XCTAssertEqual(cleared.number(after: "RX-packets:", in: "Accumulated forward statistics"), 0, cleared)
        XCTAssertEqual(answer("port reset 1"), "Resetting ports...\nport reset: port 1 is started; stop it first (port stop 1)")
        // No vdev of DPDK 22.11 implements dev_reset: the driver's answer is passed on.
        XCTAssertEqual(answer("port reset 1", 2), "Resetting ports...\nport reset: port 1: resetting port 1: Operation not supported (errno 95)")
        XCTAssertTrue(answer("show port info 1").contains("Port state: started"), out)
        XCTAssertEqual(answer("port close 2"), "Closing ports...\nPort 2 is closed\nDone")
        XCTAssertTrue(answer("show port summary all", 3).hasPrefix("Number of available ports: 2"), out)
        XCTAssertTrue(out.hasSuffix("Bye...\n"))
    }

    func testUnsupportedCommandsSayNotSupported() throws {
        let commands = [
            "flow create 0 ingress pattern eth / end actions drop / end", "flow list 0", "tm show", "add port tm node 0 1 2",
            "set bonding mode 1 0", "bpf-load rx 0 0 J ./t.o", "ddp add 0 profile.pkg", "set vf rate 0 1 100",
            "set raw_encap 0 eth / end", "set vxlan ip-version ipv4 vni 4", "set flow_ctrl rx on 0",
            "rx_vlan add 1 0", "dump_physmem", "create port meter 0 1 1 yes G G G 0 1 0",
        ]
        let result = try Binary.run(Binary.eal("unsupported") + ["--", "-i"], input: commands.joined(separator: "\n") + "\nquit\n")
        XCTAssertEqual(result.status, 0, result.stderr)
        let prefixes = ["flow", "flow", "tm", "add port tm", "set bonding", "bpf-load", "ddp", "set vf", "set raw_encap",
                        "set vxlan", "set flow_ctrl", "rx_vlan", "dump_physmem", "create port meter"]
        for (command, prefix) in zip(commands, prefixes) {
            let answer = result.stdout.answer(to: command)
            XCTAssertTrue(answer.hasPrefix("\(prefix): not supported by tunnelpmd ("), "\(command): \(answer)")
            XCTAssertTrue(answer.hasSuffix(")") && !answer.contains("\n"), "\(command): \(answer)")
        }
    }

    /// testpmd's init_port_config: with --rxq > 1 the port hashes RTE_ETH_RSS_IP masked by what
    /// it offers; --rss-udp / the config key change that, --disable-rss turns it off, one rx
    /// queue never hashes. net_null keeps and reports the configured rss_hf (net_ring and
    /// net_pcap offer no RSS).
    func testMultiQueueConfiguresRSS() throws {
        func rssHash(_ options: [String]) throws -> String {
            let result = try Binary.run(Binary.eal("rss") + ["--", "-i"] + options, input: "show port 0 rss-hash\nquit\n")
            XCTAssertEqual(result.status, 0, result.stderr)
            return result.stdout.answer(to: "show port 0 rss-hash")
        }
        XCTAssertTrue(try rssHash(["--rxq=2", "--txq=2"]).hasPrefix("RSS functions:\n  ip  ipv4"))
        XCTAssertEqual(try rssHash(["--rxq=2", "--txq=2", "--disable-rss"]), "RSS disabled")
        XCTAssertEqual(try rssHash(["--rss-udp"]), "RSS disabled")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tunnelpmd-rss-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("rss.yaml")
        try "forwarding:\n  rxq: 2\n  txq: 2\n  rss_udp: true\n  portmask: \"0x1\"\n".write(to: config, atomically: true, encoding: .utf8)
        let result = try Binary.run(
            Binary.eal("rsscfg") + ["--", "-i", "--config", config.path], input: "show port 0 rss-hash\nshow config fwd\nquit\n")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout.answer(to: "show port 0 rss-hash"), "RSS functions:\n  udp  ipv4-udp  ipv6-udp  ipv6-udp-ex")
        // Only port 0 forwards (portmask 0x1): to itself, one stream per rx queue.
        XCTAssertTrue(result.stdout.answer(to: "show config fwd").hasPrefix("io packet forwarding - ports=1 - cores=1 - streams=2"), result.stdout)
    }

    /// Fixed-core mode with --nb-ports=1 forwards on port 0 alone (to itself) and, with
    /// --record-burst-stats, prints testpmd's burst lines at the end.
    func testNbPortsAndRecordBurstStatsOptions() throws {
        let result = try Binary.run(Binary.eal("bursts") + ["--", "--nb-ports=1", "--record-burst-stats", "--stop-after=0.5"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("Forward statistics for port 0"), result.stdout)
        XCTAssertFalse(result.stdout.contains("Forward statistics for port 1"), result.stdout)
        XCTAssertTrue(result.stdout.contains("  RX-bursts : ") && result.stdout.contains("% of 32 pkts"), result.stdout)
        XCTAssertTrue(result.stdout.contains("  TX-bursts : "), result.stdout)
    }

    func testPortOptionsNameWhatIsAllowed() throws {
        let mask = try Binary.run(Binary.eal("portmask") + ["--", "--portmask=zz"])
        XCTAssertEqual(mask.status, 2)
        XCTAssertTrue(mask.stderr.contains("invalid portmask 'zz'; allowed: a non-zero hexadecimal bitmask of port ids"), mask.stderr)
        let count = try Binary.run(Binary.eal("nbports") + ["--", "-i", "--nb-ports=3"])
        XCTAssertNotEqual(count.status, 0)
        XCTAssertTrue(count.stderr.contains("invalid nb-ports '3'; allowed: 1-2 (the ports that may forward)"), count.stderr)
        // One socket here: --socket-num names it or is refused with the sockets EAL found.
        let socket = try Binary.run(Binary.eal("socketnum") + ["--", "-i", "--socket-num=1"])
        XCTAssertNotEqual(socket.status, 0)
        XCTAssertTrue(socket.stderr.contains("invalid socket-num '1'; allowed: 0 (the sockets EAL found)"), socket.stderr)
        let uma = try Binary.run(Binary.eal("nonuma") + ["--", "-i", "--no-numa", "--socket-num=0"], input: "show port info 0\nstart\nstop\nquit\n")
        XCTAssertTrue(uma.stdout.contains("Connect to socket: 0\nmemory allocation on the socket: 0\n"), uma.stdout)
        XCTAssertEqual(uma.status, 0, uma.stderr)
        XCTAssertTrue(uma.stdout.contains("create a new mbuf pool <mb_pool_0>: n=8192, size=2176, socket=0"), uma.stdout)
        XCTAssertGreaterThan(uma.stdout.number(after: "RX-packets:", in: "Accumulated forward statistics") ?? 0, 0, uma.stdout)
    }
}

extension String {
    /// What the console printed after the `occurrence`-th echo of `command`, up to the next
    /// prompt, without the trailing newline.
    func answer(to command: String, occurrence: Int = 1) -> String {
        var start = startIndex
        for _ in 0..<occurrence {
            guard let range = range(of: "tunnelpmd> \(command)\n", range: start..<endIndex) else { return "<no echo of '\(command)'>" }
            start = range.upperBound
        }
        let end = range(of: "tunnelpmd> ", range: start..<endIndex)?.lowerBound ?? endIndex
        var text = String(self[start..<end])
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }
}
