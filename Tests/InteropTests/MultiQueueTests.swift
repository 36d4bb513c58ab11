import Foundation
import FrameSupport
import TestSupport
import XCTest

/// Several rx/tx queues per port forwarded by more lcores than the machine has CPUs (EAL's
/// `--lcores` mapping), and multi-queue ports the kernel spreads flows over: every frame
/// delivered exactly once, per-stream counters adding up to the ports', every mbuf back.
final class MultiQueueTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = try TestEAL.temporaryDirectory()
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: directory)
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// EAL arguments without `-l`: the caller maps lcores.
    private func eal(_ name: String, lcores: String, vdevs: [String]) -> [String] {
        ["--no-huge", "-m", "256", "--no-pci", "--no-shconf", "--file-prefix", "tunnelpmd-mq-\(name)-\(getpid())",
         "--lcores", lcores, "--log-level", "lib.eal:warning"] + vdevs.flatMap { ["--vdev", $0] }
    }

    /// Numbered UDP frames of queue `queue` of port `port`: each says where it came from.
    private func frames(port: Int, queue: Int, count: Int) -> [[UInt8]] {
        (0..<count).map { Frames.udp(sequence: UInt32(port << 24 | queue << 16 | $0), length: 64 + $0 % 200) }
    }

    /// Two net_pcap ports with two rx and two tx queues each, io forwarding on three lcores
    /// that EAL maps onto the two CPUs (`0@0,1@1,2@1,3@1`): the four streams (port 0 queue q
    /// -> port 1 queue q and back) spread over lcores 1-3, and each output queue's file holds
    /// exactly the frames of the matching input queue, in order.
    func testFourStreamsOnThreeLcoresMappedOntoTwoCPUs() throws {
        let perQueue = 300
        var vdevs: [String] = []
        for port in 0..<2 {
            var arguments: [String] = []
            for queue in 0..<2 {
                let input = path("in-\(port)-\(queue).pcap")
                try Pcap.write(frames(port: port, queue: queue, count: perQueue), to: URL(fileURLWithPath: input))
                arguments.append("rx_pcap=\(input)")
            }
            for queue in 0..<2 { arguments.append("tx_pcap=\(path("out-\(port)-\(queue).pcap"))") }
            vdevs.append("net_pcap\(port)," + arguments.joined(separator: ","))
        }
        let forwarder = try Binary.Running(
            eal("lcores", lcores: "0@0,1@1,2@1,3@1", vdevs: vdevs)
                + ["--", "--forward-mode=io", "--rxq=2", "--txq=2", "--nb-cores=3", "--no-flush-rx", "--stop-after", "60"])
        // net_pcap reads its files once: stop when all of them went out.
        XCTAssertTrue(forwarder.waitFor("Forwarding for"), forwarder.stdout)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let written = (0..<2).flatMap { port in (0..<2).map { (try? Pcap.read(URL(fileURLWithPath: path("out-\(port)-\($0).pcap"))).count) ?? 0 } }
            if written.reduce(0, +) >= 4 * perQueue { break }
            usleep(100_000)
        }
        forwarder.signal(SIGINT)
        let result = forwarder.finish(seconds: 30)
        XCTAssertEqual(result.status, 0, result.stderr)
        let out = result.stdout
        XCTAssertTrue(out.contains("streams=4"), out)
        for lcore in 1...3 { XCTAssertTrue(out.contains("Logical Core \(lcore) "), "lcore \(lcore) forwards: \(out)") }
        for port in 0..<2 {
            for queue in 0..<2 {
                let written = try Pcap.read(URL(fileURLWithPath: path("out-\(1 - port)-\(queue).pcap")))
                XCTAssertEqual(written, frames(port: port, queue: queue, count: perQueue),
                               "port \(port) queue \(queue) -> port \(1 - port) queue \(queue): every frame once, in order")
                XCTAssertTrue(out.contains("Forward Stats for RX Port= \(port)/Queue= \(queue) -> TX Port= \(1 - port)/Queue= \(queue)"), out)
            }
        }
        XCTAssertEqual(out.number(after: "RX-packets:", in: "Accumulated forward statistics"), UInt64(4 * perQueue), out)
        XCTAssertEqual(out.number(after: "TX-packets:", in: "Accumulated forward statistics"), UInt64(4 * perQueue), out)
        let streamRx = out.components(separatedBy: "\n").filter { $0.hasPrefix("  RX-packets:") && $0.contains("TX-dropped:") }
            .compactMap { $0.number(after: "RX-packets:") }
        XCTAssertEqual(streamRx, [UInt64](repeating: UInt64(perQueue), count: 4), "each stream's counters: \(out)")
        XCTAssertTrue(out.contains("Mempool mb_pool_0: all "), "every mbuf back: \(out)")
    }

    /// A net_af_packet port with two queue pairs on a veth whose peer lives in a namespace
    /// this test makes: the kernel's packet fanout spreads 64 UDP flows sent there over both
    /// rx queues; tunnelpmd forwards them to a net_pcap port with two tx queues. Every frame
    /// arrives once, both queues carried some, the streams add up to the port.
    func testKernelFanoutSpreadsFlowsOverAFPacketQueues() throws {
        let namespace = "tpmd-mq-\(getpid())"
        let outside = "tpmq\(getpid() % 100000)a", inside = "tpmq\(getpid() % 100000)b"
        func run(_ arguments: [String]) throws {
            let result = try Command.run("/usr/bin/env", arguments)
            XCTAssertEqual(result.status, 0, "\(arguments): \(result.output)")
        }
        func cleanUp() {
            _ = try? Command.run("/usr/bin/env", ["ip", "link", "del", outside])
            if FileManager.default.fileExists(atPath: "/var/run/netns/\(namespace)") {
                _ = try? Command.run("/usr/bin/env", ["ip", "netns", "del", namespace])
            }
        }
        cleanUp()
        defer { cleanUp() }
        try run(["ip", "netns", "add", namespace])
        try run(["ip", "link", "add", outside, "type", "veth", "peer", "name", inside, "netns", namespace])
        // Nothing but the test's frames: no IPv6 (router solicitations, MLD) on either end.
        try run(["sysctl", "-qw", "net.ipv6.conf.\(outside).disable_ipv6=1"])
        try run(["ip", "netns", "exec", namespace, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"])
        try run(["ip", "link", "set", outside, "up"])
        try run(["ip", "-n", namespace, "link", "set", inside, "up"])

        let empty = path("empty.pcap")
        try Pcap.write([], to: URL(fileURLWithPath: empty))
        let vdevs = [
            "net_af_packet0,iface=\(outside),qpairs=2",
            "net_pcap0,rx_pcap=\(empty),rx_pcap=\(empty),tx_pcap=\(path("out-0.pcap")),tx_pcap=\(path("out-1.pcap"))",
        ]
        let forwarder = try Binary.Running(
            eal("afpacket", lcores: "0@0,1@1,2@1", vdevs: vdevs)
                + ["--", "--forward-mode=io", "--rxq=2", "--txq=2", "--nb-cores=2", "--no-flush-rx", "--stop-after", "60"])
        defer { if forwarder.process.isRunning { forwarder.signal(SIGKILL) } }
        XCTAssertTrue(forwarder.waitFor("Forwarding for"), forwarder.stdout)

        // 64 flows x 8 frames, raw Ethernet/IPv4/UDP written on the namespace's end.
        let flows = 64, perFlow = 8
        let sender = """
            import socket, struct
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
            s.bind(("\(inside)", 0))
            def csum(b):
                t = sum(struct.unpack("!%dH" % (len(b) // 2), b)); t = (t & 0xFFFF) + (t >> 16)
                return ~((t & 0xFFFF) + (t >> 16)) & 0xFFFF
            for n in range(\(perFlow)):
                for f in range(\(flows)):
                    payload = b"tpmdmq" + struct.pack("!HH", f, n) + bytes(20)
                    udp = struct.pack("!HHHH", 20000 + f, 7000, 8 + len(payload), 0) + payload
                    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), f * 16 + n, 0x4000, 64, 17, 0,
                                     bytes([10, 77, f, 1]), bytes([10, 78, 0, 2]))
                    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
                    s.send(bytes.fromhex("020000000002" "020000000001" "0800") + ip + udp)
            """
        try run(["ip", "netns", "exec", namespace, "python3", "-c", sender])
        let expected = flows * perFlow
        let deadline = Date().addingTimeInterval(30)
        var ours: [[[UInt8]]] = [[], []]
        while Date() < deadline {
            ours = try (0..<2).map { queue in
                try Pcap.read(URL(fileURLWithPath: path("out-\(queue).pcap"))).filter { $0.count > 48 && Array($0[42..<48]) == Array("tpmdmq".utf8) }
            }
            if ours[0].count + ours[1].count >= expected { break }
            usleep(100_000)
        }
        forwarder.signal(SIGINT)
        let result = forwarder.finish(seconds: 30)
        XCTAssertEqual(result.status, 0, result.stderr)
        let seen = (ours[0] + ours[1]).map { ($0[48], $0[49], $0[50], $0[51]) }.map { "\($0)" }
        XCTAssertEqual(seen.count, expected, "every frame forwarded: \(result.stdout)")
        XCTAssertEqual(Set(seen).count, expected, "none twice")
        XCTAssertGreaterThan(ours[0].count, 0, "tx queue 0 carried frames")
        XCTAssertGreaterThan(ours[1].count, 0, "tx queue 1 carried frames: the fanout spread the flows")
        // Each flow on one queue only (the kernel hashes the flow).
        for queue in 0..<2 {
            let flowsHere = Set(ours[queue].map { $0[48...49] }.map(Array.init))
            let flowsThere = Set(ours[1 - queue].map { $0[48...49] }.map(Array.init))
            XCTAssertTrue(flowsHere.isDisjoint(with: flowsThere), "a flow stays on one queue")
        }
        let out = result.stdout
        let streamRx = out.components(separatedBy: "\n").filter { $0.hasPrefix("  RX-packets:") && $0.contains("TX-dropped:") }
            .compactMap { $0.number(after: "RX-packets:") }
        XCTAssertEqual(streamRx.reduce(0, +), out.number(after: "RX-packets:", in: "Forward statistics for port 0 "),
                       "the streams add up to the port: \(out)")
        XCTAssertTrue(out.contains("Mempool mb_pool_0: all "), "every mbuf back: \(out)")
    }

    /// --coremask picks the forwarding lcores; --numa, --port-numa-config and
    /// --ring-numa-config place pools and rings on sockets EAL found (one here: 0), and
    /// `show config fwd` prints the sockets the lcores and rings are on; wrong values name
    /// what is allowed.
    func testCoremaskAndNUMAPlacement() throws {
        let vdevs = ["net_null0", "net_null1"]
        let lcores = "0@0,1@1,2@1"
        let good = try Binary.run(
            eal("coremask", lcores: lcores, vdevs: vdevs)
                + ["--", "--coremask=0x4", "--rxq=2", "--txq=2", "--numa", "--port-numa-config=(0,0),(1,0)",
                   "--ring-numa-config=(0,1,0),(1,3,0)", "--stop-after", "0.3"])
        XCTAssertEqual(good.status, 0, good.stdout + good.stderr)
        XCTAssertTrue(good.stdout.contains("Logical Core 2 (socket 0) forwards packets on 4 streams"), good.stdout)
        XCTAssertFalse(good.stdout.contains("Logical Core 1 "), "lcore 1 is not in the mask: \(good.stdout)")
        XCTAssertTrue(good.stdout.contains("RX P=0/Q=1 (socket 0) -> TX P=1/Q=1 (socket 0)"), good.stdout)
        XCTAssertTrue(good.stdout.contains("Mempool mb_pool_0: all "), good.stdout)

        let cases: [([String], String)] = [
            (["--coremask=0x1"], "invalid coremask '0x1'; allowed: a mask of worker lcores: 1, 2"),
            (["--coremask=0x2", "--nb-cores=2"], "invalid nb-cores '2'; allowed: 1-1 (the lcores --coremask names)"),
            (["--coremask=xyz"], "invalid coremask 'xyz'"),
            (["--port-numa-config=(0,5)"], "invalid port-numa-config 'port 0 on socket 5'; allowed: 0 (the sockets EAL found)"),
            (["--port-numa-config=(0;0)"], "invalid port-numa-config '(0;0)'"),
            (["--ring-numa-config=(0,4,0)"], "invalid ring-numa-config '(0,4,0)'; allowed: (port,flag,socket)"),
        ]
        for (options, message) in cases {
            let result = try Binary.run(eal("numa-bad", lcores: lcores, vdevs: vdevs) + ["--", "--stop-after", "0.3"] + options)
            // Judged after EAL starts, against its lcores and sockets: exit 2 as any bad option.
            XCTAssertEqual(result.status, 2, "\(options): \(result.stdout) \(result.stderr)")
            XCTAssertTrue((result.stdout + result.stderr).contains(message), "\(options): \(result.stdout) \(result.stderr)")
        }
    }
}
