import Foundation
import FrameSupport
import TestSupport
import XCTest

/// The csum engine end to end: scapy builds tunnelled frames (an implementation independent
/// of ours), tunnelpmd forwards them between net_pcap ports, and tshark judges every checksum
/// of the output; a scapy script checks sizes, payload and sequence numbers after GSO.
final class CsumEngineTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tunnelpmd-csum-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: "/usr/bin/tshark"), "tshark missing: apt-get install tshark (make deps)")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: directory)
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    @discardableResult
    private func tool(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        try Command.run(executable, arguments)
    }

    private func frames(_ kind: String, payload: Int, count: Int, badChecksums: Bool) throws -> String {
        let out = path("in-\(kind)-\(payload).pcap")
        var arguments = [Binary.root.appendingPathComponent("Tools/scripts/tunnel_frames.py").path, "make", out,
                         "--kind", kind, "--payload", "\(payload)", "--count", "\(count)"]
        if badChecksums { arguments.append("--bad-checksums") }
        let result = try tool("/usr/bin/env", ["python3"] + arguments)
        XCTAssertEqual(result.status, 0, "scapy (pip install scapy): \(result.output)")
        return out
    }

    /// Runs tunnelpmd's csum engine from rx_pcap `input` (port 0) to tx_pcap (port 1).
    private func forward(_ input: String, name: String, extra: [String] = []) throws -> (output: String, stdout: String) {
        let empty = path("empty.pcap")
        if !FileManager.default.fileExists(atPath: empty) {
            try Pcap.write([], to: URL(fileURLWithPath: empty))
        }
        let output = path("out-\(name).pcap")
        let eal = Binary.eal("csum-\(name)", vdevs: [
            "net_pcap0,rx_pcap=\(input),tx_pcap=\(path("discard-\(name).pcap"))",
            "net_pcap1,rx_pcap=\(empty),tx_pcap=\(output)",
        ])
        let result = try Binary.run(eal + ["--", "--forward-mode=csum", "--no-flush-rx", "--stop-after", "1"] + extra)
        XCTAssertEqual(result.status, 0, result.stderr)
        return (output, result.stdout)
    }

    /// tshark's checksum verdicts for every IP/UDP/TCP header (outer and inner) of a pcap.
    private func verdicts(_ pcap: String) throws -> (good: Int, bad: Int, frames: Int) {
        let result = try tool("/usr/bin/tshark", [
            "-r", pcap, "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
            "-T", "fields", "-E", "separator=,", "-e", "ip.checksum.status", "-e", "udp.checksum.status", "-e", "tcp.checksum.status",
        ])
        XCTAssertEqual(result.status, 0, result.output)
        var good = 0, bad = 0, frames = 0
        for line in result.output.split(separator: "\n") where !line.hasPrefix("Running as") {
            frames += 1
            for verdict in line.split(separator: ",") {
                if verdict == "1" { good += 1 } else if verdict == "0" { bad += 1 }
            }
        }
        return (good, bad, frames)
    }

    func testEveryChecksumIsRecomputedInSoftware() throws {
        for kind in ["plain4", "plain6", "vxlan4", "vxlan6", "geneve4", "gre4", "nvgre4"] {
            let input = try frames(kind, payload: 1000, count: 4, badChecksums: true)
            let before = try verdicts(input)
            XCTAssertGreaterThan(before.bad, 0, "\(kind): the input's checksums are wrong to begin with")
            let (output, stdout) = try forward(input, name: kind)
            let after = try verdicts(output)
            XCTAssertEqual(after.frames, 4, "\(kind): every frame forwarded\n\(stdout)")
            XCTAssertEqual(after.bad, 0, "\(kind): tshark finds no bad checksum")
            XCTAssertGreaterThanOrEqual(after.good, 4 * (kind.hasPrefix("plain6") ? 1 : 2), kind)
        }
    }

    func testSoftwareGSOCutsSuperFramesIntoValidSegments() throws {
        for kind in ["plain4", "plain6", "vxlan4", "vxlan6", "geneve4", "gre4", "nvgre4"] {
            let input = try frames(kind, payload: 20000, count: 3, badChecksums: false)
            let (output, stdout) = try forward(input, name: "gso-\(kind)", extra: ["--gso-ports=1"])
            let after = try verdicts(output)
            XCTAssertEqual(after.bad, 0, "\(kind): tshark finds no bad checksum")
            XCTAssertGreaterThan(after.frames, 3 * 13, "\(kind): 20000 bytes cut at <= 1514-byte frames\n\(stdout)")
            let check = try tool("/usr/bin/env", ["python3", Binary.root.appendingPathComponent("Tools/scripts/tunnel_frames.py").path,
                                                  "check", input, output, "--max-frame", "1514"])
            XCTAssertEqual(check.status, 0, "\(kind): \(check.output)")
            XCTAssertTrue(stdout.contains("GSO-input: 3"), "\(kind): \(stdout)")
            // net_pcap offers no offload: every super-frame is planned in software.
            XCTAssertTrue(stdout.contains("Tx-plans: hardware 0, partial 0, software 3, oversize 0"), "\(kind): \(stdout)")
        }
    }

    func testVerboseShowsLayoutChecksumsAndGSOResult() throws {
        let input = try frames("vxlan4", payload: 5000, count: 1, badChecksums: false)
        let (_, stdout) = try forward(input, name: "verbose", extra: ["--gso-ports=1", "--verbose=1"])
        XCTAssertTrue(stdout.contains("port 0/queue 0 -> port 1: l2_len=14 ipv4 l3_len=20 l4_proto=17 l4_len=8 tunnel=vxlan tunnel_len=8"), stdout)
        XCTAssertTrue(stdout.contains("inner ipv4 l3_len=20 l4_proto=6 l4_len=20 payload=5000"), stdout)
        XCTAssertTrue(stdout.contains("sw checksums: ip,l4,outer-ip,outer-udp - hw checksums: none"), stdout)
        XCTAssertTrue(stdout.contains("gso: 4 segments"), stdout)
    }

    func testMalformedFramesAreDroppedAndCountedByReason() throws {
        // A VXLAN frame cut short: the outer IPv4 total length promises more than is there.
        let good = try frames("vxlan4", payload: 200, count: 1, badChecksums: false)
        let result = try tool("/usr/bin/env", ["python3", "-c", """
            from scapy.all import rdpcap, wrpcap, Ether
            frame = bytes(rdpcap('\(good)')[0])
            wrpcap('\(path("bad.pcap"))', [Ether(frame[:120]), Ether(frame)])
            """])
        XCTAssertEqual(result.status, 0, result.output)
        let (output, stdout) = try forward(path("bad.pcap"), name: "bad")
        XCTAssertTrue(stdout.contains("Dropped (malformed: truncated): 1"), stdout)
        XCTAssertEqual(try verdicts(output).frames, 1, "the good frame still goes through")
    }

    func testConsoleCommands() throws {
        let script = """
            set fwd csum
            csum show 0
            csum set tcp hw 0
            port stop 0
            csum set tcp hw 0
            csum set outer-udp zero 0
            csum parse-tunnel off 1
            csum show 1
            port config 0 udp_tunnel_port add fou-ipip 5555
            port config 0 udp_tunnel_port add gue 6080
            port config 0 udp_tunnel_port add vxlan 5555
            port config 0 udp_tunnel_port rm geneve 4789
            show port 0 udp_tunnel_port
            set port 1 gso on
            tso show 0
            tso set 1400 0
            tunnel_tso set 0 0
            show port 0 offload plan
            set gso segsz 1400
            set gso segsz 10
            show port 1 gso
            quit

            """
        let result = try Binary.run(Binary.eal("csum-console") + ["--", "-i"], input: script)
        XCTAssertEqual(result.status, 0, result.stderr)
        let out = result.stdout
        XCTAssertTrue(out.contains("Set csum packet forwarding mode"))
        XCTAssertTrue(out.contains("Parse tunnel is on"))
        XCTAssertTrue(out.contains("csum set: port 0 is started; stop it first (port stop 0)"), out)
        XCTAssertTrue(out.contains("csum set: port 0 cannot do tcp checksum in hardware; allowed: sw"), out)
        XCTAssertTrue(out.contains("Outer-Udp      checksum offload is sw (IPv4 outer: sent as 0)"), out)
        XCTAssertTrue(out.contains("Parse tunnel is off"))
        XCTAssertTrue(out.contains("  5555\tfou-ipip"), out)
        XCTAssertTrue(out.contains("  6080\tgue"))
        XCTAssertTrue(out.contains("port config: udp port 5555 is already a fou-ipip port of port 0; remove it first"), out)
        XCTAssertTrue(out.contains("udp port 4789 is not a geneve port of port 0"), out)
        XCTAssertTrue(out.contains("GSO is on for port 1"))
        XCTAssertTrue(out.contains("TSO segment size for non-tunneled packets is automatic"), out)
        // A port without TSO still takes the size: Swift GSO cuts there (issue 8).
        XCTAssertTrue(out.contains("port 0 has no TSO (none of TCP, UDP): Swift GSO will cut at 1400"), out)
        XCTAssertTrue(out.contains("TSO for tunneled packets is disabled"), out)
        XCTAssertTrue(out.contains("Tx offload plans of port 0:\n  hardware   0"), out)
        XCTAssertTrue(out.contains("GSO segment size set to 1400"))
        XCTAssertTrue(out.contains("set gso segsz: bad value '10' for <length>; allowed: 256-9216"), out)
        XCTAssertTrue(out.contains("Max GSO'd packet size: 1400"))
    }

    func testTxOffloadCommandsRefuseWithoutHalfApplying() throws {
        // net_tap offers checksums and TSO; it is created here but never sent traffic.
        let tap = "tpmdt\(getpid() % 100000)"
        let script = """
            show port 1 tx_offload capabilities
            port config 1 tx_offload tcp_tso on
            port stop 1
            port config 1 tx_offload vxlan_tnl_tso on
            port config 1 tx_offload tcp_tso on
            port start 1
            show port 1 tx_offload configuration
            port stop 0
            port config 0 tx_offload tcp_tso on
            show port 0 tx_offload configuration
            quit

            """
        let result = try Binary.run(Binary.eal("txoffload", vdevs: ["net_null0", "net_tap0,iface=\(tap)"]) + ["--", "-i"], input: script)
        XCTAssertEqual(result.status, 0, result.stderr)
        let out = result.stdout
        XCTAssertTrue(out.contains("Per Port  : IPV4_CKSUM UDP_CKSUM TCP_CKSUM TCP_TSO MULTI_SEGS"), out)
        XCTAssertTrue(out.contains("port config: port 1 is started; stop it first (port stop 1)"))
        XCTAssertTrue(out.contains("port config: port 1 does not offer tx offload vxlan_tnl_tso; allowed: ipv4_cksum, udp_cksum, tcp_cksum, tcp_tso, multi_segs"), out)
        XCTAssertTrue(out.contains("Tx Offloading Configuration of port 1 :\n  Port : TCP_TSO MULTI_SEGS"), out)
        XCTAssertTrue(out.contains("port config: port 0 does not offer tx offload tcp_tso; allowed: none"))
        XCTAssertTrue(out.contains("Tx Offloading Configuration of port 0 :\n  Port : none"), "the refused setting left nothing behind")
    }
}
