import Foundation
import XCTest

/// The binary's command line, config files and fixed-core mode, checked from outside.
final class CommandLineTests: XCTestCase {
    override func setUpWithError() throws {
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: Binary.path), "build tunnelpmd first: \(Binary.path)")
    }

    func testBadArgumentsExitTwoWithOneLineNamingWhatIsAllowed() throws {
        let cases: [([String], String)] = [
            (["--frob"], "tunnelpmd: invalid option '--frob'; allowed: -i, -a, -h, --interactive"),
            (["--burst=0"], "tunnelpmd: invalid burst '0'; allowed: 1-512"),
            (["--burst", "x"], "tunnelpmd: invalid burst 'x'; allowed: 1-512"),
            (["--burst"], "tunnelpmd: invalid --burst ''; allowed: a value after --burst"),
            (["--forward-mode=csum2"], "tunnelpmd: invalid forward-mode 'csum2'; allowed: io, mac, csum, rxonly, txonly, macswap, flowgen, 5tswap"),
            (["--port-topology=ring"], "tunnelpmd: invalid port-topology 'ring'; allowed: paired, chained, loop"),
            (["--rxq=2", "--txq=1"], "tunnelpmd: invalid txq '1'; allowed: at least --rxq (2)"),
            (["-i=1"], "tunnelpmd: invalid option '-i=1'"),
            (["--interactive=yes"], "tunnelpmd: invalid --interactive 'yes'; allowed: no value (--interactive is a flag)"),
            (["--config", "/nonexistent.yaml"], "tunnelpmd: invalid config '/nonexistent.yaml'; allowed: a readable YAML file"),
            (["--gso-ports=some"], "tunnelpmd: invalid gso-ports 'some'; allowed: all, none, or port ids separated by commas"),
            (["--eth-peer=1"], "tunnelpmd: invalid eth-peer '1'; allowed: <port>,<mac> with port 0-31 and mac XX:XX:XX:XX:XX:XX"),
            (["--eth-peer", "0,78:d4:f1"], "tunnelpmd: invalid eth-peer '78:d4:f1'; allowed: XX:XX:XX:XX:XX:XX (six hex pairs"),
            (["--eth-peers-configfile=/nonexistent"], "tunnelpmd: invalid eth-peers-configfile '/nonexistent'; allowed: a readable file"),
            (["--verbose=-1"], "tunnelpmd: invalid verbose '-1'; allowed: 0-4294967295"),
        ]
        for (arguments, expected) in cases {
            let result = try Binary.run(Binary.eal("bad") + ["--"] + arguments)
            XCTAssertEqual(result.status, 2, "\(arguments)")
            XCTAssertTrue(result.stderr.hasPrefix(expected), "\(arguments): \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "one line: \(result.stderr)")
            XCTAssertFalse(result.stdout.contains("EAL:"), "rejected before EAL starts")
        }
    }

    func testBadConfigLineNamesFileLineKeyAndAllowed() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tunnelpmd-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("bad.yaml")
        try "forwarding:\n  mode: io\n  burst: 9999\n".write(to: file, atomically: true, encoding: .utf8)
        let result = try Binary.run(["--", "--config", file.path])
        XCTAssertEqual(result.status, 2)
        XCTAssertEqual(result.stderr, "tunnelpmd: \(file.path):3: invalid forwarding.burst '9999'; allowed: 1-512\n")
    }

    /// Every integer option `--help` lists with its range: both bounds accepted (parsing stops at
    /// --help, before EAL), one past each refused with the same words as the config file.
    func testEveryIntegerOptionAtAndPastItsBounds() throws {
        let help = try Binary.run(["--", "--help"])
        XCTAssertEqual(help.status, 0)
        var ranges: [(String, Int, Int)] = []
        for line in help.stdout.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard let first = words.first, first.hasPrefix("--"), first.hasSuffix("=N"),
                  let semicolon = line.range(of: "; default"),
                  let open = line.range(of: "(", options: .backwards, range: line.startIndex..<semicolon.lowerBound)
            else { continue }
            let bounds = line[open.upperBound..<semicolon.lowerBound].split(separator: "-")
            guard bounds.count == 2, let low = Int(bounds[0]), let high = Int(bounds[1]) else {
                XCTFail("no range: \(line)")
                continue
            }
            ranges.append((String(first.dropFirst(2).dropLast(2)), low, high))
        }
        XCTAssertEqual(Set(ranges.map(\.0)), [
            "nb-cores", "rxq", "txq", "rxd", "txd", "burst", "mbuf-size", "total-num-mbufs", "max-pkt-len", "verbose", "gso-segsz",
            "idle-sleep-us", "stats-period", "gro-flush", "gro-timeout-us", "gro-flows", "gro-segments", "gro-size", "nb-ports", "socket-num",
            "flowgen-clones", "flowgen-flows",
        ], help.stdout)
        XCTAssertTrue(ranges.contains { $0 == ("burst", 1, 512) })
        XCTAssertTrue(ranges.contains { $0 == ("idle-sleep-us", 0, 100_000) })
        let atLow = try Binary.run(["--"] + ranges.map { "--\($0.0)=\($0.1)" } + ["--help"])
        XCTAssertEqual(atLow.status, 0, atLow.stderr)
        let atHigh = try Binary.run(["--"] + ranges.map { "--\($0.0)=\($0.2)" } + ["--help"])
        XCTAssertEqual(atHigh.status, 0, atHigh.stderr)
        for (name, low, high) in ranges {
            for value in [low - 1, high + 1] {
                let result = try Binary.run(["--", "--\(name)", "\(value)", "--help"])
                XCTAssertEqual(result.status, 2, name)
                XCTAssertEqual(result.stderr, "tunnelpmd: invalid \(name) '\(value)'; allowed: \(low)-\(high) (see tunnelpmd -- --help)\n")
            }
        }
    }

    /// --enable-lro and --idle-sleep-us have config keys; a bad one names the key and what is allowed.
    func testConfigKeysOfLROAndIdleSleep() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tunnelpmd-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("bad.yaml")
        try "forwarding:\n  enable_lro: true\n  idle_sleep_us: -1\n".write(to: file, atomically: true, encoding: .utf8)
        let bad = try Binary.run(["--", "--config", file.path])
        XCTAssertEqual(bad.status, 2)
        XCTAssertEqual(bad.stderr, "tunnelpmd: \(file.path):3: invalid forwarding.idle_sleep_us '-1'; allowed: 0-100000\n")
        try "forwarding:\n  enable_lro: sometimes\n".write(to: file, atomically: true, encoding: .utf8)
        let lro = try Binary.run(["--", "--config", file.path])
        XCTAssertEqual(lro.status, 2)
        XCTAssertEqual(lro.stderr, "tunnelpmd: \(file.path):2: invalid forwarding.enable_lro 'sometimes'; allowed: true, false\n")
    }

    func testHelpListsEveryOption() throws {
        let result = try Binary.run(["--", "--help"])
        XCTAssertEqual(result.status, 0)
        for option in ["--interactive", "--auto-start", "--forward-mode", "--nb-cores", "--rxq", "--txq", "--rxd", "--txd",
                       "--burst", "--mbuf-size", "--total-num-mbufs", "--port-topology", "--stats-period",
                       "--cmdline-file", "--max-pkt-len", "--no-flush-rx", "--config", "--stop-after",
                       "--gso-ports", "--eth-peer=N,XX:XX:XX:XX:XX:XX", "--eth-peers-configfile", "--gso-segsz", "--vnet-tap",
                       "--enable-lro", "--idle-sleep-us", "--verbose", "--help"] {
            XCTAssertTrue(result.stdout.contains(option), option)
        }
    }

    func testFixedCoreConfigRunsBoundedAndPrintsTestpmdStatistics() throws {
        let config = Binary.root.appendingPathComponent("Configs/ci.yaml").path
        let result = try Binary.run(["--", "--config", config, "--stats-period", "1", "--stop-after", "1.5"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let out = result.stdout
        XCTAssertTrue(out.contains("mac packet forwarding - ports=2 - cores=1 - streams=2"), out)
        XCTAssertTrue(out.contains("Port statistics ===================================="))
        XCTAssertTrue(out.contains("Rx-pps:"))
        XCTAssertTrue(out.contains("Tx-pps:"))
        XCTAssertTrue(out.contains("  ---------------------- Forward statistics for port 0  ----------------------"))
        XCTAssertTrue(out.contains("  +++++++++++++++ Accumulated forward statistics for all ports+++++++++++++++"))
        let rx = try XCTUnwrap(out.number(after: "RX-packets:", in: "Accumulated forward statistics"))
        let tx = try XCTUnwrap(out.number(after: "TX-packets:", in: "Accumulated forward statistics"))
        let dropped = try XCTUnwrap(out.number(after: "TX-dropped:", in: "Accumulated forward statistics"))
        XCTAssertGreaterThan(rx, 10_000)
        XCTAssertEqual(rx, tx + dropped, "every received packet sent or counted as dropped")
        XCTAssertTrue(out.contains("Port 1 is closed"))
        XCTAssertTrue(out.hasSuffix("Bye...\n"))
    }

    /// A --cmdline-file holding `start` without -i: as testpmd, forwarding is "already started",
    /// the run goes on until --stop-after and ends with the statistics and exit code 0.
    func testCommandFileThatStartsForwardingWithoutInteractive() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tunnelpmd-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("start.txt")
        try "set fwd mac\nset verbose 0\nstart\nstart\n".write(to: file, atomically: true, encoding: .utf8)
        let result = try Binary.run(Binary.eal("cmdstart") + ["--", "--cmdline-file=\(file.path)", "--stop-after", "1"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let out = result.stdout
        XCTAssertFalse(result.stderr.contains("packet forwarding is active"), result.stderr)
        XCTAssertEqual(out.components(separatedBy: "Packet forwarding already started").count - 1, 2, "the file's second start and the run's own\n\(out)")
        XCTAssertTrue(out.contains("mac packet forwarding - ports=2"), out)
        XCTAssertGreaterThan(out.number(after: "RX-packets:", in: "Accumulated forward statistics") ?? 0, 0, out)
        XCTAssertTrue(out.hasSuffix("Bye...\n"))
    }

    /// Swift GSO is on for every port unless --gso-ports names exactly which (or none).
    func testGSOPortsDefaultAllAndExactList() throws {
        for (arguments, expected) in [([String](), ["on", "on"]), (["--gso-ports=1"], ["off", "on"]), (["--gso-ports=none"], ["off", "off"]),
                                      (["--gso-ports=all"], ["on", "on"])] {
            let result = try Binary.run(Binary.eal("gsoports") + ["--", "-i"] + arguments,
                                        input: "show port 0 gso\nshow port 1 gso\nset port 1 gso off\nshow port 1 gso\nquit\n")
            XCTAssertEqual(result.status, 0, result.stderr)
            for (port, state) in expected.enumerated() {
                XCTAssertTrue(result.stdout.contains("GSO is \(state) for port \(port)"), "\(arguments): \(result.stdout)")
            }
            let last = result.stdout.components(separatedBy: "tunnelpmd> show port 1 gso").last ?? ""
            XCTAssertTrue(last.hasPrefix("\nGSO is off for port 1"), "set port 1 gso off: \(last)")
        }
    }

    func testSignalsStopForwardingCleanly() throws {
        for signal in [SIGTERM, SIGINT] {
            let running = try Binary.Running(Binary.eal("signal\(signal)") + ["--", "--forward-mode=io"])
            XCTAssertTrue(running.waitFor("Forwarding until SIGINT or SIGTERM."), running.stdout)
            usleep(300_000)
            running.signal(signal)
            let result = running.finish(seconds: 20)
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertTrue(result.stdout.contains("Signal \(signal) received, preparing to exit..."))
            XCTAssertTrue(result.stdout.contains("Accumulated forward statistics for all ports"))
            XCTAssertGreaterThan(result.stdout.number(after: "RX-packets:", in: "Accumulated") ?? 0, 0)
            XCTAssertTrue(result.stdout.contains("Port 0 is closed"))
            XCTAssertTrue(result.stdout.hasSuffix("Bye...\n"))
        }
    }

    func testNoPortsAndNoWorkerLcoreAreExplained() throws {
        let noPorts = try Binary.run(Binary.eal("noports", vdevs: []) + ["--"])
        XCTAssertEqual(noPorts.status, 1)
        XCTAssertTrue(noPorts.stderr.contains("no ethdev ports: give EAL a device, e.g. --vdev net_null0"), noPorts.stderr)
        var oneLcore = Binary.eal("onelcore")
        oneLcore[oneLcore.firstIndex(of: "0-1")!] = "0"
        let noWorker = try Binary.run(oneLcore + ["--"])
        XCTAssertEqual(noWorker.status, 1)
        XCTAssertTrue(noWorker.stderr.contains("no forwarding lcore"), noWorker.stderr)
    }
}
