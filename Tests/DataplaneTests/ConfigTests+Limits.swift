import Dataplane
import XCTest

/// Hostile and degenerate config files, and the EAL arguments of a file merged with the
/// command line's (issue 12).
extension ConfigTests {
    /// 5,000 nested `[` or `{k:` overflowed the stack inside Yams (exit 139); the nesting is
    /// now bounded before Yams sees the text.
    func testDeepNestingIsRefusedBeforeTheParser() {
        let deep = [
            String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000) + "\n",
            "forwarding: " + String(repeating: "{k: ", count: 5_000) + "1" + String(repeating: "}", count: 5_000) + "\n",
            (0..<200).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n") + " 1\n",
            String(repeating: "- ", count: 200) + "x\n",
        ]
        for text in deep {
            XCTAssertThrowsError(try RunConfiguration.parse(text, source: "deep.yaml")) { error in
                let message = "\(error)"
                XCTAssertTrue(message.hasPrefix("invalid config 'deep.yaml'; allowed: YAML nested at most \(ConfigFile.maximumDepth) levels deep"),
                              message)
            }
        }
        // Ordinary nesting, quoted brackets and comments do not count.
        XCTAssertNoThrow(try RunConfiguration.parse("""
            eal:
              vdevs: ["net_ring0[x", '{net_null1']   # [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[
              args: [--log-level, "lib.eal:warning"]
            forwarding: {mode: io, burst: 32}
            """, source: "ok.yaml"))
    }

    func testEmptyOrCommentOnlyConfigIsAnError() {
        for text in ["", "\n\n", "# nothing here\n  # still nothing\n"] {
            XCTAssertThrowsError(try RunConfiguration.parse(text, source: "empty.yaml")) { error in
                XCTAssertEqual("\(error)", "invalid config 'empty.yaml'; allowed: a YAML mapping with eal, forwarding and/or run (the file is empty or only comments)")
            }
        }
    }

    func testConfigPathErrorsInPlainWords() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tunnelpmd-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        XCTAssertThrowsError(try RunConfiguration.load(path: directory.path)) { error in
            XCTAssertEqual("\(error)", "invalid config '\(directory.path)'; allowed: a readable YAML file (it is a directory)")
        }
        XCTAssertThrowsError(try RunConfiguration.load(path: directory.path + "/missing.yaml")) { error in
            XCTAssertEqual("\(error)", "invalid config '\(directory.path)/missing.yaml'; allowed: a readable YAML file (No such file or directory)")
        }
        let big = directory.appendingPathComponent("big.yaml")
        try Data(repeating: UInt8(ascii: "#"), count: ConfigFile.maximumBytes + 1).write(to: big)
        XCTAssertThrowsError(try RunConfiguration.load(path: big.path)) { error in
            XCTAssertTrue("\(error)".contains("at most \(ConfigFile.maximumBytes)"), "\(error)")
        }
    }

    /// EAL makes `<runtime dir>/<prefix>`: a prefix with a path separator escapes it.
    func testFilePrefixWithPathSeparatorIsRefused() {
        for (text, line) in [("eal:\n  file_prefix: ../escape\n", 2), ("eal:\n  args: [--file-prefix, a/b]\n", 2),
                             ("eal:\n  args: [\"--file-prefix=..\"]\n", 2)] {
            XCTAssertThrowsError(try RunConfiguration.parse(text, source: "prefix.yaml")) { error in
                let message = "\(error)"
                XCTAssertTrue(message.hasPrefix("prefix.yaml:\(line): invalid eal."), message)
                XCTAssertTrue(message.hasSuffix("allowed: a name without '/' (not '.' or '..')"), message)
            }
        }
        XCTAssertNoThrow(try EALArguments.validateFilePrefix(["--file-prefix", "tunnelpmd-1", "--no-huge"]))
        XCTAssertThrowsError(try EALArguments.validateFilePrefix(["--file-prefix=../x"]))
    }

    /// The command line overrides the file: an option EAL takes once comes from the command
    /// line, repeatable ones add up, each value once.
    func testEALArgumentsOfTheCommandLineOverrideTheFile() {
        let file = ["-l", "0-1", "-m", "256", "--no-huge", "--file-prefix", "ci", "--vdev", "net_null0", "--vdev", "net_null1",
                    "--log-level", "lib.eal:warning"]
        XCTAssertEqual(EALArguments.merge(file: file, commandLine: ["-l", "0-3", "--file-prefix=mine", "--vdev", "net_null1", "--no-huge"]),
                       ["-m", "256", "--no-huge", "--vdev", "net_null0", "--vdev", "net_null1", "--log-level", "lib.eal:warning",
                        "-l", "0-3", "--file-prefix=mine"])
        // -c and --lcores conflict with -l: the command line's one wins.
        XCTAssertEqual(EALArguments.merge(file: file, commandLine: ["--lcores", "0@0,1@1"]).prefix(2), ["-m", "256"])
        XCTAssertFalse(EALArguments.merge(file: file, commandLine: ["-c", "0x3"]).contains("-l"))
        XCTAssertEqual(EALArguments.merge(file: file, commandLine: []), file)
        XCTAssertEqual(EALArguments.merge(file: [], commandLine: ["-l0-1"]), ["-l0-1"])
    }
}
