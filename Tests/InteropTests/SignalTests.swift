import Foundation
import XCTest

/// Signals are the same in every mode (issue 12): SIGINT, SIGTERM, SIGHUP and SIGQUIT stop
/// cleanly (statistics, ports closed, exit 0), SIGUSR1 prints the statistics and forwarding
/// goes on, a second stop signal while stopping is harmless, and nothing prints a backtrace.
final class SignalTests: XCTestCase {
    override func setUpWithError() throws {
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: Binary.path), "build tunnelpmd first: \(Binary.path)")
        // A binary that a signal killed must fail the test, not the test process writing to it.
        signal(SIGPIPE, SIG_IGN)
    }

    /// What every clean stop leaves in the output.
    private func assertStoppedCleanly(_ result: Binary.Result, signal: Int32, _ context: String,
                                      file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(result.status, 0, "\(context): \(result.stderr)", file: file, line: line)
        XCTAssertTrue(result.stdout.contains("Signal \(signal) received, preparing to exit..."), "\(context): \(result.stdout)", file: file, line: line)
        XCTAssertTrue(result.stdout.contains("Accumulated forward statistics for all ports"), context, file: file, line: line)
        XCTAssertTrue(result.stdout.contains("Port 0 is closed"), context, file: file, line: line)
        XCTAssertTrue(result.stdout.hasSuffix("Bye...\n"), "\(context): \(result.stdout.suffix(200))", file: file, line: line)
        XCTAssertFalse(result.stderr.contains("crashed") || result.stderr.contains("Backtrace"), "\(context): \(result.stderr)",
                       file: file, line: line)
    }

    private func statisticsBlocks(_ text: String) -> Int {
        text.components(separatedBy: "Accumulated forward statistics for all ports").count - 1
    }

    /// Fixed-core: SIGUSR1 then SIGUSR2 (statistics, still forwarding), then SIGQUIT (the Swift
    /// runtime's crash handler used to take it) and a second SIGINT while stopping; SIGHUP alone.
    func testFixedCoreStatisticsSignalThenStopSignals() throws {
        let running = try Binary.Running(Binary.eal("sigfixed") + ["--", "--forward-mode=io"])
        XCTAssertTrue(running.waitFor("Forwarding until SIGINT or SIGTERM."), running.stdout)
        usleep(200_000)
        running.signal(SIGUSR1)
        XCTAssertTrue(running.waitFor("Accumulated forward statistics for all ports"), running.stdout)
        usleep(200_000)
        XCTAssertTrue(running.process.isRunning, "SIGUSR1 must not stop it")
        running.signal(SIGUSR2)
        let deadline = Date().addingTimeInterval(10)
        while statisticsBlocks(running.stdout) < 2, Date() < deadline { usleep(20_000) }
        XCTAssertEqual(statisticsBlocks(running.stdout), 2, running.stdout)
        running.signal(SIGQUIT)
        running.signal(SIGINT)
        let result = running.finish(seconds: 20)
        assertStoppedCleanly(result, signal: SIGQUIT, "SIGQUIT then SIGINT")
        XCTAssertEqual(statisticsBlocks(result.stdout), 3, "two on request, one at the end")
        XCTAssertEqual(result.stdout.components(separatedBy: "preparing to exit").count - 1, 1, "the second signal changes nothing")

        let hangup = try Binary.Running(Binary.eal("sighup") + ["--", "--forward-mode=io"])
        XCTAssertTrue(hangup.waitFor("Forwarding until SIGINT or SIGTERM."), hangup.stdout)
        usleep(200_000)
        hangup.signal(SIGHUP)
        assertStoppedCleanly(hangup.finish(seconds: 20), signal: SIGHUP, "SIGHUP")
    }

    /// The console reading a pipe: SIGINT and SIGTERM used to kill it with no statistics.
    func testConsoleOnAPipeStopsCleanlyOnEverySignal() throws {
        for signal in [SIGTERM, SIGINT] {
            let running = try Binary.Running(Binary.eal("sigpipe\(signal)") + ["--", "-i"])
            running.send("start\n")
            XCTAssertTrue(running.waitFor("packet forwarding - ports=2"), running.stdout)
            usleep(300_000)
            if signal == SIGTERM {
                running.signal(SIGUSR1)
                XCTAssertTrue(running.waitFor("Accumulated forward statistics for all ports"), running.stdout)
                running.send("show port summary all\n")
                XCTAssertTrue(running.waitFor("Number of available ports: 2"), "the console reads on after SIGUSR1\n\(running.stdout)")
            }
            running.signal(signal)
            let result = running.finish(seconds: 20)
            assertStoppedCleanly(result, signal: signal, "pipe, signal \(signal)")
            XCTAssertGreaterThan(result.stdout.number(after: "RX-packets:", in: "Accumulated") ?? 0, 0, result.stdout)
        }
    }

    /// The console on a terminal (libedit): Ctrl-C's SIGINT and SIGTERM stop as anywhere else.
    func testConsoleOnATerminalStopsCleanly() throws {
        for signal in [SIGINT, SIGTERM] {
            // A pseudo-terminal by hand (posix_openpt and friends are not imported): ptmx,
            // unlock (TIOCSPTLCK), its number (TIOCGPTN), then /dev/pts/<n>.
            let primary = open("/dev/ptmx", O_RDWR | O_NOCTTY)
            XCTAssertGreaterThanOrEqual(primary, 0)
            var unlock: Int32 = 0
            var number: UInt32 = 0
            XCTAssertEqual(ioctl(primary, 0x4004_5431, &unlock), 0)
            XCTAssertEqual(ioctl(primary, 0x8004_5430, &number), 0)
            let secondary = open("/dev/pts/\(number)", O_RDWR | O_NOCTTY)
            XCTAssertGreaterThanOrEqual(secondary, 0)
            let terminal = FileHandle(fileDescriptor: secondary, closeOnDealloc: true)
            defer { close(primary) }
            // Drain what libedit writes to the terminal, so it never blocks on a full buffer.
            let drain = FileHandle(fileDescriptor: primary, closeOnDealloc: false)
            drain.readabilityHandler = { (handle: FileHandle) in _ = handle.availableData }
            defer { drain.readabilityHandler = nil }
            let running = try Binary.Running(Binary.eal("sigtty\(signal)") + ["--", "-i", "-a"], terminal: terminal)
            XCTAssertTrue(running.waitFor("packet forwarding - ports=2"), running.stdout)
            usleep(500_000)
            running.signal(signal)
            let result = running.finish(seconds: 20)
            assertStoppedCleanly(result, signal: signal, "tty, signal \(signal)")
        }
    }
}
