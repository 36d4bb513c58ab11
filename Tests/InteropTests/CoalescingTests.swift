import Foundation
import FrameSupport
import TestSupport
import XCTest

/// Receive coalescing (GRO) end to end: scapy streams (Tools/scripts/gro_streams.py) go into
/// port 0 of the real binary with `--gro-ports=0`; port 1 is a net_pcap port without offloads,
/// so every super-frame is cut again by Swift GSO, and the output must be the input again,
/// flow by flow (same boundaries, flags, IDs, headers; every checksum valid per tshark and per
/// the oracle's own sums; frames bad on input unchanged). The gro_* counters from
/// `show port xstats 0` say which rule ended each flow.
final class CoalescingTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tunnelpmd-gro-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: "/usr/bin/tshark"), "tshark missing: apt-get install tshark (make deps)")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: directory)
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
    private static let script = Binary.root.appendingPathComponent("Tools/scripts/gro_streams.py").path

    /// What one run gave: the oracle's verdict, counters, statistics.
    struct Run {
        var name: String
        var inputFrames: Int
        var badFrames: Int
        var oracleStatus: Int32
        var oracle: String
        var gro: [String: UInt64]
        var stdout: String
        var outputFrames: [[UInt8]]
        var inputPcap: String

        func counter(_ name: String) -> UInt64 { gro["tunnelpmd_gro_" + name] ?? 0 }
        var rxPackets: UInt64? { stdout.number(after: "RX-packets:", in: "Forward statistics for port 0") }
        var txPackets: UInt64? { stdout.number(after: "TX-packets:", in: "Forward statistics for port 1") }
        var txDropped: UInt64? { stdout.number(after: "TX-dropped:", in: "Forward statistics for port 1") }
    }

    /// Every scenario the kind can carry, one flow each.
    private func allScenarios(kind: String, outer: Int, inner: Int) -> [String] {
        var flows = ["bulk", "loss:5", "reorder:3", "retrans:4", "dupack:6", "pureack:9", "flag:urg:4", "flag:rst:6",
                     "flag:syn:2", "flag:cwr:7", "flag:ece:7", "flag:psh:5", "flag:fin:last", "ts:1", "ts:4", "nots",
                     "ipid:zero", "ipid:outerzero", "ipid:fixed", "ipid:random", "ttl:7", "bad:tcp:5", "short:8"]
        let innerV4 = kind == "plain" ? outer == 4 : inner == 4
        if innerV4 { flows.append("bad:ip:5") }
        if kind != "plain" { flows.append("outerttl:5") }
        if kind != "plain", outer == 4 { flows.append("bad:outerip:5") }
        if ["vxlan", "vxlan-gpe", "geneve", "fou", "gue"].contains(kind) { flows += ["bad:udp:5", "zeroudp"] }
        if kind == "gre" { flows.append("bad:gre:5") }
        return flows
    }

    /// Makes the stream, forwards it 0 -> 1 in `mode` (GRO on port 0 unless `gro` is false),
    /// reads `show port xstats 0` after stop, and runs the oracle on port 1's pcap.
    private func run(
        _ name: String, kind: String, outer: Int = 4, inner: Int = 4, vlan: Bool = false, mode: String = "io",
        flows: [String], segments: Int = 20, mss: Int? = nil, gro: Bool = true, extra: [String] = []
    ) throws -> Run {
        let input = path("in-\(name).pcap"), manifest = path("in-\(name).json"), output = path("out1-\(name).pcap")
        let empty = path("empty.pcap")
        if !FileManager.default.fileExists(atPath: empty) { try Pcap.write([], to: URL(fileURLWithPath: empty)) }
        // csum mode cuts at testpmd's GSO size (1514-byte frames): segments that fit it.
        let segmentSize = mss ?? (mode == "csum" ? 1300 : 1448)
        var make = [Self.script, "make", input, manifest, "--kind", kind, "--outer", "\(outer)", "--inner", "\(inner)",
                    "--segments", "\(segments)", "--mss", "\(segmentSize)"]
        if vlan { make.append("--vlan") }
        for flow in flows { make += ["--flow", flow] }
        let made = try Command.run("/usr/bin/env", ["python3"] + make)
        XCTAssertEqual(made.status, 0, "scapy (pip install scapy): \(made.output)")
        let entries = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: manifest))) as! [String: Any]
        let frames = entries["frames"] as! [[String: Any]]
        let badFrames = frames.filter { !($0["bad"] is NSNull) }.count

        let eal = Binary.eal("gro-\(name)", vdevs: [
            "net_pcap0,rx_pcap=\(input),tx_pcap=\(path("out0-\(name).pcap"))",
            "net_pcap1,rx_pcap=\(empty),tx_pcap=\(output)",
        ])
        let arguments = eal + ["--", "-i", "--no-flush-rx", "--forward-mode=\(mode)", "--max-pkt-len=65535"]
            // Flows wait for their next segment as long as the run lasts: what ends them is the
            // rules, the caps and stop, however slowly a debug build on a loaded machine polls.
            + (gro ? ["--gro-ports=0", "--gro-timeout-us=1000000"] : []) + extra
        let running = try Binary.Running(arguments)
        defer { if running.process.isRunning { kill(running.process.processIdentifier, SIGKILL) } }
        running.send("""
            port config 0 udp_tunnel_port add fou-ipip 5555
            port config 0 udp_tunnel_port add fou-ipv6 5556
            port config 0 udp_tunnel_port add gue 6080
            start

            """)
        // Until port 0 has received the whole pcap (a wait, not a timing assertion).
        var received: UInt64 = 0
        let deadline = Date().addingTimeInterval(30)
        while received < UInt64(frames.count), Date() < deadline, running.process.isRunning {
            running.send("show port stats 0\n")
            usleep(100_000)
            let out = running.stdout
            if let last = out.range(of: "NIC statistics for port 0", options: .backwards) {
                received = String(out[last.upperBound...]).number(after: "RX-packets:") ?? 0
            }
        }
        XCTAssertEqual(received, UInt64(frames.count), "\(name): port 0 received the whole pcap")
        running.send("stop\nshow port xstats 0\nquit\n")
        running.closeInput()
        let result = running.finish()
        XCTAssertEqual(result.status, 0, "\(name): \(result.stderr)")
        var counters: [String: UInt64] = [:]
        if let xstats = result.stdout.range(of: "tunnelpmd> show port xstats 0") {
            for line in result.stdout[xstats.upperBound...].split(separator: "\n") where line.hasPrefix("tunnelpmd_gro_") {
                let parts = line.split(separator: ":")
                if parts.count == 2, let value = UInt64(parts[1].trimmingCharacters(in: .whitespaces)) {
                    counters[String(parts[0])] = value
                }
            }
        }
        XCTAssertFalse(counters.isEmpty, "\(name): gro_* counters in show port xstats 0\n\(result.stdout)")
        let check = try Command.run("/usr/bin/env", ["python3", Self.script, "check", input, manifest, output, "--mode", mode])
        return Run(name: name, inputFrames: frames.count, badFrames: badFrames, oracleStatus: check.status, oracle: check.output,
                   gro: counters, stdout: result.stdout, outputFrames: try Pcap.read(URL(fileURLWithPath: output)),
                   inputPcap: input)
    }

    /// What holds for every run: the oracle is content, nothing was lost or dropped.
    private func assertFaithful(_ run: Run, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(run.oracleStatus, 0, "\(run.name): the oracle:\n\(run.oracle)", file: file, line: line)
        XCTAssertEqual(run.rxPackets, UInt64(run.inputFrames), "\(run.name): RX-packets\n\(run.stdout)", file: file, line: line)
        // The mempool is not shown by the binary: every mbuf received left as a frame (or
        // as segments that add up to the input again), none dropped on the way.
        XCTAssertEqual(run.txPackets, UInt64(run.inputFrames), "\(run.name): TX-packets = frames in\n\(run.stdout)", file: file, line: line)
        XCTAssertEqual(run.txDropped, 0, "\(run.name)", file: file, line: line)
        XCTAssertFalse(run.stdout.contains("Engine-dropped:"), "\(run.name): nothing dropped by the engine\n\(run.stdout)", file: file, line: line)
        XCTAssertEqual(run.outputFrames.count, run.inputFrames, "\(run.name): frames in the output pcap", file: file, line: line)
    }

    // MARK: every kind

    /// Every kind over IPv4 and IPv6 (a VLAN case too), each mode across the matrix, every
    /// scenario at once (27 interleaved flows): the oracle finds the input again, and the
    /// counters show merges and each rule that ended a flow.
    func testEveryKindGivesBackItsSegmentsAfterCoalescing() throws {
        let kinds = ["plain", "vxlan", "vxlan-gpe", "geneve", "gre", "nvgre", "ipip", "fou", "gue"]
        let modes = ["io", "mac", "csum"]
        var index = 0
        for kind in kinds {
            for outer in [4, 6] {
                let mode = modes[index % modes.count]
                // IPv6 inside for half the tunnels (SIT, 6in6, FOU and GUE over ipv6 ...).
                let inner = kind != "plain" && index % 2 == 1 ? 6 : 4
                index += 1
                let name = "\(kind)\(outer)-in\(inner)-\(mode)"
                let run = try run(name, kind: kind, outer: outer, inner: inner, mode: mode,
                                  flows: allScenarios(kind: kind, outer: outer, inner: inner))
                assertFaithful(run)
                XCTAssertGreaterThan(run.counter("super_frames_out"), 10, "\(name): super-frames made\n\(run.gro)")
                XCTAssertGreaterThanOrEqual(run.counter("segments_merged"), 2 * run.counter("super_frames_out"), name)
                XCTAssertGreaterThan(run.counter("flush_seq_gap"), 0, "\(name): loss, reordering, retransmission\n\(run.gro)")
                XCTAssertGreaterThan(run.counter("flush_options_differ"), 0, "\(name): changing timestamps\n\(run.gro)")
                let hasIPv4 = kind == "plain" ? outer == 4 : outer == 4 || inner == 4
                if hasIPv4 { XCTAssertGreaterThan(run.counter("flush_ip_id"), 0, "\(name): random and fixed IDs\n\(run.gro)") }
                XCTAssertGreaterThan(run.counter("flush_ttl_or_tos"), 0, "\(name): TTL change\n\(run.gro)")
                XCTAssertGreaterThan(run.counter("flush_psh_or_fin"), 0, "\(name)\n\(run.gro)")
                // A short segment ends its flow, or (first after a flush) the next one does.
                XCTAssertGreaterThan(run.counter("flush_short_segment") + run.counter("flush_longer_segment"), 0, "\(name)\n\(run.gro)")
                // URG, RST, SYN, CWR, ECE: each flushes its flow, or passes alone when none is held.
                XCTAssertGreaterThanOrEqual(run.counter("flush_flags") + run.counter("bypass_flags"), 5, "\(name)\n\(run.gro)")
                // One pure ACK and three duplicate ones.
                XCTAssertGreaterThanOrEqual(run.counter("flush_no_payload") + run.counter("bypass_no_payload"), 4, "\(name)\n\(run.gro)")
                XCTAssertEqual(run.counter("bypass_checksum_bad"), UInt64(run.badFrames), "\(name): every bad frame, once\n\(run.gro)")
                XCTAssertEqual(run.counter("segments_merged") + run.counter("singles_out"), run.counter("segments_in"), "\(name): every held segment left once")
            }
        }
        let vlan = try run("vxlan4-vlan", kind: "vxlan", vlan: true, mode: "mac", flows: allScenarios(kind: "vxlan", outer: 4, inner: 4))
        assertFaithful(vlan)
        XCTAssertGreaterThan(vlan.counter("super_frames_out"), 10, "VLAN-tagged flows coalesce\n\(vlan.gro)")
        let plainVLAN = try run("plain6-vlan", kind: "plain", outer: 6, vlan: true, mode: "csum", flows: ["bulk", "loss:7", "ts:3"])
        assertFaithful(plainVLAN)
        XCTAssertGreaterThan(plainVLAN.counter("super_frames_out"), 0, "\(plainVLAN.gro)")
    }

    // MARK: one rule at a time

    /// One flow of 20 segments in one poll: each rule shows in exact counts.
    func testEachRuleEndsTheFlowWhereItShould() throws {
        struct Case {
            var flows: [String]
            var kind = "vxlan"
            var outer = 4
            var superFrames: UInt64
            var merged: UInt64
            var counters: [String: UInt64]
        }
        let cases: [String: Case] = [
            "bulk": Case(flows: ["bulk"], superFrames: 1, merged: 20, counters: ["flush_psh_or_fin": 1, "singles_out": 0]),
            "bulk-geneve6": Case(flows: ["bulk"], kind: "geneve", outer: 6, superFrames: 1, merged: 20, counters: ["flush_psh_or_fin": 1]),
            "bulk-gre6": Case(flows: ["bulk"], kind: "gre", outer: 6, superFrames: 1, merged: 20, counters: ["flush_psh_or_fin": 1]),
            "loss": Case(flows: ["loss:5"], superFrames: 2, merged: 19, counters: ["flush_seq_gap": 1]),
            // 0-9, then 11 alone, 10 alone, 12-19.
            "reorder": Case(flows: ["reorder:10"], superFrames: 2, merged: 18, counters: ["flush_seq_gap": 3, "singles_out": 2]),
            "timestamps": Case(flows: ["ts:1"], superFrames: 0, merged: 0, counters: ["flush_options_differ": 19, "singles_out": 20]),
            "timestamps-every-5": Case(flows: ["ts:5"], superFrames: 4, merged: 20, counters: ["flush_options_differ": 3]),
            "ttl": Case(flows: ["ttl:7"], superFrames: 2, merged: 20, counters: ["flush_ttl_or_tos": 1]),
            "outer-ttl": Case(flows: ["outerttl:12"], superFrames: 2, merged: 20, counters: ["flush_ttl_or_tos": 1]),
            "random-id": Case(flows: ["ipid:random"], superFrames: 0, merged: 0, counters: ["flush_ip_id": 19]),
            // A fixed ID other than 0 cannot come back out of GSO: not merged.
            "fixed-id": Case(flows: ["ipid:fixed"], superFrames: 0, merged: 0, counters: ["flush_ip_id": 19]),
            "zero-id": Case(flows: ["ipid:zero"], superFrames: 1, merged: 20, counters: [:]),
            "outer-zero-id": Case(flows: ["ipid:outerzero"], superFrames: 1, merged: 20, counters: [:]),
            "bad-tcp": Case(flows: ["bad:tcp:5"], superFrames: 2, merged: 19,
                            counters: ["flush_checksum_bad": 1, "bypass_checksum_bad": 1]),
            "bad-udp": Case(flows: ["bad:udp:5"], superFrames: 2, merged: 19, counters: ["bypass_checksum_bad": 1]),
            "bad-outer-ip": Case(flows: ["bad:outerip:5"], superFrames: 2, merged: 19, counters: ["bypass_checksum_bad": 1]),
            "bad-inner-ip": Case(flows: ["bad:ip:5"], superFrames: 2, merged: 19, counters: ["bypass_checksum_bad": 1]),
            "bad-gre": Case(flows: ["bad:gre:5"], kind: "gre", superFrames: 2, merged: 19, counters: ["bypass_checksum_bad": 1]),
            "zero-udp": Case(flows: ["zeroudp"], superFrames: 1, merged: 20, counters: [:]),
            "urg": Case(flows: ["flag:urg:5"], superFrames: 2, merged: 19, counters: ["flush_flags": 1]),
            "cwr": Case(flows: ["flag:cwr:5"], superFrames: 2, merged: 19, counters: ["flush_flags": 1]),
            "psh": Case(flows: ["flag:psh:5"], superFrames: 2, merged: 20, counters: ["flush_psh_or_fin": 2]),
            "fin": Case(flows: ["flag:fin:last+nopsh"], superFrames: 1, merged: 20, counters: ["flush_psh_or_fin": 1]),
            "pure-ack": Case(flows: ["pureack:8"], superFrames: 2, merged: 20, counters: ["flush_no_payload": 1]),
            "dup-acks": Case(flows: ["dupack:8"], superFrames: 2, merged: 20, counters: ["flush_no_payload": 1, "bypass_no_payload": 3]),
            "short": Case(flows: ["short:9"], superFrames: 2, merged: 20, counters: ["flush_short_segment": 1]),
            // 0-6, then the copy of 4 alone, then 7-19.
            "retransmission": Case(flows: ["retrans:4"], superFrames: 2, merged: 20, counters: ["flush_seq_gap": 2, "singles_out": 1]),
        ]
        for (name, c) in cases.sorted(by: { $0.key < $1.key }) {
            let run = try run("rule-\(name)", kind: c.kind, outer: c.outer, flows: c.flows)
            assertFaithful(run)
            XCTAssertEqual(run.counter("super_frames_out"), c.superFrames, "\(name): super-frames\n\(run.gro)")
            XCTAssertEqual(run.counter("segments_merged"), c.merged, "\(name): segments in super-frames\n\(run.gro)")
            for (counter, value) in c.counters {
                XCTAssertEqual(run.counter(counter), value, "\(name): \(counter)\n\(run.gro)")
            }
        }
    }

    /// The segment-count and size caps of the command line end super-frames where they say.
    func testCapsFromTheCommandLine() throws {
        let segments = try run("cap-segments", kind: "vxlan", flows: ["bulk"], extra: ["--gro-segments=8"])
        assertFaithful(segments)
        XCTAssertEqual(segments.counter("super_frames_out"), 3, "8 + 8 + 4\n\(segments.gro)")
        XCTAssertEqual(segments.counter("flush_segment_count_cap"), 2, "\(segments.gro)")
        // 1448-byte segments in a VXLAN/IPv4 packet of 1550 bytes; 5 of them fit in 8000.
        let size = try run("cap-size", kind: "vxlan", flows: ["bulk"], extra: ["--gro-size=8000"])
        assertFaithful(size)
        XCTAssertEqual(size.counter("super_frames_out"), 4, "5 + 5 + 5 + 5\n\(size.gro)")
        XCTAssertEqual(size.counter("flush_size_cap"), 3, "\(size.gro)")
        let table = try run("table-full", kind: "vxlan", flows: ["bulk", "bulk", "bulk"], extra: ["--gro-flows=2"])
        assertFaithful(table)
        XCTAssertGreaterThan(table.counter("flush_table_full"), 0, "three flows through a table of two\n\(table.gro)")
    }

    // MARK: the oracle itself

    /// The oracle is not vacuous: the input passes as its own output, and each kind of damage
    /// GRO could do (a lost frame, a changed byte, a merged-away boundary, a bad frame fixed,
    /// an ID that moved) makes it fail.
    func testTheOracleFindsDamage() throws {
        let input = path("oracle.pcap"), manifest = path("oracle.json")
        let made = try Command.run("/usr/bin/env", ["python3", Self.script, "make", input, manifest, "--kind", "vxlan",
                                                    "--segments", "6", "--flow", "bulk", "--flow", "bad:tcp:2"])
        XCTAssertEqual(made.status, 0, made.output)
        let same = try Command.run("/usr/bin/env", ["python3", Self.script, "check", input, manifest, input])
        XCTAssertEqual(same.status, 0, same.output)
        let damage = [
            "lost": "del frames[4]",
            "payload byte": "frames[0][-1] ^= 1",
            // Two segments as one frame: boundaries differ even though every byte is there.
            "boundary": "frames[0] = fix(frames[0], bytes(frames[2][-1448:])); del frames[2]",
            "bad frame fixed": "frames[5] = fix(frames[5])",
            "inner ID": "frames[2][14 + 20 + 8 + 8 + 14 + 5] ^= 1; frames[2] = fix(frames[2])",
        ]
        for (name, code) in damage {
            let output = path("oracle-\(name.replacingOccurrences(of: " ", with: "-")).pcap")
            let script = """
                import sys
                sys.path.insert(0, '\(Binary.root.appendingPathComponent("Tools/scripts").path)')
                from gro_streams import read_frames, parse, ones_sum, pseudo, ip_end
                from scapy.all import Ether, IP, UDP, Raw, wrpcap
                frames = [bytearray(f) for f in read_frames('\(input)')]
                def fix(frame, extra=b''):
                    # Lengths and every checksum recomputed by scapy, so only the damage remains.
                    packet = Ether(bytes(frame))
                    packet[Raw].load = packet[Raw].load + extra
                    for layer in (IP, UDP):
                        current = packet
                        while current:
                            if isinstance(current, layer):
                                del current.chksum
                                del current.len
                            current = current.payload if current.payload else None
                    del packet[Raw].underlayer.chksum
                    return bytearray(bytes(packet))
                \(code)
                wrpcap('\(output)', [Ether(bytes(f)) for f in frames])
                """
            let written = try Command.run("/usr/bin/env", ["python3", "-c", script])
            XCTAssertEqual(written.status, 0, "\(name): \(written.output)")
            let check = try Command.run("/usr/bin/env", ["python3", Self.script, "check", input, manifest, output])
            XCTAssertEqual(check.status, 1, "\(name): the oracle must fail\n\(check.output)")
            XCTAssertFalse(check.output.isEmpty, name)
        }
    }

    // MARK: off, and the console

    /// Without GRO the output is the input, byte for byte, and no gro_* counter moves.
    func testWithoutGROEveryFrameLeavesAsItCame() throws {
        let run = try run("off", kind: "vxlan", flows: ["bulk", "loss:5", "ts:1", "bad:tcp:3"], gro: false)
        assertFaithful(run)
        let input = try Pcap.read(URL(fileURLWithPath: run.inputPcap))
        XCTAssertEqual(run.outputFrames, input, "io forwarding without GRO changes nothing")
        XCTAssertTrue(run.gro.values.allSatisfy { $0 == 0 }, "\(run.gro)")
        XCTAssertFalse(run.stdout.contains("GRO-segments:"), run.stdout)
    }

    /// testpmd's commands: `set port 0 gro on`, `set gro flush 1`, `show port 0 gro`.
    func testConsoleTurnsGROOnAndShowsIt() throws {
        let input = path("console.pcap"), manifest = path("console.json"), output = path("console-out1.pcap")
        let made = try Command.run("/usr/bin/env", ["python3", Self.script, "make", input, manifest, "--kind", "vxlan",
                                                    "--flow", "bulk", "--flow", "bulk"])
        XCTAssertEqual(made.status, 0, made.output)
        try Pcap.write([], to: URL(fileURLWithPath: path("empty.pcap")))
        let eal = Binary.eal("gro-console", vdevs: [
            "net_pcap0,rx_pcap=\(input),tx_pcap=\(path("console-out0.pcap"))",
            "net_pcap1,rx_pcap=\(path("empty.pcap")),tx_pcap=\(output)",
        ])
        let running = try Binary.Running(eal + ["--", "-i", "--no-flush-rx", "--max-pkt-len=65535", "--gro-timeout-us=1000000"])
        defer { if running.process.isRunning { kill(running.process.processIdentifier, SIGKILL) } }
        running.send("show port 0 gro\nset port 0 gro on\nset gro flush 1\nshow port 0 gro\nstart\n")
        var received: UInt64 = 0
        let deadline = Date().addingTimeInterval(30)
        while received < 40, Date() < deadline, running.process.isRunning {
            running.send("show port stats 0\n")
            usleep(100_000)
            let out = running.stdout
            if let last = out.range(of: "NIC statistics for port 0", options: .backwards) {
                received = String(out[last.upperBound...]).number(after: "RX-packets:") ?? 0
            }
        }
        running.send("stop\nshow port 0 gro\nset port 0 gro off\nshow port 0 gro\nquit\n")
        running.closeInput()
        let result = running.finish()
        XCTAssertEqual(result.status, 0, result.stderr)
        let out = result.stdout
        func section(_ command: String, occurrence: Int) -> String {
            var ranges: [Range<String.Index>] = []
            var from = out.startIndex
            while let found = out.range(of: "tunnelpmd> " + command, range: from..<out.endIndex) {
                ranges.append(found)
                from = found.upperBound
            }
            guard occurrence < ranges.count else { return "" }
            let rest = out[ranges[occurrence].upperBound...]
            return String(rest[..<(rest.range(of: "tunnelpmd> ")?.lowerBound ?? rest.endIndex)])
        }
        XCTAssertTrue(section("show port 0 gro", occurrence: 0).contains("GRO is off for port 0"), out)
        XCTAssertTrue(section("set port 0 gro on", occurrence: 0).contains("GRO is on for port 0"), out)
        XCTAssertTrue(section("set gro flush 1", occurrence: 0).contains("GRO flush rounds set to 1"), out)
        let before = section("show port 0 gro", occurrence: 1)
        XCTAssertTrue(before.contains("GRO is on for port 0"), before)
        XCTAssertTrue(before.contains("Flush every 1 poll rounds"), before)
        XCTAssertTrue(before.contains("Max segments per super-frame: 44"), before)
        let after = section("show port 0 gro", occurrence: 2)
        XCTAssertTrue(after.contains("gro_segments_in: 40"), after)
        // Two interleaved flows of 20 in bursts of 32: 16 + 16 held for one poll round only
        // (flush 1), then 4 + 4 ending with PSH. Without flush rounds they would be 20 + 20.
        XCTAssertTrue(after.contains("gro_super_frames_out: 4"), after)
        XCTAssertTrue(after.contains("gro_flush_end_of_poll: 2"), after)
        XCTAssertTrue(after.contains("Segments per super-frame: 10.0"), after)
        XCTAssertTrue(out.contains("GRO-segments: 40"), out)
        XCTAssertTrue(section("show port 0 gro", occurrence: 3).contains("GRO is off for port 0"), out)
        let check = try Command.run("/usr/bin/env", ["python3", Self.script, "check", input, manifest, output])
        XCTAssertEqual(check.status, 0, check.output)
    }
}
