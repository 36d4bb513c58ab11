import Foundation
import XCTest

/// A scripted console session piped into the real binary, as testpmd accepts one.
final class ConsoleSessionTests: XCTestCase {
    func testScriptedSession() throws {
        let script = """
            show port summary all
            show config fwd
            start
            show port stats all
            stop
            set fwd frob
            set fwd mac
            show port info 9
            show port info 0
            show port xstats 1
            clear port stats all
            frob
            quit

            """
        let result = try Binary.run(Binary.eal("session") + ["--", "-i"], input: script)
        XCTAssertEqual(result.status, 0, result.stderr)
        let out = result.stdout
        // Each command is echoed after the prompt, in order.
        var position = out.startIndex
        for line in script.split(separator: "\n") {
            let echoed = "tunnelpmd> \(line)"
            guard let range = out.range(of: echoed, range: position..<out.endIndex) else {
                XCTFail("missing or out of order: \(echoed)\n\(out)")
                return
            }
            position = range.upperBound
        }
        XCTAssertTrue(out.contains("Number of available ports: 2"))
        XCTAssertTrue(out.contains("Port MAC Address       Name         Driver         Status   Link"))
        XCTAssertTrue(out.contains("net_null0    net_null       up       10 Gbps"), out)
        XCTAssertTrue(out.contains("io packet forwarding - ports=2 - cores=1 - streams=2"))
        XCTAssertTrue(out.contains("  RX P=0/Q=0 (socket 0) -> TX P=1/Q=0 (socket 0) peer=02:00:00:00:00:01"))
        XCTAssertTrue(out.contains("  ######################## NIC statistics for port 1  ########################"))
        XCTAssertGreaterThan(out.number(after: "RX-packets:", in: "NIC statistics for port 0") ?? 0, 0)
        XCTAssertGreaterThan(out.number(after: "RX-packets:", in: "Accumulated forward statistics") ?? 0, 0)
        XCTAssertTrue(out.contains("set fwd: bad value 'frob' for <mode>; allowed: io, mac, csum, rxonly, txonly, macswap, flowgen, 5tswap"), out)
        XCTAssertTrue(out.contains("Set mac packet forwarding mode"))
        XCTAssertTrue(out.contains("show port info: invalid port 9; valid ports: 0, 1"), out)
        XCTAssertTrue(out.contains("Infos for port 0"))
        XCTAssertTrue(out.contains("Driver name: net_null"))
        XCTAssertTrue(out.contains("###### NIC extended statistics for port 1"))
        XCTAssertTrue(out.contains("rx_good_packets:"))
        XCTAssertTrue(out.contains("NIC statistics for port 1 cleared"))
        XCTAssertTrue(out.contains("unknown command 'frob'; type 'help' for the list"), out)
        XCTAssertTrue(out.hasSuffix("Bye...\n"))
    }

    func testCommandFileAutoStartAndEndOfInput() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tunnelpmd-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("commands.txt")
        try "# prepared commands\nstop\nset fwd mac\nset burst 64\nshow config fwd\nstart\n".write(to: file, atomically: true, encoding: .utf8)
        // -a starts forwarding; the file stops, reconfigures and restarts; EOF on stdin quits.
        let result = try Binary.run(Binary.eal("cmdfile") + ["--", "-i", "-a", "--cmdline-file", file.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        let out = result.stdout
        XCTAssertTrue(out.contains("mac packet forwarding - ports=2"), out)
        XCTAssertTrue(out.contains("Number of packets per burst set to 64"))
        XCTAssertTrue(out.contains("Read CLI commands from \(file.path)"))
        // Stopped once by the file, once at the end of input.
        XCTAssertEqual(out.components(separatedBy: "Accumulated forward statistics").count - 1, 2, out)
        XCTAssertTrue(out.hasSuffix("Bye...\n"))
    }

    func testHelpListsCommandsOneLineEach() throws {
        let result = try Binary.run(Binary.eal("help") + ["--", "-i"], input: "help\nhelp show port\nquit\n")
        XCTAssertEqual(result.status, 0)
        for command in ["start", "stop", "quit", "show port info|stats|xstats|summary", "clear port stats",
                        "set fwd", "port start|stop", "show config fwd", "set verbose"] {
            XCTAssertTrue(result.stdout.contains(command), command)
        }
        XCTAssertTrue(result.stdout.contains("show port stats <port|all>    NIC counters"), result.stdout)
    }

    /// Verbose output reaches a pipe while packets flow, before `stop` (testpmd prints per burst).
    func testVerbosePrintsReceivedPacketsWhileForwarding() throws {
        let running = try Binary.Running(Binary.eal("verbose") + ["--", "-i"])
        running.send("set verbose 100\nstart\n")
        XCTAssertTrue(running.waitFor("port 0/queue 0: received", seconds: 20), "no packet line before stop:\n\(running.stdout.prefix(3000))")
        XCTAssertFalse(running.stdout.contains("Accumulated forward statistics"), "still forwarding")
        running.send("set verbose 0\nstop\nquit\n")
        running.closeInput()
        let result = running.finish()
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("Change verbose level from 0 to 100"), "any level, as testpmd")
        XCTAssertTrue(result.stdout.contains("src=00:00:00:00:00:00 - dst=00:00:00:00:00:00 - type=0x0000 - length=64 - nb_segs=1"))
        XCTAssertTrue(result.stdout.contains("Change verbose level from 100 to 0"))
    }

    /// tso/tunnel_tso on ports without the capability: accepted, one line on who cuts.
    func testTSOSettingsSayWhoCuts() throws {
        let script = """
            tso set 1400 0
            tso show 0
            tunnel_tso set 0 1
            tunnel_tso show 1
            set port 0 gso off
            tso show 0
            show port 0 offload plan
            quit

            """
        let result = try Binary.run(Binary.eal("whocuts") + ["--", "-i"], input: script)
        XCTAssertEqual(result.status, 0, result.stderr)
        let out = result.stdout
        XCTAssertTrue(out.contains("tunnelpmd> tso set 1400 0\nTSO segment size for non-tunneled packets is 1400\n"
                                   + "port 0 has no TSO (none of TCP, UDP): Swift GSO will cut at 1400\n"), out)
        XCTAssertTrue(out.contains("tunnelpmd> tso show 0\nTSO segment size for non-tunneled packets is 1400\n"
                                   + "port 0 has no TSO (none of TCP, UDP): Swift GSO cuts at 1400\n"), out)
        XCTAssertTrue(out.contains("TSO for tunneled packets is disabled\n"
                                   + "port 1 does not segment them (tunnel_tso 0): Swift GSO cuts to 1514-byte frames (set gso segsz)"), out)
        XCTAssertTrue(out.contains("port 0 has no TSO (none of TCP, UDP): Swift GSO is off for port 0, so frames larger than the MTU are dropped (set port 0 gso on)"), out)
        XCTAssertTrue(out.contains("Super-frames larger than the MTU:\n  tunnelled:   port 0 has no tunnel TSO (none of VXLAN, GRE, IPIP, GENEVE, IP, UDP): Swift GSO is off"), out)
        XCTAssertFalse(out.contains("tso set: "), "no error")
    }

    /// The console's ranges are the command line's (one table): `set burst` takes what --help
    /// lists and refuses one past it; `set nbcore` the lcores this run has (here one worker).
    func testConsoleRangesAreTheCommandLines() throws {
        let help = try Binary.run(["--", "--help"])
        func range(_ option: String) -> String? {
            guard let line = help.stdout.split(separator: "\n").first(where: { $0.hasPrefix("  --\(option)=N ") }),
                  let end = line.range(of: "; default"),
                  let open = line.range(of: "(", options: .backwards, range: line.startIndex..<end.lowerBound) else { return nil }
            return String(line[open.upperBound..<end.lowerBound])
        }
        XCTAssertEqual(range("burst"), "1-512", help.stdout)
        XCTAssertEqual(range("nb-cores"), "1-128", help.stdout)
        XCTAssertEqual(range("gso-segsz"), "256-9216", help.stdout)
        let script = "set burst 512\nset burst 513\nset burst 0\nset nbcore 2\nset nbcore 1\nset gso segsz 9217\nhelp set burst\nquit\n"
        let result = try Binary.run(Binary.eal("ranges") + ["--", "-i"], input: script)
        XCTAssertEqual(result.status, 0, result.stderr)
        let out = result.stdout
        XCTAssertTrue(out.contains("Number of packets per burst set to 512"), out)
        XCTAssertTrue(out.contains("set burst: bad value '513' for <n>; allowed: \(range("burst") ?? "?")"), out)
        XCTAssertTrue(out.contains("set burst: bad value '0' for <n>; allowed: \(range("burst") ?? "?")"), out)
        XCTAssertTrue(out.contains("set nbcore: bad value '2' for <n>; allowed: 1-1"), out)
        XCTAssertTrue(out.contains("Number of forwarding cores set to 1"), out)
        XCTAssertTrue(out.contains("set gso segsz: bad value '9217' for <length>; allowed: \(range("gso-segsz") ?? "?")"), out)
        // The command line refuses the same value naming the same range in the same words.
        let refused = try Binary.run(Binary.eal("ranges-cli") + ["--", "--burst=0"])
        XCTAssertNotEqual(refused.status, 0)
        let said = refused.stdout + refused.stderr
        XCTAssertTrue(said.contains("invalid burst '0'; allowed: \(range("burst") ?? "?")"), said)
        XCTAssertTrue(out.contains("set burst <n:uint:\(range("burst") ?? "?")>"), out)
    }

    func testStartWhileStartedAndEthPeer() throws {
        let script = """
            set eth-peer 0 78:d4:f1:5a:8d:9d
            set eth-peer 9 78:d4:f1:5a:8d:9d
            set eth-peer 1 78:d4:f1:5a:8d
            set eth-peer 1
            show config fwd
            start
            start
            set eth-peer 1 08:c0:eb:6c:7b:c7
            stop
            show port 0 gso
            quit

            """
        let result = try Binary.run(Binary.eal("peer") + ["--", "-i", "--eth-peer=1,02:aa:bb:cc:dd:01"], input: script)
        XCTAssertEqual(result.status, 0, result.stderr)
        let out = result.stdout
        XCTAssertTrue(out.contains("set eth-peer: invalid port 9; valid ports: 0, 1"), out)
        XCTAssertTrue(out.contains("set eth-peer: invalid mac '78:d4:f1:5a:8d'; allowed: XX:XX:XX:XX:XX:XX (six hex pairs"), out)
        XCTAssertTrue(out.contains("set eth-peer: missing <mac>"), out)
        // Port 1 forwards to port 0 and port 0 to port 1: each stream shows its tx port's peer.
        XCTAssertTrue(out.contains("RX P=0/Q=0 (socket 0) -> TX P=1/Q=0 (socket 0) peer=02:AA:BB:CC:DD:01"), out)
        XCTAssertTrue(out.contains("RX P=1/Q=0 (socket 0) -> TX P=0/Q=0 (socket 0) peer=78:D4:F1:5A:8D:9D"), out)
        XCTAssertTrue(out.contains("tunnelpmd> start\nPacket forwarding already started\n"), out)
        XCTAssertFalse(out.contains("start: packet forwarding is active"), out)
        XCTAssertTrue(out.contains("set eth-peer: packet forwarding is active; stop it first"), out)
        XCTAssertEqual(out.components(separatedBy: "Accumulated forward statistics").count - 1, 1, "one run, stopped once")
        XCTAssertTrue(out.contains("GSO is on for port 0"), "Swift GSO on by default")
    }
}
