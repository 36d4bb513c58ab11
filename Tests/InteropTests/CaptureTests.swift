import Foundation
import FrameSupport
import TestSupport
import XCTest

/// Packet capture from the real binary: `capture port ...` on the console and `--capture` on
/// the command line write pcapng through rte_pcapng; tshark reads the files. Under load a
/// capture loses only what it counts.
final class CaptureTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tunnelpmd-capture-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: "/usr/bin/tshark"), "tshark missing: apt-get install tshark (make deps)")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: directory)
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Twenty frames of distinct lengths, each with its sequence number in the payload.
    private func knownFrames() -> [[UInt8]] {
        (0..<20).map { Frames.udp(sequence: UInt32($0), length: 64 + 7 * $0) }
    }

    /// Port 0 receives `frames` (net_pcap), port 1 receives nothing; io forwarding 0 -> 1.
    private func pcapPorts(_ name: String, frames: [[UInt8]]) throws -> [String] {
        let input = path("in-\(name).pcap"), empty = path("empty-\(name).pcap")
        try Pcap.write(frames, to: URL(fileURLWithPath: input))
        try Pcap.write([], to: URL(fileURLWithPath: empty))
        return Binary.eal("capture-\(name)", vdevs: [
            "net_pcap0,rx_pcap=\(input),tx_pcap=\(path("out0-\(name).pcap"))",
            "net_pcap1,rx_pcap=\(empty),tx_pcap=\(path("out1-\(name).pcap"))",
        ])
    }

    /// The frames of a pcapng file as tshark reads them (converted to classic pcap by tshark).
    private func tsharkFrames(_ pcapng: String) throws -> [[UInt8]] {
        let converted = pcapng + ".pcap"
        let result = try Command.run("/usr/bin/tshark", ["-r", pcapng, "-F", "pcap", "-w", converted])
        XCTAssertEqual(result.status, 0, result.output)
        return try Pcap.read(URL(fileURLWithPath: converted))
    }

    private func tsharkFields(_ pcapng: String, _ fields: [String]) throws -> [String] {
        let result = try Command.run("/usr/bin/tshark", ["-r", pcapng, "-T", "fields", "-E", "separator=|"] + fields.flatMap { ["-e", $0] })
        XCTAssertEqual(result.status, 0, result.output)
        return result.output.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("Running as") }
    }

    func testConsoleCaptureWritesTheReceivedFramesWithTheirMetadata() throws {
        let frames = knownFrames()
        let file = path("console.pcapng")
        let running = try Binary.Running(try pcapPorts("console", frames: frames) + ["--", "-i", "--no-flush-rx"])
        defer { if running.process.isRunning { kill(running.process.processIdentifier, SIGKILL) } }
        running.send("capture port 0 rx \(file)\ncapture show\nstart\n")
        XCTAssertTrue(running.waitFor("Seen: 0"), running.stdout)
        usleep(1_000_000)
        running.send("stop\ncapture show\ncapture stop\nquit\n")
        running.closeInput()
        let result = running.finish()
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("Capture port 0 rx to \(file) started"), result.stdout)
        let stopped = String(result.stdout[result.stdout.range(of: "tunnelpmd> capture stop")!.upperBound...])
        XCTAssertEqual(stopped.number(after: "Seen:"), 20, result.stdout)
        XCTAssertEqual(stopped.number(after: "Written:"), 20, result.stdout)
        XCTAssertEqual(try tsharkFrames(file), frames, "tshark reads back exactly the frames port 0 received")
        let lines = try tsharkFields(file, ["frame.comment", "frame.interface_name", "frame.packet_flags_direction"])
        XCTAssertEqual(lines.count, 20)
        for line in lines {
            XCTAssertTrue(line.hasPrefix("tunnelpmd ol_flags=0x"), line)
            XCTAssertTrue(line.contains("tso_segsz=0 l2_len=") && line.contains(" segs=1"), line)
            XCTAssertTrue(line.contains("|dpdk:0|"), line)
        }
    }

    func testCommandLineOptionCapturesTheTransmitSideUpToItsCount() throws {
        let frames = knownFrames()
        let file = path("option.pcapng")
        let result = try Binary.run(try pcapPorts("option", frames: frames) + [
            "--", "--no-flush-rx", "--stop-after", "1", "--capture=1,tx,\(file),12",
        ])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("Written: 12"), result.stdout)
        XCTAssertEqual(result.stdout.number(after: "Over-count:"), 8, result.stdout)
        XCTAssertEqual(try tsharkFrames(file), Array(frames.prefix(12)), "the first 12 frames port 1 was given to send")
        let lines = try tsharkFields(file, ["frame.interface_name"])
        XCTAssertEqual(lines, Array(repeating: "dpdk:1", count: 12))
    }

    func testBadCaptureOptionIsRefused() throws {
        let result = try Binary.run(Binary.eal("capture-bad") + ["--", "--capture=0,sideways,/tmp/x.pcapng"])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderr.contains("<port>,<rx|tx|both>,<file.pcapng>[,<count>]"), result.stderr)
    }

    /// net_null at full rate: the writer cannot keep up, and every packet seen on port 0's rx
    /// while armed is either in the file or counted as not captured.
    func testUnderLoadCaptureLosesOnlyWhatItCounts() throws {
        let file = path("load.pcapng")
        let running = try Binary.Running(Binary.eal("capture-load") + ["--", "-i"])
        defer { if running.process.isRunning { kill(running.process.processIdentifier, SIGKILL) } }
        running.send("capture port 0 rx \(file)\nstart\nshow config fwd\n")
        XCTAssertTrue(running.waitFor("tunnelpmd> show config fwd"), running.stdout)
        usleep(500_000)
        running.send("stop\ncapture stop\nquit\n")
        running.closeInput()
        let result = running.finish(seconds: 60)
        XCTAssertEqual(result.status, 0, result.stderr)
        let out = result.stdout
        let stopped = String(out[out.range(of: "tunnelpmd> capture stop")!.upperBound...])
        guard let seen = stopped.number(after: "Seen:"), let captured = stopped.number(after: "Captured:"),
              let written = stopped.number(after: "Written:"), let ringFull = stopped.number(after: "Dropped-ring-full:"),
              let poolEmpty = stopped.number(after: "Dropped-pool-empty:"),
              let rx = out.number(after: "RX-packets:", in: "Forward statistics for port 0")
        else { return XCTFail(out) }
        XCTAssertGreaterThan(seen, 10_000, out)
        XCTAssertEqual(seen, rx, "the capture saw every packet port 0 received")
        XCTAssertEqual(captured + ringFull + poolEmpty, seen, "captured + counted drops = seen\n\(stopped)")
        XCTAssertEqual(written, captured, stopped)
        XCTAssertGreaterThan(written, 0)
        let count = try tsharkFields(file, ["frame.number"]).count
        XCTAssertEqual(UInt64(count), written, "tshark reads every packet written")
    }

    /// A vnet tap port (no ethdev at all): the kernel's VXLAN frames from namespace a, as
    /// tunnelpmd's tap port 0 receives them, in a pcapng interface named after the tap.
    func testCaptureOnAVnetTapPort() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/dev/net/tun"), "no /dev/net/tun")
        let script = Binary.root.appendingPathComponent("Tools/netns/vxlan-taps.sh").path
        let prefix = "tpmdcap\(getpid() % 100000)"
        _ = try? Command.run("/usr/bin/env", ["sh", script, "down", prefix])
        defer { _ = try? Command.run("/usr/bin/env", ["sh", script, "down", prefix]) }
        let up = try Command.run("/usr/bin/env", ["sh", script, "up", prefix])
        try XCTSkipUnless(up.status == 0, "namespaces with taps cannot be made here: \(up.output)")
        let file = path("tap.pcapng")
        let running = try Binary.Running(Binary.eal("capture-tap", vdevs: []) + [
            "--", "--vnet-tap", "name=vtap0,netns=\(prefix)-a", "--vnet-tap", "name=vtap0,netns=\(prefix)-b",
            "--capture=0,rx,\(file)",
        ])
        defer { if running.process.isRunning { kill(running.process.processIdentifier, SIGKILL) } }
        XCTAssertTrue(running.waitFor("Forwarding until SIGINT or SIGTERM."), running.stdout)
        let ping = try Command.run("/usr/bin/env", ["ip", "netns", "exec", "\(prefix)-a", "ping", "-c", "3", "-i", "0.2", "-W", "2", "10.98.0.2"])
        XCTAssertEqual(ping.status, 0, ping.output)
        running.signal(SIGTERM)
        let result = running.finish()
        XCTAssertEqual(result.status, 0, result.stderr)
        guard let written = result.stdout.number(after: "Written:") else { return XCTFail(result.stdout) }
        XCTAssertGreaterThanOrEqual(written, 3, result.stdout)
        let lines = try tsharkFields(file, ["frame.interface_name", "vxlan.vni", "icmp.type", "frame.comment"])
        XCTAssertEqual(UInt64(lines.count), written)
        XCTAssertTrue(lines.allSatisfy { $0.hasPrefix("vnet_tap:vtap0|") }, lines.joined(separator: "\n"))
        XCTAssertGreaterThanOrEqual(lines.filter { $0.contains("|42|8|") }.count, 3, "the echo requests inside VXLAN 42\n\(lines)")
    }

    /// Super-frames are captured whole: a kernel TCP flow over VXLAN leaves namespace a as UDP
    /// tunnel GSO super-frames (the tap's offloads granted); tunnelpmd's tap port 0 reads each
    /// into one mbuf chain, and the capture writes it at its full length (the snap length is
    /// the capture mbuf's room: 65535 less 128 of headroom and 256 for the block's options),
    /// with its metadata comment: tunnel TSO flags, segment size, the chain's segment count.
    func testCaptureOfSuperFrameChainsIsWhole() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/dev/net/tun"), "no /dev/net/tun")
        let script = Binary.root.appendingPathComponent("Tools/netns/vxlan-taps.sh").path
        let pattern = Binary.root.appendingPathComponent("Tools/netns/tcp-pattern.py").path
        let prefix = "tpmdcsf\(getpid() % 100000)"
        _ = try? Command.run("/usr/bin/env", ["sh", script, "down", prefix])
        defer { _ = try? Command.run("/usr/bin/env", ["sh", script, "down", prefix]) }
        let up = try Command.run("/usr/bin/env", ["sh", script, "up", prefix])
        try XCTSkipUnless(up.status == 0, "namespaces with taps cannot be made here: \(up.output)")
        let offloads = "offloads=tso,uso,tunnel,tunnel-csum"
        let file = path("superframes.pcapng")
        let running = try Binary.Running(Binary.eal("capture-super", vdevs: []) + [
            "--", "--forward-mode=csum", "--vnet-tap", "name=vtap0,netns=\(prefix)-a,\(offloads)",
            "--vnet-tap", "name=vtap0,netns=\(prefix)-b,\(offloads)", "--capture=0,rx,\(file)",
        ])
        defer { if running.process.isRunning { kill(running.process.processIdentifier, SIGKILL) } }
        XCTAssertTrue(running.waitFor("Forwarding until SIGINT or SIGTERM."), running.stdout)

        let bytes = 1_000_000
        let receiver = Process()
        receiver.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        receiver.arguments = ["ip", "netns", "exec", "\(prefix)-b", "python3", pattern, "recv", "5301", "\(bytes)", "--bind", "10.98.0.2"]
        let received = Pipe()
        receiver.standardOutput = received
        receiver.standardError = received
        try receiver.run()
        defer { if receiver.isRunning { kill(receiver.processIdentifier, SIGKILL) } }
        usleep(300_000)
        let send = try Command.run("/usr/bin/env", ["ip", "netns", "exec", "\(prefix)-a", "python3", pattern, "send", "10.98.0.2", "5301", "\(bytes)"])
        XCTAssertEqual(send.status, 0, send.output)
        let deadline = Date().addingTimeInterval(30)
        while receiver.isRunning && Date() < deadline { usleep(50_000) }
        if receiver.isRunning { kill(receiver.processIdentifier, SIGKILL) }
        receiver.waitUntilExit()
        let said = String(decoding: received.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(said.contains("OK \(bytes)"), "the flow crossed tunnelpmd intact: \(said)")
        running.signal(SIGTERM)
        let result = running.finish()
        XCTAssertEqual(result.status, 0, result.stderr)
        let written = try XCTUnwrap(result.stdout.number(after: "Written:"), result.stdout)

        let snapLength = 65535 - 128 - 256
        let lines = try tsharkFields(file, ["frame.len", "frame.cap_len", "vxlan.vni", "tcp.len", "frame.comment"])
        XCTAssertEqual(UInt64(lines.count), written, "tshark reads every packet written")
        var whole = 0
        for line in lines {
            let fields = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 5, let length = Int(fields[0]), let captured = Int(fields[1]) else {
                XCTFail("unexpected tshark line: \(line)")
                continue
            }
            XCTAssertEqual(captured, min(length, snapLength), "a frame is cut only at the snap length: \(line)")
            XCTAssertTrue(fields[4].hasPrefix("tunnelpmd ol_flags=0x"), line)
            // A super-frame: larger than any MTU-sized frame and than one mbuf (2176 bytes).
            guard length > 9000, length <= snapLength else { continue }
            let comment = fields[4]
            func value(_ key: String) -> Int? {
                guard let range = comment.range(of: " \(key)=") else { return nil }
                return Int(comment[range.upperBound...].prefix { $0.isNumber })
            }
            let segments = try XCTUnwrap(value("segs"), comment)
            let segmentSize = try XCTUnwrap(value("tso_segsz"), comment)
            XCTAssertGreaterThan(segments, 1, "read into a chain: \(comment)")
            XCTAssertGreaterThan(segmentSize, 0, "tunnel TSO metadata recorded: \(comment)")
            XCTAssertLessThan(segmentSize, length, comment)
            XCTAssertGreaterThan(value("outer_l3_len") ?? 0, 0, "the outer headers recorded: \(comment)")
            XCTAssertEqual(fields[2], "42", "VXLAN 42 read from the whole frame: \(line)")
            // The inner TCP segment is in the file whole: tshark finds its full payload.
            XCTAssertGreaterThan(Int(fields[3]) ?? 0, length - 200, "inner TCP payload of the whole frame: \(line)")
            whole += 1
        }
        XCTAssertGreaterThan(whole, 0, "at least one super-frame captured whole\n\(lines.prefix(40).joined(separator: "\n"))")
    }

    /// rte_pdump: tunnelpmd as the primary process on hugepages, dpdk-dumpcap (shipped with
    /// DPDK) as a secondary capturing port 0. Skipped when hugepages cannot be set up.
    func testDumpcapCapturesARunningTunnelpmdThroughPdump() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/dpdk-dumpcap"), "dpdk-dumpcap missing (dpdk package)")
        let pages = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
        guard let before = try? String(contentsOfFile: pages, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) else {
            throw XCTSkip("no 2 MB hugepages on this kernel")
        }
        if (Int(before) ?? 0) < 256 {
            guard (try? "256".write(toFile: pages, atomically: false, encoding: .utf8)) != nil else {
                throw XCTSkip("cannot reserve hugepages (not root?)")
            }
        }
        defer { if (Int(before) ?? 0) < 256 { try? before.write(toFile: pages, atomically: false, encoding: .utf8) } }
        let free = try String(contentsOfFile: "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", encoding: .utf8)
        try XCTSkipUnless((Int(free.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) >= 128, "fewer than 128 free hugepages")
        let mounts = try String(contentsOfFile: "/proc/mounts", encoding: .utf8)
        if !mounts.contains("hugetlbfs") {
            try FileManager.default.createDirectory(atPath: "/dev/hugepages", withIntermediateDirectories: true)
            let mount = try Command.run("/usr/bin/env", ["mount", "-t", "hugetlbfs", "nodev", "/dev/hugepages"])
            try XCTSkipUnless(mount.status == 0, "cannot mount hugetlbfs: \(mount.output)")
        }
        let prefix = "tunnelpmd-pdump-\(getpid())"
        let file = path("dumpcap.pcapng")
        let primary = try Binary.Running([
            "-m", "256", "--no-pci", "--file-prefix", prefix, "-l", "0-1", "--log-level", "lib.eal:warning",
            "--vdev", "net_null0", "--vdev", "net_null1",
        ])
        defer {
            if primary.process.isRunning { kill(primary.process.processIdentifier, SIGKILL) }
        }
        XCTAssertTrue(primary.waitFor("Forwarding until SIGINT or SIGTERM."), primary.stdout)
        let dumpcap = Process()
        // dpdk-dumpcap takes no EAL options beyond --file-prefix, so its EAL scans the PCI bus;
        // a PCI NIC the primary does not drive (--no-pci) makes its probe fail. It runs in a mount
        // namespace of its own where /sys/bus/pci/devices is empty: it sees only the vdevs.
        dumpcap.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        dumpcap.arguments = ["--mount", "sh", "-c",
                             "mount -t tmpfs none /sys/bus/pci/devices && exec dpdk-dumpcap --file-prefix=\(prefix) -i 0 -w \(file) -c 100 -q"]
        let output = Pipe()
        dumpcap.standardOutput = output
        dumpcap.standardError = output
        try dumpcap.run()
        defer { if dumpcap.isRunning { kill(dumpcap.processIdentifier, SIGKILL) } }
        let deadline = Date().addingTimeInterval(30)
        while dumpcap.isRunning && Date() < deadline { usleep(50_000) }
        if dumpcap.isRunning { kill(dumpcap.processIdentifier, SIGKILL) }
        dumpcap.waitUntilExit()
        let dumpcapOutput = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(dumpcap.terminationStatus, 0, dumpcapOutput)
        primary.signal(SIGTERM)
        let result = primary.finish()
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = try tsharkFields(file, ["frame.len"])
        // dumpcap stops after the burst that reaches the count.
        XCTAssertGreaterThanOrEqual(lines.count, 100, dumpcapOutput)
        XCTAssertTrue(lines.allSatisfy { $0 == "64" }, lines.joined(separator: ","))
    }
}
