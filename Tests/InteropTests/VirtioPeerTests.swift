import Foundation
import FrameSupport
import TestSupport
import XCTest

/// tunnelpmd's virtio_user port against a separate vhost-user peer process (Tools/vhost-peer)
/// that injects TCP super-frames with TSO metadata and checks every byte that comes back.
final class VirtioPeerTests: XCTestCase {
    private var directory: URL!
    /// Built beside the tunnelpmd under test (the same scratch path and configuration).
    private var peerPath: String { URL(fileURLWithPath: Binary.path).deletingLastPathComponent().appendingPathComponent("vhost-peer").path }

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tunnelpmd-vhost-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: peerPath), "build the peer first: swift build")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts the peer (vhost-user server), then tunnelpmd looping the virtio_user port back
    /// to itself through the csum engine; returns the peer's summary and tunnelpmd's output.
    private func run(
        peer peerOptions: [String], tunnelpmd options: [String], queues: Int = 1
    ) throws -> (peer: Binary.Result, forwarder: Binary.Result) {
        let socket = directory.appendingPathComponent("vhost.sock").path
        let (peer, peerOut) = try startPeer(socket: socket, peerOptions + ["--queues", "\(queues)"], queues: queues)
        defer { if peer.isRunning { kill(peer.processIdentifier, SIGKILL) } }
        let forwarder = try Binary.Running(
            Binary.eal("virtio", vdevs: ["virtio_user0,path=\(socket),queues=\(queues),queue_size=1024"])
                + ["--", "--forward-mode=csum", "--port-topology=loop", "--no-flush-rx", "--stop-after", "90"] + options)
        let peerData = peerOut.fileHandleForReading.readDataToEndOfFile()
        peer.waitUntilExit()
        // The forwarder runs until the peer is done, however slowly a loaded machine lets the
        // peer send (a fixed run once ended before the peer's last segments were read).
        forwarder.signal(SIGINT)
        let forwarderResult = forwarder.finish(seconds: 30)
        return (Binary.Result(status: peer.terminationStatus, stdout: String(decoding: peerData, as: UTF8.self), stderr: ""),
                forwarderResult)
    }

    /// The peer process (vhost-user server on `socket`), once it listens.
    private func startPeer(socket: String, _ options: [String], queues: Int = 1) throws -> (Process, Pipe) {
        let peer = Process()
        peer.executableURL = URL(fileURLWithPath: peerPath)
        peer.arguments = ["--no-huge", "-m", "512", "--no-pci", "--no-shconf",
                          "--file-prefix", "vhost-peer-\(getpid())-\(UUID().uuidString.prefix(8))",
                          "-l", "0", "--log-level", "lib.eal:warning", "--log-level", "lib.vhost.*:warning",
                          "--vdev", "net_vhost0,iface=\(socket),queues=\(queues),tso=1", "--"] + options
        let output = Pipe()
        peer.standardOutput = output
        peer.standardError = output
        try peer.run()
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: socket) && Date() < deadline && peer.isRunning { usleep(20_000) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: socket), "the peer listens on \(socket)")
        return (peer, output)
    }

    func testSuperFramesFromVhostAreCutToTheirSegmentSize() throws {
        // The virtio port may not segment (tso set 0): Swift GSO cuts at the frames' own size.
        let commands = directory.appendingPathComponent("commands.txt")
        try "tso set 0 0\n".write(to: commands, atomically: true, encoding: .utf8)
        let (peer, forwarder) = try run(
            peer: ["--frames", "8", "--payload", "30000", "--mss", "1400", "--expect-segments", "--timeout", "30"],
            tunnelpmd: ["--gso-ports=0", "--cmdline-file", commands.path])
        XCTAssertEqual(forwarder.status, 0, forwarder.stderr)
        XCTAssertEqual(peer.status, 0, "peer: \(peer.stdout)\ntunnelpmd: \(forwarder.stdout.suffix(3000))")
        XCTAssertTrue(peer.stdout.contains("received 176 packets, 240000 payload bytes, 0 super-frames"), peer.stdout)
        XCTAssertTrue(peer.stdout.contains("payload intact"), peer.stdout)
        XCTAssertTrue(forwarder.stdout.contains("GSO-input: 8"), forwarder.stdout)
        XCTAssertTrue(forwarder.stdout.contains("GSO-segments: 176"), forwarder.stdout)
    }

    func testSuperFramesKeepTheirSegmentSizeThroughTheHardwarePlan() throws {
        // virtio_user offers TSO: the planner passes each super-frame on with its tso_segsz.
        let (peer, forwarder) = try run(
            peer: ["--frames", "8", "--payload", "30000", "--mss", "1400", "--timeout", "30"], tunnelpmd: [])
        XCTAssertEqual(forwarder.status, 0, forwarder.stderr)
        XCTAssertEqual(peer.status, 0, "peer: \(peer.stdout)\ntunnelpmd: \(forwarder.stdout.suffix(3000))")
        XCTAssertTrue(peer.stdout.contains("received 8 packets, 240000 payload bytes, 8 super-frames (largest tso_segsz 1400)"), peer.stdout)
        XCTAssertTrue(peer.stdout.contains("payload intact"), peer.stdout)
        XCTAssertFalse(forwarder.stdout.contains("GSO-input"), "nothing was cut in software")
    }

    /// A guest with checksum offload sends TCP segments whose checksum is left to the host
    /// (NEEDS_CSUM): virtio_user receives them with RX_L4_CKSUM_NONE. Forwarded to a net_pcap
    /// port (no offloads) by io, mac and csum, every checksum must be final, judged by tshark.
    func testPartialChecksumsFromTheGuestLeaveFinal() throws {
        for mode in ["io", "mac", "csum"] {
            let socket = directory.appendingPathComponent("vhost-\(mode).sock").path
            let output = directory.appendingPathComponent("out-\(mode).pcap").path
            let empty = directory.appendingPathComponent("empty.pcap")
            try Pcap.write([], to: empty)
            // The peer leaves (closing the device, and frames still in its ring) only once the
            // forwarder has written all 16: however late a loaded machine starts forwarding.
            let done = directory.appendingPathComponent("done-\(mode)").path
            let (peer, peerOut) = try startPeer(
                socket: socket, ["--partial", "--send-only", "--until", done, "--frames", "16", "--payload", "1000", "--mss", "1400",
                                 "--timeout", "60"])
            defer { if peer.isRunning { kill(peer.processIdentifier, SIGKILL) } }
            let forwarder = try Binary.Running(
                Binary.eal("virtio-partial-\(mode)", vdevs: [
                    "virtio_user0,path=\(socket),queues=1,queue_size=1024", "net_pcap0,rx_pcap=\(empty.path),tx_pcap=\(output)",
                ]) + ["--", "--forward-mode=\(mode)", "--no-flush-rx", "--stop-after", "90"])
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline, forwarder.process.isRunning,
                ((try? Pcap.read(URL(fileURLWithPath: output))) ?? []).count < 16
            {
                usleep(50_000)
            }
            FileManager.default.createFile(atPath: done, contents: nil)
            let peerText = String(decoding: peerOut.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            peer.waitUntilExit()
            forwarder.signal(SIGINT)
            let result = forwarder.finish(seconds: 30)
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(peer.terminationStatus, 0, peerText)
            XCTAssertTrue(peerText.contains("sent 16 frames with a checksum request"), peerText)
            let verdicts = try Command.run("/usr/bin/tshark", [
                "-r", output, "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
                "-T", "fields", "-E", "separator=,", "-e", "ip.checksum.status", "-e", "tcp.checksum.status",
            ])
            let lines = verdicts.output.split(separator: "\n").filter { !$0.hasPrefix("Running as") }
            XCTAssertEqual(lines.count, 16, "\(mode): every frame forwarded\n\(result.stdout)")
            XCTAssertTrue(lines.allSatisfy { $0 == "1,1" }, "\(mode): tshark verdicts \(lines)\n\(result.stdout)")
        }
    }

    /// Receive coalescing toward virtio: the guest sends whole 1,400-byte segments with final
    /// checksums and no offloads; tunnelpmd coalesces what arrives on the virtio_user port and
    /// sends super-frames back through it with TSO metadata (virtio_user offers TSO), which the
    /// peer receives as super-frames with tso_segsz 1400, every byte in order.
    func testCoalescedSegmentsReturnAsSuperFramesWithTSOMetadata() throws {
        for mode in ["csum", "io"] {
            let (peer, forwarder) = try run(
                peer: ["--plain", "--frames", "64", "--payload", "1400", "--mss", "1400", "--timeout", "30"],
                // A generous wait: the peer sends one segment per call, slowly on a loaded machine.
                tunnelpmd: ["--gro-ports=0", "--gro-timeout-us=20000", "--forward-mode=\(mode)"])
            XCTAssertEqual(forwarder.status, 0, forwarder.stderr)
            XCTAssertEqual(peer.status, 0, "\(mode) peer: \(peer.stdout)\ntunnelpmd: \(forwarder.stdout.suffix(3000))")
            XCTAssertTrue(peer.stdout.contains("89600 payload bytes"), "\(mode): \(peer.stdout)")
            XCTAssertTrue(peer.stdout.contains("largest tso_segsz 1400"), "\(mode): super-frames came back: \(peer.stdout)\n\(forwarder.stdout.suffix(1500))")
            XCTAssertTrue(peer.stdout.contains("payload intact"), "\(mode): \(peer.stdout)\n\(forwarder.stdout.suffix(1500))")
            XCTAssertTrue(forwarder.stdout.contains("GRO-super-frames:"), forwarder.stdout)
            XCTAssertFalse(forwarder.stdout.contains("GSO-input"), "\(mode): nothing was cut in software\n\(forwarder.stdout)")
        }
    }

    /// Two queue pairs: the guest sends its super-frames over both; each of tunnelpmd's two
    /// streams (rx queue q -> tx queue q of the same virtio_user port) carries its half back
    /// whole with TSO metadata, and the per-stream statistics say so.
    func testQueuePairsCarryEachQueuesFramesBack() throws {
        let (peer, forwarder) = try run(
            peer: ["--frames", "16", "--payload", "30000", "--mss", "1400", "--timeout", "30"],
            tunnelpmd: ["--rxq=2", "--txq=2"], queues: 2)
        XCTAssertEqual(forwarder.status, 0, forwarder.stderr)
        XCTAssertEqual(peer.status, 0, "peer: \(peer.stdout)\ntunnelpmd: \(forwarder.stdout.suffix(3000))")
        XCTAssertTrue(peer.stdout.contains("received 16 packets, 480000 payload bytes, 16 super-frames (largest tso_segsz 1400)"), peer.stdout)
        XCTAssertTrue(peer.stdout.contains("payload intact; per rx queue 8,8"), peer.stdout)
        for queue in 0..<2 {
            XCTAssertTrue(forwarder.stdout.contains("Forward Stats for RX Port= 0/Queue= \(queue) -> TX Port= 0/Queue= \(queue)"),
                          forwarder.stdout)
        }
        let streamRx = forwarder.stdout.components(separatedBy: "\n").filter { $0.hasPrefix("  RX-packets:") && $0.contains("TX-dropped:") }
            .compactMap { $0.number(after: "RX-packets:") }
        XCTAssertEqual(streamRx, [8, 8], forwarder.stdout)
        XCTAssertTrue(forwarder.stdout.contains("Mempool mb_pool_0: all "), forwarder.stdout)
    }
}
