import Foundation
import XCTest

/// Bad and hostile input to the binary, each found by probing (issue 12): every one ends
/// with a clear line and the documented exit code, never a crash or a silent default.
final class HostileInputTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: Binary.path), "build tunnelpmd first: \(Binary.path)")
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tunnelpmd-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func file(_ name: String, _ text: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// The crashing files (segfault, exit 139), made here rather than committed.
    func testDeeplyNestedConfigExitsTwoNamingTheLimit() throws {
        for (name, text) in [("brackets.yaml", String(repeating: "[", count: 5_000)),
                             ("mappings.yaml", String(repeating: "{k: ", count: 5_000))] {
            let path = try file(name, text)
            let result = try Binary.run(["--", "--config", path])
            XCTAssertEqual(result.status, 2, "\(name): \(result.stderr)")
            XCTAssertEqual(result.stderr, "tunnelpmd: invalid config '\(path)'; allowed: YAML nested at most 64 levels deep (deeper at line 1)\n")
        }
    }

    func testEmptyDirectoryAndMissingConfigsSayWhatIsWrong() throws {
        let cases: [(String, String)] = [
            (try file("empty.yaml", "# only a comment\n"), "a YAML mapping with eal, forwarding and/or run (the file is empty or only comments)"),
            (directory.path, "a readable YAML file (it is a directory)"),
            (directory.path + "/none.yaml", "a readable YAML file (No such file or directory)"),
        ]
        for (path, allowed) in cases {
            let result = try Binary.run(["--", "--config", path])
            XCTAssertEqual(result.status, 2, path)
            XCTAssertEqual(result.stderr, "tunnelpmd: invalid config '\(path)'; allowed: \(allowed)\n")
            XCTAssertFalse(result.stdout.contains("EAL"), "refused before EAL starts")
        }
    }

    func testFilePrefixOutsideTheRuntimeDirectoryIsRefused() throws {
        let config = try file("prefix.yaml", "eal:\n  no_huge: true\n  file_prefix: ../../tmp/escape\n")
        let fromFile = try Binary.run(["--", "--config", config])
        XCTAssertEqual(fromFile.status, 2)
        XCTAssertEqual(fromFile.stderr, "tunnelpmd: \(config):3: invalid eal.file_prefix '../../tmp/escape'; allowed: a name without '/' (not '.' or '..')\n")
        let ci = Binary.root.appendingPathComponent("Configs/ci.yaml").path
        let fromCommandLine = try Binary.run(["--file-prefix", "../x", "--", "--config", ci])
        XCTAssertEqual(fromCommandLine.status, 2)
        XCTAssertEqual(fromCommandLine.stderr, "tunnelpmd: invalid file-prefix '../x'; allowed: a name without '/' (not '.' or '..')\n")
    }

    /// ci.yaml gives `-l 0-1` and a file prefix; the command line's replace them (EAL used to
    /// print its usage and exit 1 on the repeated -l).
    func testEALArgumentsOnTheCommandLineOverrideTheConfig() throws {
        let ci = Binary.root.appendingPathComponent("Configs/ci.yaml").path
        let result = try Binary.run(["-l", "0-1", "--file-prefix", "tunnelpmd-merge-\(getpid())", "--", "--config", ci, "--stop-after", "0.3"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertFalse(result.stdout.contains("Usage:"), result.stdout)
        XCTAssertTrue(result.stdout.contains("Accumulated forward statistics for all ports"), result.stdout)
    }

    func testMissingCommandFileExitsTwo() throws {
        let result = try Binary.run(Binary.eal("nocmdfile") + ["--", "--cmdline-file=\(directory.path)/none.txt"])
        XCTAssertEqual(result.status, 2)
        XCTAssertEqual(result.stderr, "tunnelpmd: invalid cmdline-file: cannot open '\(directory.path)/none.txt': No such file or directory\n")
    }

    /// Port lists are judged once EAL knows the ports, before anything forwards.
    func testPortListsNamingMissingPortsAreRefused() throws {
        for (option, name) in [("--gso-ports=1,7", "gso-ports"), ("--gro-ports=5", "gro-ports")] {
            let result = try Binary.run(Binary.eal("portlist") + ["--", option, "--stop-after", "0.3"])
            XCTAssertEqual(result.status, 2, "\(option): \(result.stderr)")
            let missing = option.hasSuffix("7") ? "7" : "5"
            XCTAssertTrue(result.stderr.contains("invalid \(name) '\(option.split(separator: "=")[1])'; allowed: all, none or ports that exist (0, 1); no port \(missing)"),
                          result.stderr)
            XCTAssertFalse(result.stdout.contains("Forwarding"), result.stdout)
        }
    }

    /// A NUL byte used to cut the echo and the newline after it; a 100 KB word used to come
    /// back whole in the error; `port stop` while forwarding said "Stopping port 0..." first.
    func testConsoleLinesWithNULHugeTokensAndRefusedPortStop() throws {
        let huge = String(repeating: "x", count: 100_000)
        let script = "frob\u{0}nicate\nset fwd \(huge)\nstart\nport stop 0\nstop\nquit\n"
        let result = try Binary.run(Binary.eal("console-hostile") + ["--", "-i"], input: script)
        XCTAssertEqual(result.status, 0, result.stderr)
        let out = result.stdout
        XCTAssertTrue(out.contains("tunnelpmd> frob\u{0}nicate\n"), "the whole line echoed, then its newline")
        let error = try XCTUnwrap(out.split(separator: "\n").first { $0.hasPrefix("set") }, out.suffix(2000).description)
        XCTAssertLessThan(error.utf8.count, 300, String(error.prefix(400)))
        XCTAssertTrue(error.contains("'\(String(repeating: "x", count: 64))...' (100000 bytes)"), String(error.prefix(400)))
        // The refusal is the very next line (quit's own "Stopping port 0..." comes much later).
        let afterStop = try XCTUnwrap(out.components(separatedBy: "tunnelpmd> port stop 0\n").last)
        XCTAssertEqual(afterStop.prefix { $0 != "\n" }, "port stop: packet forwarding is active; stop it first", afterStop)
    }
}
