import Foundation
import TestSupport
import XCTest

/// A tap deleted under a running tunnelpmd (issue 12, item 5), between two kernels that
/// resolve their neighbours themselves: the port goes link down with one log line, its read
/// error shows in xstats, port stats and forward statistics, the worker stops reading the dead
/// descriptor, frames for it count as TX-dropped, and when the interface is made again the
/// port reattaches by itself (forwarding on) or through `port start` (forwarding off), which
/// says why while it cannot. Overlay traffic (ping, UDP, TCP, every byte checked) crosses again.
final class TapVanishTests: XCTestCase {
    private static let script = Binary.root.appendingPathComponent("Tools/netns/vxlan-taps.sh").path
    private static let traffic = Binary.root.appendingPathComponent("Tools/netns/overlay-traffic.sh").path
    private var prefix = ""
    private var forwarder: Binary.Running?

    override func setUpWithError() throws {
        prefix = "tpmdv\(getpid() % 100000)"
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/dev/net/tun"), "no /dev/net/tun")
    }

    override func tearDown() {
        if let forwarder, forwarder.process.isRunning { kill(forwarder.process.processIdentifier, SIGKILL) }
        _ = try? shell(["sh", Self.script, "down", prefix])
    }

    @discardableResult
    private func shell(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try Command.run("/usr/bin/env", arguments)
    }

    private func deleteTap() throws {
        XCTAssertEqual(try shell(["ip", "-n", "\(prefix)-b", "link", "del", "vtap0"]).status, 0)
    }

    private func remakeTap() throws {
        let result = try shell(["sh", Self.script, "retap", prefix, "b", "--dynamic"])
        XCTAssertEqual(result.status, 0, result.output)
    }

    private func ping(_ count: Int = 2) throws -> Bool {
        let result = try shell(["ip", "netns", "exec", "\(prefix)-a", "ping", "-c", "\(count)", "-i", "0.2", "-W", "2", "10.98.0.2"])
        return result.output.contains(" 0% packet loss")
    }

    /// Waits until stdout holds `text` at least `count` times.
    private func waitFor(_ running: Binary.Running, _ text: String, count: Int, seconds: Double = 20) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if running.stdout.components(separatedBy: text).count - 1 >= count { return true }
            usleep(20_000)
        }
        return false
    }

    /// Sends a command and returns what it printed: the text between its echo and the echo of
    /// a harmless command sent after it (the console echoes each piped line after its prompt).
    private func command(_ running: Binary.Running, _ line: String) -> String {
        let before = running.stdout.count
        let sentinel = "tunnelpmd> show config cores"
        running.send(line + "\nshow config cores\n")
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, !running.stdout.dropFirst(before).contains(sentinel) { usleep(20_000) }
        let text = String(running.stdout.dropFirst(before))
        return text.components(separatedBy: sentinel).first ?? text
    }

    private func counter(_ name: String, in text: String) -> UInt64? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            return UInt64(line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    func testVanishedTapGoesDownCountsItsErrorsAndReattaches() throws {
        let up = try shell(["sh", Self.script, "up", prefix, "--dynamic"])
        XCTAssertEqual(up.status, 0, up.output)
        let running = try Binary.Running(
            Binary.eal("vanish", vdevs: []) + [
                "--", "-i", "--vnet-tap", "name=vtap0,netns=\(prefix)-a", "--vnet-tap", "name=vtap0,netns=\(prefix)-b",
            ])
        forwarder = running
        running.send("start\n")
        XCTAssertTrue(running.waitFor("tunnelpmd> start"), running.stdout)
        XCTAssertTrue(try ping(), "the overlay works before the fault\n\(String(running.stdout.suffix(2000)))")

        // Deleted while forwarding: one line, the worker's one failed read, nothing more.
        try deleteTap()
        XCTAssertTrue(waitFor(running, "Port 1: link down: interface 'vtap0' in network namespace '\(prefix)-b' is gone", count: 1),
                      String(running.stdout.suffix(3000)))
        XCTAssertFalse(try ping(3), "frames toward the gone tap cannot arrive")
        let xstats = command(running, "show port xstats 1")
        XCTAssertEqual(counter("rx_errno_77", in: xstats), 1, "one EBADFD read, then no more reads: \(xstats)")
        XCTAssertGreaterThan(counter("tx_link_down", in: xstats) ?? 0, 0, xstats)
        XCTAssertEqual(counter("rx_read_errors", in: xstats), 1, xstats)
        let info = command(running, "show port info 1")
        XCTAssertTrue(info.contains("Link status: down (interface gone"), info)
        let stats = command(running, "show port stats 1")
        XCTAssertEqual(stats.number(after: "RX-errors:"), 1, stats)
        let forward = command(running, "show fwd stats all")
        XCTAssertTrue(forward.contains("Port-errors: tx_link_down: "), forward)
        XCTAssertTrue(forward.contains("rx_errno_77 (File descriptor in bad state): 1"), forward)
        let dropped = forward.number(after: "TX-dropped:", in: "Forward statistics for port 1 ") ?? 0
        XCTAssertEqual(dropped, counter("tx_link_down", in: command(running, "show port xstats 1")) ?? 0, forward)
        XCTAssertGreaterThan(dropped, 0, "frames for the gone tap are counted as dropped: \(forward)")

        // Made again while forwarding: reattached by itself, the overlay carries traffic again.
        try remakeTap()
        XCTAssertTrue(waitFor(running, "Port 1: link up: interface 'vtap0' in network namespace '\(prefix)-b' is back, reattached", count: 1),
                      String(running.stdout.suffix(3000)))
        let mix = try shell(["sh", Self.traffic, prefix, "2000000", "32"])
        XCTAssertEqual(mix.status, 0, "overlay traffic after the reattach:\n\(mix.output)\n\(String(running.stdout.suffix(2000)))")
        XCTAssertEqual(counter("rx_errno_77", in: command(running, "show port xstats 1")), 1, "no reads failed after the reattach")

        // Deleted while stopped: port start says why it cannot, then works once the tap is back.
        running.send("stop\n")
        XCTAssertTrue(running.waitFor("Done."), String(running.stdout.suffix(2000)))
        try deleteTap()
        XCTAssertTrue(waitFor(running, "Port 1: link down:", count: 2), String(running.stdout.suffix(2000)))
        XCTAssertTrue(command(running, "port stop 1").contains("Stopping port 1..."))
        let refused = command(running, "port start 1")
        XCTAssertTrue(refused.contains("port 1: cannot start: link down, interface 'vtap0' in network namespace '\(prefix)-b' is gone"
            + " and cannot be reattached: vnet tap: no interface 'vtap0'"), refused)
        XCTAssertTrue(command(running, "start").contains("port(s) 1 stopped"), "forwarding refuses a stopped port")
        try remakeTap()
        XCTAssertTrue(waitFor(running, "Port 1: link up:", count: 2), String(running.stdout.suffix(2000)))
        XCTAssertFalse(command(running, "port start 1").contains("cannot"))
        running.send("start\n")
        XCTAssertTrue(try ping(), "the overlay works after port start\n\(String(running.stdout.suffix(2000)))")
        running.send("quit\n")
        running.closeInput()
        let result = running.finish(seconds: 30)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout.components(separatedBy: "Port 1: link down:").count - 1, 2, "one line per loss")
        for pool in ["mb_pool_0", "mb_pool_0_ind", "mb_pool_0_hdr"] {
            XCTAssertTrue(result.stdout.contains("Mempool \(pool): all "), "\(pool) not full:\n\(String(result.stdout.suffix(1500)))")
        }
    }
}
