import Foundation
import TestSupport
import XCTest

/// The Linux kernel as the tunnel peer: two network namespaces, each with a tap (vnet_hdr) and
/// a kernel VXLAN device over it, and tunnelpmd forwarding between the two taps. No static
/// neighbour entries: ARP and ND cross first, on the underlay and inside the tunnel (a test
/// topology with static entries hid a bug that stopped every real overlay). Real kernel
/// traffic crosses the overlay — ping, ping6, UDP and TCP both ways — and the receivers check
/// every byte; the kernels' checksum and error counters must stay zero. Everything made here
/// is removed by pid and by name, also when a test fails.
final class KernelVXLANTests: XCTestCase {
    private static let script = Binary.root.appendingPathComponent("Tools/netns/vxlan-taps.sh").path
    private static let pattern = Binary.root.appendingPathComponent("Tools/netns/tcp-pattern.py").path
    private static let traffic = Binary.root.appendingPathComponent("Tools/netns/overlay-traffic.sh").path
    private var prefix = ""
    private var processes: [Process] = []

    override func setUpWithError() throws {
        prefix = "tpmdk\(getpid() % 100000)"
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/dev/net/tun"), "no /dev/net/tun")
    }

    override func tearDown() {
        for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        processes = []
        _ = try? shell(["sh", Self.script, "down", prefix])
    }

    @discardableResult
    private func shell(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try Command.run("/usr/bin/env", arguments)
    }

    private func start(_ arguments: [String]) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        processes.append(process)
        return (process, pipe)
    }

    /// Checksum and error counters of a namespace's kernel (nstat), by name: every
    /// `*InCsumErrors`, `*InErrors`, `*InHdrErrors` and TcpInErrs.
    private func errorCounters(_ ns: String) throws -> [String: Int] {
        let output = try shell(["ip", "netns", "exec", ns, "nstat", "-asz"]).output
        var counters: [String: Int] = [:]
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let value = Int(fields[1]) else { continue }
            let name = String(fields[0])
            if name.contains("CsumErrors") || name.hasSuffix("InErrors") || name.hasSuffix("InHdrErrors") || name == "TcpInErrs" {
                counters[name] = value
            }
        }
        return counters
    }

    struct Flow { var from: String, to: String, address: String, port: Int }

    /// Runs `flows` (each `bytes` long) through tunnelpmd; returns tunnelpmd's output.
    private func transfer(
        topology: [String], taps: (a: String, b: String), flows: (String) -> [Flow], bytes: Int,
        tunnelpmd options: [String], adjust: [[String]] = []
    ) throws -> String {
        let forwarder = try startForwarder(
            topology: topology, taps: taps, adjust: adjust,
            arguments: (options.contains { $0.hasPrefix("--forward-mode=") } ? [] : ["--forward-mode=csum"]) + options)
        var receivers: [(Process, Pipe)] = []
        for (index, flow) in flows(prefix).enumerated() {
            let receiver = try start(["ip", "netns", "exec", flow.to, "python3", Self.pattern, "recv", "\(flow.port)",
                                      "\(bytes)", "--bind", flow.address])
            receivers.append(receiver)
            _ = index
            usleep(200_000)
            _ = try start(["ip", "netns", "exec", flow.from, "python3", Self.pattern, "send", flow.address, "\(flow.port)", "\(bytes)"])
        }
        for (process, pipe) in receivers {
            let deadline = Date().addingTimeInterval(60)
            while process.isRunning && Date() < deadline { usleep(50_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertTrue(output.contains("OK \(bytes)"), "receiver: \(output)\ntunnelpmd: \(forwarder.stdout.suffix(2000))")
        }
        return try stop(forwarder, "").stdout
    }

    /// The topology (dynamic neighbours), then tunnelpmd forwarding between its two taps.
    private func startForwarder(
        topology: [String], taps: (a: String, b: String), adjust: [[String]] = [], arguments: [String]
    ) throws -> Binary.Running {
        let up = try shell(["sh", Self.script, "up", prefix, "--dynamic"] + topology)
        XCTAssertEqual(up.status, 0, "topology: \(up.output)")
        for command in adjust { XCTAssertEqual(try shell(command).status, 0, "\(command)") }
        let forwarder = try Binary.Running(
            Binary.eal("kernel", vdevs: []) + [
                "--", "--vnet-tap", "name=vtap0,netns=\(prefix)-a,offloads=\(taps.a)",
                "--vnet-tap", "name=vtap0,netns=\(prefix)-b,offloads=\(taps.b)",
            ] + arguments)
        XCTAssertTrue(forwarder.waitFor("Forwarding until SIGINT or SIGTERM."), forwarder.stdout)
        return forwarder
    }

    /// Stops tunnelpmd (SIGTERM: clean exit) and checks both kernels' error counters.
    private func stop(_ forwarder: Binary.Running, _ name: String) throws -> Binary.Result {
        forwarder.signal(SIGTERM)
        let result = forwarder.finish(seconds: 30)
        XCTAssertEqual(result.status, 0, result.stderr)
        for ns in ["\(prefix)-a", "\(prefix)-b"] {
            let errors = try errorCounters(ns).filter { $0.value != 0 }
            XCTAssertTrue(errors.isEmpty, "\(name) \(ns) kernel error counters: \(errors)")
        }
        return result
    }

    private static func bothWays(_ address: (a: String, b: String)) -> (String) -> [Flow] {
        { prefix in
            [Flow(from: "\(prefix)-a", to: "\(prefix)-b", address: address.b, port: 5201),
             Flow(from: "\(prefix)-b", to: "\(prefix)-a", address: address.a, port: 5202)]
        }
    }

    /// Plan counts of the accumulated statistics (its Tx-plans line is the last one).
    private func plans(_ output: String) -> (hardware: Int, software: Int) {
        let last = output.components(separatedBy: "\n").last { $0.contains("Tx-plans:") } ?? ""
        func total(_ name: String) -> Int {
            guard let range = last.range(of: name + " ") else { return 0 }
            return Int(last[range.upperBound...].prefix { $0.isNumber }) ?? 0
        }
        return (total("hardware"), total("software"))
    }

    /// Case 1: both taps take UDP tunnel GSO, so super-frames pass through with their metadata.
    func testTunnelSuperFramesPassThroughTheHardwarePlan() throws {
        for (topology, name) in [([String](), "IPv4 udpcsum"), (["--noudpcsum"], "IPv4 noudpcsum"),
                                 (["--ipv6"], "IPv6 udpcsum"), (["--ipv6", "--noudpcsum"], "IPv6 noudpcsum")] {
            let output = try transfer(
                topology: topology, taps: ("tso,uso,tunnel,tunnel-csum", "tso,uso,tunnel,tunnel-csum"),
                flows: Self.bothWays(("10.98.0.1", "10.98.0.2")), bytes: 8_000_000, tunnelpmd: [])
            let counts = plans(output)
            XCTAssertGreaterThan(counts.hardware, 0, "\(name): super-frames left with tunnel TSO metadata\n\(output)")
            // Small frames (ACKs) get their checksums in Swift; nothing is cut in software.
            XCTAssertFalse(output.contains("GSO-input"), "\(name): no super-frame was cut by Swift\n\(output)")
            _ = try? shell(["sh", Self.script, "down", prefix])
        }
    }

    /// Case 2: the egress taps take no tunnel offload: Swift GSO cuts the super-frames.
    func testSoftwarePlanCutsWhenTheEgressTapCannot() throws {
        let output = try transfer(
            topology: [], taps: ("tso,uso,tunnel,tunnel-csum", "tso"),
            flows: Self.bothWays(("10.98.0.1", "10.98.0.2")), bytes: 8_000_000, tunnelpmd: ["--gso-ports=all"])
        XCTAssertGreaterThan(plans(output).software, 0, output)
        XCTAssertTrue(output.contains("GSO-segments:"), output)
    }

    /// Case 3: the egress tap's MTU is smaller than the super-frames' segments: they are
    /// resized to fit, nothing is dropped.
    func testSmallerEgressMTUResizesSegments() throws {
        let output = try transfer(
            topology: [], taps: ("tso,uso,tunnel,tunnel-csum", "tso,uso,tunnel,tunnel-csum"),
            flows: { prefix in [Flow(from: "\(prefix)-a", to: "\(prefix)-b", address: "10.98.0.2", port: 5203)] },
            bytes: 8_000_000, tunnelpmd: ["--gso-ports=all"],
            adjust: [["ip", "-n", "\(prefix)-b", "link", "set", "vtap0", "mtu", "1400"]])
        XCTAssertFalse(output.contains("Dropped ("), output)
        XCTAssertGreaterThan(plans(output).hardware + plans(output).software, 0, output)
    }

    /// Receive coalescing toward the virtio side: tap a takes no offloads, so kernel a's VXLAN
    /// sends MTU-sized segments; tunnelpmd coalesces what arrives on port 0 and writes
    /// super-frames to tap b, which takes UDP tunnel GSO (b's replies come as super-frames and
    /// are cut again for a). TCP both ways, every byte checked, both kernels' error counters
    /// zero, and port 0's super-frames average 8 segments or more.
    func testCoalescingWritesTunnelSuperFramesToTheVirtioSide() throws {
        for (topology, underlay) in Self.underlays {
            for mode in ["csum", "io"] {
                let output = try transfer(
                    topology: topology, taps: ("none", "tso,uso,tunnel,tunnel-csum"),
                    flows: Self.bothWays(("10.98.0.1", "10.98.0.2")), bytes: 8_000_000,
                    tunnelpmd: ["--gro-ports=0", "--forward-mode=\(mode)"])
                let name = "\(underlay), \(mode)"
                guard let gro = Self.coalescing(output, port: 0) else {
                    XCTFail("\(name): no GRO line for port 0\n\(output)")
                    continue
                }
                print("GRO \(name): \(gro.segments) segments, \(gro.superFrames) super-frames, \(gro.average) each")
                XCTAssertGreaterThan(gro.superFrames, 0, "\(name)\n\(output)")
                XCTAssertGreaterThanOrEqual(gro.average, 8, "\(name): segments per super-frame\n\(output)")
                XCTAssertGreaterThan(plans(output).hardware, 0, "\(name): super-frames left with tunnel TSO metadata\n\(output)")
                XCTAssertFalse(output.contains("Dropped ("), "\(name)\n\(output)")
                _ = try? shell(["sh", Self.script, "down", prefix])
            }
        }
    }

    /// The `GRO-segments: N GRO-super-frames: M (x.y segments each)` line of a port's statistics.
    static func coalescing(_ output: String, port: Int) -> (segments: Int, superFrames: Int, average: Double)? {
        guard let section = output.components(separatedBy: "Forward statistics for port").first(where: {
            $0.hasPrefix(" \(port) ") || $0.hasPrefix(" \(port)  ")
        }), let line = section.components(separatedBy: "\n").first(where: { $0.contains("GRO-segments:") })
        else { return nil }
        let numbers = line.split(whereSeparator: { !$0.isNumber && $0 != "." }).compactMap { Double($0) }
        guard numbers.count >= 3 else { return nil }
        return (Int(numbers[0]), Int(numbers[1]), numbers[2])
    }

    /// Runs the unscripted mix (neighbour resolution, ping, ping6, UDP both ways including
    /// fragmented datagrams, TCP both ways) through tunnelpmd; returns tunnelpmd's output.
    private func mix(
        topology: [String], taps: (a: String, b: String), mode: String, extra: [String] = [], _ name: String
    ) throws -> String {
        let forwarder = try startForwarder(topology: topology, taps: taps, arguments: ["--forward-mode=\(mode)"] + extra)
        let traffic = try shell(["sh", Self.traffic, prefix, "2000000", "24"])
        XCTAssertEqual(traffic.status, 0, "\(name): \(traffic.output)\ntunnelpmd: \(forwarder.stdout.suffix(3000))")
        XCTAssertEqual(traffic.output.components(separatedBy: "PASS ").count - 1, 11, "\(name): \(traffic.output)")
        let result = try stop(forwarder, name)
        XCTAssertFalse(result.stdout.contains("Dropped ("), "\(name): \(result.stdout)")
        _ = try? shell(["sh", Self.script, "down", prefix])
        return result.stdout
    }

    private static let underlays: [([String], String)] = [
        ([], "IPv4 udpcsum"), (["--noudpcsum"], "IPv4 noudpcsum"),
        (["--ipv6"], "IPv6 udpcsum"), (["--ipv6", "--noudpcsum"], "IPv6 udp6zerocsumtx/rx"),
    ]

    /// The csum engine on every underlay, egress taps with and without tunnel offloads.
    func testUnscriptedOverlayTrafficThroughTheCsumEngine() throws {
        for (topology, underlay) in Self.underlays {
            for taps in [("tso,uso,tunnel,tunnel-csum", "tso,uso,tunnel,tunnel-csum"), ("tso,uso", "tso")] {
                _ = try mix(topology: topology, taps: taps, mode: "csum", "\(underlay), taps \(taps)")
            }
        }
    }

    /// io and mac forward tap frames whole: a pending checksum is finished when the egress tap
    /// cannot finish it, and a super-frame it cannot segment leaves with every checksum final.
    func testUnscriptedOverlayTrafficThroughIOAndMAC() throws {
        _ = try mix(topology: [], taps: ("tso,uso,tunnel,tunnel-csum", "tso"), mode: "io", "io, IPv4 udpcsum")
        _ = try mix(topology: ["--ipv6"], taps: ("tso,uso,tunnel,tunnel-csum", "none"), mode: "mac", "mac, IPv6, no offloads on b")
    }

    /// The unscripted mix with GRO on both taps' ports: ARP/ND, ping, fragmented and whole UDP
    /// datagrams (coalesced where equal in size) and TCP cross as without it.
    func testUnscriptedOverlayTrafficWithCoalescing() throws {
        let output = try mix(topology: [], taps: ("none", "tso,uso,tunnel,tunnel-csum"), mode: "csum",
                             extra: ["--gro-ports=all"], "csum, GRO on both ports")
        XCTAssertNotNil(Self.coalescing(output, port: 0), output)
        _ = try mix(topology: ["--ipv6"], taps: ("none", "none"), mode: "mac", extra: ["--gro-ports=all"], "mac, IPv6, GRO, no offloads")
    }
}
