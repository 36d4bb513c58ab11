import Foundation
import FrameSupport
import TestSupport
import XCTest

/// A checksum that arrives pending leaves final, whatever lies past the parser. The kernel
/// itself hands tunnelpmd the frames: a packet socket with PACKET_VNET_HDR writes crafted
/// frames (ARP and ND in VXLAN and Geneve, ICMP/ICMPv6 and an unknown protocol in a tunnel,
/// an inner first fragment, UDP to unknown ports, a lying inner IP length, plain ICMP) into a
/// tap with NEEDS_CSUM at chosen offsets; tunnelpmd forwards them from its vnet tap port to a
/// net_pcap port, which honours no offload, through io, mac and csum. The checks are
/// independent of our code: Python sums each pending region with its seed, tshark validates
/// every checksum it knows, and every other byte must be what was sent.
final class PartialChecksumTests: XCTestCase {
    private static let script = Binary.root.appendingPathComponent("Tools/scripts/partial_checksums.py").path
    private var directory: URL!
    private var namespace = ""
    private var tapNamespace: TapNamespace?

    override func setUpWithError() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/dev/net/tun"), "no /dev/net/tun")
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tunnelpmd-partial-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        tapNamespace = try TapNamespace("tpmdpc\(getpid() % 100000)")
        namespace = tapNamespace!.name
    }

    override func tearDown() {
        tapNamespace?.remove()
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Forwards the injected cases from the tap (port 1) to a net_pcap port (port 0) with
    /// `mode`; returns the output pcap, the manifest and tunnelpmd's output.
    private func forward(mode: String) throws -> (pcap: String, manifest: String, stdout: String) {
        let empty = path("empty.pcap"), output = path("out-\(mode).pcap"), manifest = path("cases-\(mode).json")
        try Pcap.write([], to: URL(fileURLWithPath: empty))
        let forwarder = try Binary.Running(
            Binary.eal("partial-\(mode)", vdevs: ["net_pcap0,rx_pcap=\(empty),tx_pcap=\(output)"]) + [
                "--", "--forward-mode=\(mode)", "--vnet-tap", "name=vtap0,netns=\(namespace),offloads=tso,uso,tunnel,tunnel-csum",
            ])
        XCTAssertTrue(forwarder.waitFor("Forwarding until SIGINT or SIGTERM."), forwarder.stdout)
        let inject = try Command.run("/usr/bin/env", ["ip", "netns", "exec", namespace, "python3", Self.script, "inject", "vtap0", manifest])
        XCTAssertEqual(inject.status, 0, inject.output)
        usleep(500_000)
        forwarder.signal(SIGTERM)
        let result = forwarder.finish(seconds: 30)
        XCTAssertEqual(result.status, 0, result.stderr)
        return (output, manifest, result.stdout)
    }

    /// tshark's verdicts on every IP, UDP, TCP, ICMP and ICMPv6 checksum (inner ones too).
    private func tsharkVerdicts(_ pcap: String) throws -> (good: Int, bad: Int) {
        let result = try Command.run("/usr/bin/tshark", [
            "-r", pcap, "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
            "-T", "fields", "-E", "separator=,", "-e", "ip.checksum.status", "-e", "udp.checksum.status",
            "-e", "tcp.checksum.status", "-e", "icmp.checksum.status", "-e", "icmpv6.checksum.status",
        ])
        XCTAssertEqual(result.status, 0, result.output)
        var good = 0, bad = 0
        for line in result.output.split(separator: "\n") where !line.hasPrefix("Running as") {
            for verdict in line.split(whereSeparator: { $0 == "," }) {
                if verdict == "1" { good += 1 } else if verdict == "0" { bad += 1 }
            }
        }
        return (good, bad)
    }

    private func check(mode: String, dropped: [String]) throws -> String {
        let (pcap, manifest, stdout) = try forward(mode: mode)
        var arguments = ["python3", Self.script, "check", pcap, manifest]
        if mode != "io" { arguments.append("--rewritten-macs") }
        for name in dropped { arguments += ["--dropped", name] }
        let checked = try Command.run("/usr/bin/env", arguments)
        XCTAssertEqual(checked.status, 0, "\(mode): \(checked.output)\n\(stdout)")
        XCTAssertEqual(checked.output.components(separatedBy: "PASS ").count - 1, 12 - dropped.count, checked.output)
        let verdicts = try tsharkVerdicts(pcap)
        XCTAssertEqual(verdicts.bad, 0, "\(mode): tshark found bad checksums")
        XCTAssertGreaterThan(verdicts.good, 12, "\(mode): tshark checked the outer and inner checksums")
        return stdout
    }

    func testIOFinishesPendingChecksumsForAPortWithoutOffloads() throws {
        let stdout = try check(mode: "io", dropped: [])
        XCTAssertFalse(stdout.contains("Engine-dropped"), stdout)
    }

    func testMACFinishesPendingChecksums() throws {
        _ = try check(mode: "mac", dropped: [])
    }

    /// The csum engine drops the one frame its parser calls malformed, counted by reason.
    func testCsumFinishesPendingChecksumsAndCountsTheMalformedFrame() throws {
        let stdout = try check(mode: "csum", dropped: ["vxlan4-inner-length-lies"])
        XCTAssertTrue(stdout.contains("Dropped (malformed: truncated): 1"), stdout)
    }
}
