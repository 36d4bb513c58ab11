import Foundation
import TestSupport
import XCTest

/// The testpmd session of the VXLAN tunnel TSO article (shared seed 002), verbatim, in the real
/// binary: piped to `-i`, as `-i --cmdline-file` and as `--cmdline-file` alone. The article's
/// frame (scapy: VXLAN VNI 1000, inner TCP, 6000 bytes of payload) enters port 1 and must leave
/// port 0 as the article's five frames (4 x 1514 + 464 bytes: Swift GSO at 1410 where the port
/// has no tunnel TSO) with every checksum valid (tshark), the payload intact
/// (Tools/scripts/tunnel_frames.py check) and the eth-peer addresses; or, where port 0 is a
/// vnet tap with tunnel offloads, as one super-frame the kernel accepts. Processes and
/// namespaces made here are ended by pid and removed by name, also when a test fails.
final class SeedSessionTests: XCTestCase {
    static let session = """
        set fwd csum
        port stop all
        set eth-peer 0 78:d4:f1:5a:8d:9d
        set eth-peer 1 08:c0:eb:6c:7b:c7
        port config 0 tx_offload outer_ipv4_cksum on
        port config 0 tx_offload vxlan_tnl_tso on
        port config 0 tx_offload tcp_tso on
        csum parse-tunnel on 0
        tunnel_tso set 1410 0
        port start all
        set verbose 100
        start

        """
    private static let frames = Binary.root.appendingPathComponent("Tools/scripts/tunnel_frames.py").path
    private static let topology = Binary.root.appendingPathComponent("Tools/netns/vxlan-taps.sh").path
    private var directory: URL!
    private var running: [Binary.Running] = []
    private var prefix: String?

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tunnelpmd-seed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: "/usr/bin/tshark"), "tshark missing: apt-get install tshark (make deps)")
    }

    override func tearDown() {
        for process in running where process.process.isRunning {
            kill(process.process.processIdentifier, SIGKILL)
            process.process.waitUntilExit()
        }
        running = []
        if let prefix { _ = try? Command.run("/usr/bin/env", ["sh", Self.topology, "down", prefix]) }
        try? FileManager.default.removeItem(at: directory)
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// The article's frame, with a fixed payload so a failure can be reproduced, and an outer
    /// destination other than the peer's (the article's already is 78:d4:f1:5a:8d:9d), so the
    /// eth-peer rewrite shows.
    private func seedFrame() throws -> String {
        let out = path("seed.pcap")
        let result = try Command.run("/usr/bin/env", ["python3", "-c", """
            import sys
            from scapy.all import Ether, IP, UDP, TCP, Raw, wrpcap
            from scapy.layers.vxlan import VXLAN
            data = bytes((i * 7 + 3) % 251 for i in range(6000))
            pkt = (Ether(dst='02:00:00:00:00:01', src='00:50:56:91:f3:42', type=0x0800)
                   / IP(src='123.123.123.1', dst='123.123.123.2') / UDP(dport=4789, sport=54321) / VXLAN(vni=1000)
                   / Ether(dst='11:11:11:11:11:11', src='22:22:22:22:22:22', type=0x0800)
                   / IP(src='1.1.1.1', dst='1.1.1.2') / TCP(dport=55555, sport=44444, flags='A', seq=1001, ack=2001)
                   / Raw(data))
            assert len(pkt) == 6104, len(pkt)
            wrpcap(sys.argv[1], [pkt])
            """, out])
        XCTAssertEqual(result.status, 0, "scapy (pip install scapy): \(result.output)")
        return out
    }

    private func write(_ name: String, _ text: String) throws -> String {
        try text.write(toFile: path(name), atomically: true, encoding: .utf8)
        return path(name)
    }

    private func start(_ arguments: [String]) throws -> Binary.Running {
        let process = try Binary.Running(arguments)
        running.append(process)
        return process
    }

    // MARK: net_pcap: port 0 without tunnel TSO

    enum Mode: String, CaseIterable { case piped, interactiveFile, file }

    /// Runs the session in `mode` with port 1 reading the seed frame and port 0 writing
    /// `out.pcap`; returns tunnelpmd's stdout.
    private func runOnPcap(_ mode: Mode, seed: String) throws -> (stdout: String, output: String) {
        let empty = path("empty.pcap")
        if !FileManager.default.fileExists(atPath: empty) {
            XCTAssertEqual(try Command.run("/usr/bin/env", ["python3", "-c", "import sys; from scapy.all import wrpcap; wrpcap(sys.argv[1], [])", empty]).status, 0)
        }
        let output = path("out-\(mode).pcap")
        let eal = Binary.eal("seed-\(mode)", vdevs: [
            "net_pcap0,rx_pcap=\(empty),tx_pcap=\(output)",
            "net_pcap1,rx_pcap=\(seed),tx_pcap=\(path("discard-\(mode).pcap"))",
        ])
        // The frame waits in port 1's pcap: `start` must not flush it away.
        let app = ["--", "--no-flush-rx"]
        let file = try write("seed-session.txt", Self.session)
        let result: Binary.Result
        switch mode {
        case .piped, .interactiveFile:
            let process = try start(eal + app + (mode == .piped ? ["-i"] : ["-i", "--cmdline-file=\(file)"]))
            if mode == .piped { process.send(Self.session) }
            // Verbose output reaches the pipe while forwarding, before any stop.
            XCTAssertTrue(process.waitFor("port 1/queue 0: received 1 packets"), "\(mode): no verbose line before stop\n\(process.stdout)")
            XCTAssertTrue(process.waitFor("port 1/queue 0 -> port 0: l2_len=14"), "\(mode): no csum line before stop\n\(process.stdout)")
            process.send("tunnel_tso show 0\nshow port 0 offload plan\nstop\nquit\n")
            process.closeInput()
            result = process.finish()
        case .file:
            result = try Binary.run(eal + app + ["--cmdline-file=\(file)", "--stop-after", "2"])
            XCTAssertTrue(result.stdout.contains("Packet forwarding already started"), result.stdout)
        }
        XCTAssertEqual(result.status, 0, "\(mode): \(result.stderr)")
        return (result.stdout, output)
    }

    /// One tshark line per frame: length, Ethernet addresses (outer, inner), checksum verdicts.
    private struct Frame {
        var length: Int
        var destinations: [String], sources: [String]
        var verdicts: [String]
    }

    private func frames(_ pcap: String) throws -> [Frame] {
        let result = try Command.run("/usr/bin/tshark", [
            "-r", pcap, "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
            "-T", "fields", "-E", "separator=;", "-E", "aggregator=,", "-e", "frame.len", "-e", "eth.dst", "-e", "eth.src",
            "-e", "ip.checksum.status", "-e", "udp.checksum.status", "-e", "tcp.checksum.status",
        ])
        XCTAssertEqual(result.status, 0, result.output)
        return result.output.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 6, let length = Int(fields[0]) else { return nil }
            let list = { (text: String) in text.split(separator: ",").map(String.init) }
            return Frame(length: length, destinations: list(fields[1]), sources: list(fields[2]),
                         verdicts: list(fields[3]) + list(fields[4]) + list(fields[5]))
        }
    }

    /// The MAC tunnelpmd printed for `port` when it started it ("Port 0: 02:70:63:61:70:00").
    private func mac(of port: Int, in stdout: String) -> String? {
        guard let range = stdout.range(of: "Port \(port): ") else { return nil }
        return String(stdout[range.upperBound...].prefix(17)).lowercased()
    }

    func testSeedSessionOnPortWithoutTunnelTSO() throws {
        let seed = try seedFrame()
        for mode in Mode.allCases {
            let (stdout, output) = try runOnPcap(mode, seed: seed)
            // The session ran unchanged: refusals are facts about the port, the rest goes on.
            for line in [
                "Set csum packet forwarding mode",
                "port config: port 0 does not offer tx offload outer_ipv4_cksum; allowed: none",
                "port config: port 0 does not offer tx offload vxlan_tnl_tso; allowed: none",
                "TSO segment size for tunneled packets is 1410",
                "port 0 has no tunnel TSO (none of VXLAN, GRE, IPIP, GENEVE, IP, UDP): Swift GSO will cut at 1410",
                "Change verbose level from 0 to 100",
                "RX P=1/Q=0 (socket 0) -> TX P=0/Q=0 (socket 0) peer=78:D4:F1:5A:8D:9D",
                "RX P=0/Q=0 (socket 0) -> TX P=1/Q=0 (socket 0) peer=08:C0:EB:6C:7B:C7",
            ] {
                XCTAssertTrue(stdout.contains(line), "\(mode): missing '\(line)'\n\(stdout)")
            }
            if mode != .file {
                XCTAssertTrue(stdout.contains("port 0 has no tunnel TSO (none of VXLAN, GRE, IPIP, GENEVE, IP, UDP): Swift GSO cuts at 1410"), stdout)
            }
            XCTAssertFalse(stdout.contains("Dropped (oversize)"), "\(mode): the super-frame was cut, not dropped\n\(stdout)")
            XCTAssertEqual(stdout.number(after: "GSO-input:", in: "Forward statistics for port 0"), 1, "\(mode): \(stdout)")
            XCTAssertEqual(stdout.number(after: "GSO-segments:", in: "Forward statistics for port 0"), 5, "\(mode): \(stdout)")
            XCTAssertEqual(stdout.number(after: "TX-packets:", in: "Forward statistics for port 0"), 5, "\(mode): \(stdout)")

            let sent = try frames(output)
            XCTAssertEqual(sent.map(\.length), [1514, 1514, 1514, 1514, 464], "\(mode): the article's five frames")
            let source = try XCTUnwrap(mac(of: 0, in: stdout), stdout)
            // As testpmd's csum engine: destination the tx port's peer, source its own address;
            // the inner frame as sent.
            XCTAssertEqual(sent.map(\.destinations), Array(repeating: ["78:d4:f1:5a:8d:9d", "11:11:11:11:11:11"], count: sent.count),
                           "\(mode): outer destination = eth-peer 0")
            XCTAssertEqual(sent.map(\.sources), Array(repeating: [source, "22:22:22:22:22:22"], count: sent.count),
                           "\(mode): outer source = port 0's address")
            // Outer IPv4, inner IPv4, outer UDP, inner TCP: all checked and good (1).
            XCTAssertEqual(sent.map(\.verdicts), Array(repeating: ["1", "1", "1", "1"], count: sent.count), "\(mode): tshark verdicts")
            let check = try Command.run("/usr/bin/env", ["python3", Self.frames, "check", seed, output, "--max-frame", "1514"])
            XCTAssertEqual(check.status, 0, "\(mode): payload reassembled byte for byte: \(check.output)")
        }
    }

    /// Only where the user turned Swift GSO off is the super-frame dropped, and counted.
    func testSeedSessionWithGSOTurnedOffDropsAsOversize() throws {
        let seed = try seedFrame()
        let empty = path("empty.pcap")
        XCTAssertEqual(try Command.run("/usr/bin/env", ["python3", "-c", "import sys; from scapy.all import wrpcap; wrpcap(sys.argv[1], [])", empty]).status, 0)
        let output = path("out-off.pcap")
        let eal = Binary.eal("seed-off", vdevs: [
            "net_pcap0,rx_pcap=\(empty),tx_pcap=\(output)", "net_pcap1,rx_pcap=\(seed),tx_pcap=\(path("discard-off.pcap"))",
        ])
        let file = try write("seed-session.txt", Self.session)
        let result = try Binary.run(eal + ["--", "--no-flush-rx", "--gso-ports=1", "--cmdline-file=\(file)", "--stop-after", "2"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let out = result.stdout
        XCTAssertTrue(out.contains("port 0 has no tunnel TSO (none of VXLAN, GRE, IPIP, GENEVE, IP, UDP): Swift GSO is off for port 0, "
                                   + "so frames larger than the MTU are dropped (set port 0 gso on)"), out)
        XCTAssertEqual(out.number(after: "oversize ", in: "Forward statistics for port 0"), 1, "planned oversize: \(out)")
        XCTAssertEqual(out.number(after: "Engine-dropped:", in: "Forward statistics for port 1"), 1, "dropped and counted: \(out)")
        XCTAssertEqual(out.number(after: "TX-packets:", in: "Forward statistics for port 0"), 0, out)
        XCTAssertEqual(try frames(output).count, 0, "nothing left port 0")
    }

    // MARK: vnet tap: port 0 with tunnel TSO

    func testSeedSessionOnTapWithTunnelTSOSendsOneSuperFrame() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/dev/net/tun"), "no /dev/net/tun")
        let seed = try seedFrame()
        let prefix = "tpmds\(getpid() % 100000)"
        self.prefix = prefix
        let up = try Command.run("/usr/bin/env", ["sh", Self.topology, "up", prefix])
        XCTAssertEqual(up.status, 0, "topology: \(up.output)")
        // The sending side takes the 6104-byte frame whole, as in the article (tap MTU 9000).
        XCTAssertEqual(try Command.run("/usr/bin/env", ["ip", "-n", "\(prefix)-b", "link", "set", "vtap0", "mtu", "9000"]).status, 0)
        let offloads = "offloads=tso,uso,tunnel,tunnel-csum"
        let process = try start(Binary.eal("seed-tap", vdevs: []) + [
            "--", "-i", "--vnet-tap", "name=vtap0,netns=\(prefix)-a,\(offloads)", "--vnet-tap", "name=vtap0,netns=\(prefix)-b,\(offloads)",
        ])
        process.send(Self.session)
        XCTAssertTrue(process.waitFor("csum packet forwarding - ports=2"), process.stdout)
        let send = try Command.run("/usr/bin/env", [
            "ip", "netns", "exec", "\(prefix)-b", "python3", "-c",
            "import sys; from scapy.all import rdpcap, sendp; sendp(rdpcap(sys.argv[1]), iface='vtap0', verbose=False)", seed,
        ])
        XCTAssertEqual(send.status, 0, send.output)
        XCTAssertTrue(process.waitFor("m->tso_segsz=1410"), "the frame planned for the port's tunnel TSO\n\(process.stdout)")
        usleep(300_000)
        process.send("show port xstats 0\nstop\nquit\n")
        process.closeInput()
        let result = process.finish()
        XCTAssertEqual(result.status, 0, result.stderr)
        let out = result.stdout
        XCTAssertTrue(out.contains("TSO segment size for tunneled packets is 1410"), out)
        XCTAssertTrue(out.contains("port 0 has no GRE, IPIP, IP tunnel TSO: Swift GSO will cut at 1410; the port will cut VXLAN, GENEVE, UDP"), out)
        // One super-frame with tunnel TSO metadata, written whole: the kernel took it.
        XCTAssertEqual(out.number(after: "tx_tunnel_super_frames: "), 1, out)
        XCTAssertFalse(out.contains("tx_errno_"), "the kernel refused a header: \(out)")
        // Every tap drop counter is listed (by reason), each zero.
        let tapDrops = out.split(separator: "\n").filter { $0.hasPrefix("tx_dropped") }
        XCTAssertGreaterThan(tapDrops.count, 1, out)
        XCTAssertTrue(tapDrops.allSatisfy { $0.hasSuffix(": 0") }, tapDrops.joined(separator: "\n"))
        let port0 = try XCTUnwrap(out.range(of: "Forward statistics for port 0")).upperBound
        let port1 = try XCTUnwrap(out.range(of: "Forward statistics for port 1")).lowerBound
        let port0Stats = String(out[port0..<port1])
        XCTAssertTrue(port0Stats.contains("Tx-plans: hardware 1,"), "the seed frame on the hardware plan: \(port0Stats)")
        XCTAssertFalse(port0Stats.contains("GSO-input"), "nothing cut by Swift: \(port0Stats)")
        XCTAssertFalse(out.contains("Dropped ("), out)
    }
}
