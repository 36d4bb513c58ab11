import Foundation
import TestSupport
import XCTest

/// DPDK telemetry from outside: the real binary forwarding on two net_null ports, queried
/// with the stock client `dpdk-telemetry.py -f <file-prefix>` (Debian's dpdk-dev package).
final class TelemetryTests: XCTestCase {
    /// The stock client: Debian ships it in dpdk-dev (`dpkg -L dpdk-dev | grep telemetry`).
    static let client = ["/usr/bin/dpdk-telemetry.py", "/usr/local/bin/dpdk-telemetry.py"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    override func setUpWithError() throws {
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: Binary.path), "build tunnelpmd first: \(Binary.path)")
        try XCTSkipIf(Self.client == nil, "dpdk-telemetry.py not installed (apt-get install dpdk-dev)")
    }

    /// EAL arguments as the other tests use them (`--no-huge`, `--no-shconf`), with port 0
    /// making 10-byte frames: too short for an Ethernet header, so the csum engine drops every
    /// one as `malformed: truncated`, while port 1's frames are forwarded.
    private func eal(_ prefix: String) -> [String] {
        ["--no-huge", "-m", "256", "--no-pci", "--no-shconf", "--file-prefix", prefix, "-l", "0-1",
         "--log-level", "lib.eal:warning", "--vdev", "net_null0,size=10", "--vdev", "net_null1"]
    }

    func testQueriesWhileForwardingAndAfterStop() throws {
        let prefix = "tunnelpmd-telemetry-\(getpid())"
        let running = try Binary.Running(eal(prefix) + [
            "--", "-i", "--forward-mode=csum", "--burst=16", "--txd=512", "--gso-ports=0",
            "--eth-peer=1,02:aa:bb:cc:dd:01", "--gso-segsz=1400",
        ])
        defer { if running.process.isRunning { kill(running.process.processIdentifier, SIGKILL) } }
        running.send("start\n")
        XCTAssertTrue(running.waitFor("csum packet forwarding - ports=2 - cores=1 - streams=2"), running.stdout)

        // Counters move between two queries while forwarding.
        let first = try query(prefix, "/tunnelpmd/stats,1")
        usleep(300_000)
        let second = try query(prefix, "/tunnelpmd/stats,1")
        let before = try XCTUnwrap(first["/tunnelpmd/stats"] as? [String: Any], "\(first)")
        let after = try XCTUnwrap(second["/tunnelpmd/stats"] as? [String: Any], "\(second)")
        XCTAssertEqual(after["port"] as? Int, 1)
        XCTAssertEqual(after["driver"] as? String, "net_null")
        XCTAssertEqual(after["forwarding"] as? String, "on")
        XCTAssertGreaterThan(number(after, "rx_good_packets"), number(before, "rx_good_packets"))
        XCTAssertEqual(number(after, "tx_good_packets"), 0, "port 0's frames are all dropped: nothing leaves port 1")
        // The streams that receive or send on port 1: 1 -> 0 forwards, 0 -> 1 drops.
        let stream = try XCTUnwrap(after["stream_1"] as? [String: Any], "\(after)")
        let earlier = try XCTUnwrap(before["stream_1"] as? [String: Any], "\(before)")
        XCTAssertEqual(stream["rx_port"] as? Int, 1)
        XCTAssertEqual(stream["tx_port"] as? Int, 0)
        XCTAssertGreaterThan(number(stream, "tx_good_packets"), number(earlier, "tx_good_packets"))
        let dropping = try XCTUnwrap(after["stream_0"] as? [String: Any], "\(after)")
        XCTAssertEqual(dropping["tx_port"] as? Int, 1)
        XCTAssertGreaterThan(number(dropping, "engine_dropped"), 0)

        // One client session, several commands: an unknown port and a missing parameter answer
        // null, DPDK's own ethdev commands still work, the config reflects the options given.
        let answers = try queries(prefix, [
            "/tunnelpmd/stats,9", "/tunnelpmd/stats", "/tunnelpmd/stats,frob", "/tunnelpmd/drops,9",
            "/ethdev/stats,0", "/ethdev/list", "/tunnelpmd/config", "/tunnelpmd/plans,0", "/tunnelpmd/ports",
            "/tunnelpmd/taps",
        ])
        XCTAssertEqual(answers.count, 10, "\(answers)")
        for (index, command) in ["/tunnelpmd/stats", "/tunnelpmd/stats", "/tunnelpmd/stats", "/tunnelpmd/drops"].enumerated() {
            XCTAssertTrue(answers[index][command] is NSNull, "\(answers[index])")
        }
        let ethdev = try XCTUnwrap(answers[4]["/ethdev/stats"] as? [String: Any], "\(answers[4])")
        XCTAssertGreaterThan(number(ethdev, "ipackets"), 0)
        XCTAssertEqual(answers[5]["/ethdev/list"] as? [Int], [0, 1])
        let config = try XCTUnwrap(answers[6]["/tunnelpmd/config"] as? [String: Any], "\(answers[6])")
        XCTAssertEqual(config["mode"] as? String, "csum")
        XCTAssertEqual(config["topology"] as? String, "paired")
        XCTAssertEqual(config["burst"] as? Int, 16)
        XCTAssertEqual(config["txd"] as? Int, 512)
        XCTAssertEqual(config["nb_cores"] as? Int, 1)
        XCTAssertEqual(config["gso_segsz"] as? Int, 1400)
        XCTAssertEqual(config["lcores"] as? [Int], [1])
        let port0 = try XCTUnwrap(config["port_0"] as? [String: Any], "\(config)")
        let port1 = try XCTUnwrap(config["port_1"] as? [String: Any], "\(config)")
        XCTAssertEqual(port0["driver"] as? String, "net_null")
        XCTAssertEqual(port0["gso"] as? String, "on")
        XCTAssertEqual(port1["gso"] as? String, "off")
        XCTAssertEqual(port0["tso_segsz"] as? String, "auto")
        XCTAssertEqual(port0["eth_peer"] as? String, "02:00:00:00:00:00")
        XCTAssertEqual(port1["eth_peer"] as? String, "02:AA:BB:CC:DD:01")
        let plans = try XCTUnwrap(answers[7]["/tunnelpmd/plans"] as? [String: Any], "\(answers[7])")
        let kinds = try XCTUnwrap(plans["kinds"] as? [String: Int], "\(plans)")
        XCTAssertEqual(Set(kinds.keys), ["tx_plan_hardware", "tx_plan_partial", "tx_plan_software", "tx_plan_oversize"])
        XCTAssertGreaterThan(kinds.values.reduce(0, +), 0, "port 1's frames leave port 0 with a plan")
        XCTAssertNotNil((plans["reasons"] as? [String: Int])?["tx_plan_reason_gso_off"], "\(plans)")
        XCTAssertEqual(answers[8]["/tunnelpmd/ports"] as? [Int], [0, 1])
        XCTAssertEqual((answers[9]["/tunnelpmd/taps"] as? [String: Any])?.count, 0, "\(answers[9])")

        // After stop the counters stand still: the drop reasons add up to the engine drops,
        // in total and on port 0 (parse drops count on the rx port), as `stop` printed them.
        running.send("stop\n")
        XCTAssertTrue(running.waitFor("Accumulated forward statistics"), running.stdout)
        let stopped = try queries(prefix, ["/tunnelpmd/drops", "/tunnelpmd/drops,0", "/tunnelpmd/stats,0", "/tunnelpmd/stats,0"])
        XCTAssertEqual(stopped.count, 4, "\(stopped)")
        let total = try XCTUnwrap(stopped[0]["/tunnelpmd/drops"] as? [String: Any], "\(stopped[0])")
        let reasons = try XCTUnwrap(total["reasons"] as? [String: Int], "\(total)")
        XCTAssertGreaterThan(number(total, "engine_dropped"), 0)
        XCTAssertEqual(UInt64(reasons.values.reduce(0, +)), number(total, "engine_dropped"), "\(reasons)")
        XCTAssertGreaterThan(reasons["dropped_malformed_truncated"] ?? 0, 0, "\(reasons)")
        XCTAssertEqual(number(total, "engine_dropped"), running.stdout.number(after: "Engine-dropped:", in: "Accumulated forward statistics"))
        let onPort0 = try XCTUnwrap(stopped[1]["/tunnelpmd/drops"] as? [String: Any], "\(stopped[1])")
        let port0Reasons = try XCTUnwrap(onPort0["reasons"] as? [String: Int], "\(onPort0)")
        XCTAssertEqual(UInt64(port0Reasons.values.reduce(0, +)), number(onPort0, "engine_dropped"))
        XCTAssertEqual(number(onPort0, "engine_dropped"), number(total, "engine_dropped"), "port 1 drops nothing")
        let still1 = try XCTUnwrap(stopped[2]["/tunnelpmd/stats"] as? [String: Any])
        let still2 = try XCTUnwrap(stopped[3]["/tunnelpmd/stats"] as? [String: Any])
        XCTAssertEqual(still1["forwarding"] as? String, "off")
        XCTAssertEqual(number(still1, "rx_good_packets"), number(still2, "rx_good_packets"))
        XCTAssertEqual(number(still1, "engine_dropped"), number(still1, "rx_good_packets"), "every 10-byte frame dropped")

        // The same counters under the same names in `show port xstats` (tunnelpmd_<name>,
        // beside the driver's) and in telemetry (stats, drops and plans of the port).
        let named = try queries(prefix, ["/tunnelpmd/stats,1", "/tunnelpmd/drops,1", "/tunnelpmd/plans,1"])
        XCTAssertEqual(named.count, 3, "\(named)")
        let stats1 = try XCTUnwrap(named[0]["/tunnelpmd/stats"] as? [String: Any], "\(named[0])")
        let drops1 = try XCTUnwrap(named[1]["/tunnelpmd/drops"] as? [String: Any], "\(named[1])")
        let plans1 = try XCTUnwrap(named[2]["/tunnelpmd/plans"] as? [String: Any], "\(named[2])")
        var telemetryNames = Set(stats1.keys.filter { !["port", "name", "driver", "forwarding", "mode"].contains($0) && !$0.hasPrefix("stream_") })
        for (dict, key) in [(drops1, "reasons"), (plans1, "kinds"), (plans1, "reasons")] {
            telemetryNames.formUnion(try XCTUnwrap(dict[key] as? [String: Int], "\(dict)").keys)
        }
        running.send("show port xstats 1\nquit\n")
        running.closeInput()
        let result = running.finish()
        XCTAssertEqual(result.status, 0, result.stderr)
        let xstats = Self.xstats(result.stdout, port: 1)
        let own = Set(xstats.keys.filter { $0.hasPrefix("tunnelpmd_") }.map { String($0.dropFirst("tunnelpmd_".count)) })
        XCTAssertGreaterThan(own.count, 20, result.stdout)
        XCTAssertEqual(own, telemetryNames, "xstats only: \(own.subtracting(telemetryNames)), telemetry only: \(telemetryNames.subtracting(own))")
        XCTAssertEqual(xstats["tunnelpmd_rx_good_packets"], number(stats1, "rx_good_packets"), "stopped: the same reading")
    }

    /// `name: value` lines of `show port xstats <port>` in a console transcript.
    static func xstats(_ output: String, port: UInt16) -> [String: UInt64] {
        guard let header = output.range(of: "###### NIC extended statistics for port \(port)") else { return [:] }
        var values: [String: UInt64] = [:]
        for line in output[header.upperBound...].split(separator: "\n").dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let value = UInt64(parts[1].trimmingCharacters(in: .whitespaces)),
                  parts[0].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { break }
            values[String(parts[0])] = value
        }
        return values
    }

    /// `--no-telemetry`: no socket, the client cannot connect; forwarding is unaffected.
    func testNoTelemetryMeansNoSocket() throws {
        let prefix = "tunnelpmd-notelemetry-\(getpid())"
        let running = try Binary.Running(eal(prefix) + ["--no-telemetry", "--", "--stop-after=3"])
        defer { if running.process.isRunning { kill(running.process.processIdentifier, SIGKILL) } }
        XCTAssertTrue(running.waitFor("Forwarding for 3"), running.stdout)
        let output = try clientOutput(prefix, ["/tunnelpmd/config"])
        XCTAssertTrue(output.contains("Error connecting to"), output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: Self.runtimeDirectory(prefix) + "/dpdk_telemetry.v2"))
        let result = running.finish()
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertGreaterThan(result.stdout.number(after: "RX-packets:", in: "Accumulated forward statistics") ?? 0, 0)
    }

    /// A vnet tap port (port 1, in its own network namespace) beside net_null0: its counters
    /// and its rx/tx drop reasons by name, and its driver in the config.
    func testTapPortCountersAndDropReasons() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/dev/net/tun"), "no /dev/net/tun")
        let tapNamespace = try TapNamespace("tpmdtel\(getpid() % 100000)")
        defer { tapNamespace.remove() }
        let namespace = tapNamespace.name
        let prefix = "tunnelpmd-telemetry-tap-\(getpid())"
        let running = try Binary.Running(
            ["--no-huge", "-m", "256", "--no-pci", "--no-shconf", "--file-prefix", prefix, "-l", "0-1",
             "--log-level", "lib.eal:warning", "--vdev", "net_null0",
             "--", "-i", "--forward-mode=io", "--vnet-tap", "name=vtap0,netns=\(namespace),offloads=tso,uso,tunnel,tunnel-csum"])
        defer { if running.process.isRunning { kill(running.process.processIdentifier, SIGKILL) } }
        running.send("start\n")
        XCTAssertTrue(running.waitFor("io packet forwarding - ports=2"), running.stdout)
        usleep(300_000)
        let answers = try queries(prefix, ["/tunnelpmd/taps", "/tunnelpmd/taps,1", "/tunnelpmd/taps,0", "/tunnelpmd/drops,1",
                                           "/tunnelpmd/drops", "/tunnelpmd/config", "/tunnelpmd/stats,1"])
        XCTAssertEqual(answers.count, 7, "\(answers)")
        let all = try XCTUnwrap(answers[0]["/tunnelpmd/taps"] as? [String: Any], "\(answers[0])")
        XCTAssertEqual(Array(all.keys), ["port_1"])
        let tap = try XCTUnwrap(answers[1]["/tunnelpmd/taps"] as? [String: Any], "\(answers[1])")
        XCTAssertEqual(tap["name"] as? String, "vnet_tap:vtap0")
        XCTAssertGreaterThan(number(tap, "tx_good_packets"), 0, "net_null0's frames are written to the tap")
        XCTAssertTrue(answers[2]["/tunnelpmd/taps"] is NSNull, "port 0 is no tap: \(answers[2])")
        let drops = try XCTUnwrap(answers[3]["/tunnelpmd/drops"] as? [String: Any], "\(answers[3])")
        let rxReasons = try XCTUnwrap(drops["tap_rx_reasons"] as? [String: Int], "\(drops)")
        let txReasons = try XCTUnwrap(drops["tap_tx_reasons"] as? [String: Int], "\(drops)")
        XCTAssertGreaterThan(rxReasons.count, 10, "every reason, zero or not: \(rxReasons.keys.sorted())")
        XCTAssertNotNil(rxReasons["rx_dropped_frame_too_short"])
        XCTAssertNotNil(rxReasons["rx_dropped_uso_without_needs_csum"])
        XCTAssertNotNil(txReasons["tx_dropped_offload_not_granted"])
        XCTAssertEqual(UInt64(rxReasons.values.reduce(0, +)), number(drops, "tap_rx_dropped"))
        let total = try XCTUnwrap(answers[4]["/tunnelpmd/drops"] as? [String: Any], "\(answers[4])")
        XCTAssertNotNil(total["tap_1_rx_reasons"] as? [String: Int], "\(total)")
        let config = try XCTUnwrap(answers[5]["/tunnelpmd/config"] as? [String: Any], "\(answers[5])")
        XCTAssertEqual((config["port_1"] as? [String: Any])?["driver"] as? String, "vnet_tap")
        let stats = try XCTUnwrap(answers[6]["/tunnelpmd/stats"] as? [String: Any], "\(answers[6])")
        XCTAssertGreaterThan(number(stats, "tx_good_packets"), 0)
        // The tap's xstats are its telemetry counters under the same names (the errno counters
        // appear in both only once they are not zero).
        running.send("stop\nshow port xstats 1\nquit\n")
        running.closeInput()
        let result = running.finish()
        XCTAssertEqual(result.status, 0, result.stderr)
        let xstats = Self.xstats(result.stdout, port: 1)
        let tapNames = Set(xstats.keys.filter { !$0.hasPrefix("tunnelpmd_") && !$0.contains("_errno_") })
        let telemetryNames = Set(tap.keys.filter { !["port", "name"].contains($0) && !$0.contains("_errno_") })
        XCTAssertGreaterThan(tapNames.count, 20, result.stdout)
        XCTAssertEqual(tapNames, telemetryNames, "xstats only: \(tapNames.subtracting(telemetryNames)), telemetry only: \(telemetryNames.subtracting(tapNames))")
        XCTAssertGreaterThanOrEqual(xstats["tx_good_packets"] ?? 0, number(tap, "tx_good_packets"), "counters only grow")
        XCTAssertNotNil(xstats["tunnelpmd_tx_good_packets"], "tunnelpmd's own counters beside the tap's")
    }

    // MARK: helpers

    /// DPDK's runtime directory for a file prefix, as EAL and the client compute it.
    static func runtimeDirectory(_ prefix: String) -> String {
        let environment = ProcessInfo.processInfo.environment
        let base = environment["RUNTIME_DIRECTORY"] ?? (getuid() == 0 ? "/var/run" : environment["XDG_RUNTIME_DIR"] ?? "/tmp")
        return base + "/dpdk/" + prefix
    }

    private func number(_ dict: [String: Any], _ key: String) -> UInt64 {
        (dict[key] as? NSNumber)?.uint64Value ?? 0
    }

    private func query(_ prefix: String, _ command: String) throws -> [String: Any] {
        try XCTUnwrap(queries(prefix, [command]).first, "no answer to \(command)")
    }

    /// One client session: each command's JSON answer, in order.
    private func queries(_ prefix: String, _ commands: [String]) throws -> [[String: Any]] {
        let output = try clientOutput(prefix, commands)
        return try output.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed])
            return try XCTUnwrap(object as? [String: Any], "not a JSON object: \(line)")
        }
    }

    /// Runs `dpdk-telemetry.py -f prefix` with the commands on stdin; ended by pid after 20 s.
    private func clientOutput(_ prefix: String, _ commands: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.client!)
        process.arguments = ["-f", prefix]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
        input.fileHandleForWriting.write(Data((commands.joined(separator: "\n") + "\n").utf8))
        try input.fileHandleForWriting.close()
        // The answers are small (well under a pipe's 64 KiB): wait for the exit, then read.
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        XCTAssertFalse(process.isRunning, "dpdk-telemetry.py did not exit within 20 s; killed")
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        let data = (try? output.fileHandleForReading.readToEnd()) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
