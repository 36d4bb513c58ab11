import Foundation
import FrameSupport
import TestSupport
import XCTest

/// The independent oracles: tshark (its own dissectors and checksum code) and a scapy script
/// (OracleScript). A missing tool fails the test, naming the package to install.
enum Oracle {
    /// What the scapy script checks for one case: frames `first ..< first + count` of the pcap.
    struct Case: Encodable {
        var name: String
        var first = 0
        var count = 0
        var expected_count = 0
        var tunnel: String
        var transport: String  // tcp | uso | ufo
        var mtu: Int
        var payload: String  // file with the input's payload bytes
        var seq: UInt32 = 0
        var flags: UInt8 = 0
        var inner_id: UInt16 = 0
        var inner_id_step = 1
        var outer_id: UInt16 = 0
        var outer_id_step = 1
        var outer_udp_zero = false
        var hw: [String] = []  // checksums left to the port
        var gre_key: UInt32?
        var geneve_options: String = ""
        /// tshark's frame.protocols must contain this for every frame (any frame for UFO).
        var tsharkProtocols: String?
        var wholeFramesOnly = true

        enum CodingKeys: String, CodingKey {
            case name, first, count, expected_count, tunnel, transport, mtu, payload, seq, flags, inner_id, inner_id_step
            case outer_id, outer_id_step, outer_udp_zero, hw, gre_key, geneve_options
        }
    }

    static let tsharkPath = ["/usr/bin/tshark", "/usr/local/bin/tshark"].first { FileManager.default.isExecutableFile(atPath: $0) }

    static let decodeAs = [
        "-d", "udp.port==\(SuperFrameSpec.fouIPv4Port),ip", "-d", "udp.port==\(SuperFrameSpec.fouIPv6Port),ipv6",
    ]
    static let checksumPreferences = [
        "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
    ]

    struct ToolFailure: Error, CustomStringConvertible { var description: String }

    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        try Command.run(tool, arguments)
    }

    /// Writes `frames` to a pcap and has both oracles check `cases` against it.
    static func check(
        _ frames: [[UInt8]], cases: [Case], directory: URL, label: String, tsharkChecksums: Bool = true,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let pcap = directory.appendingPathComponent("\(label).pcap")
        try Pcap.write(frames, to: pcap)
        if ProcessInfo.processInfo.environment["GSO_KEEP_PCAP"] != nil {
            try? FileManager.default.removeItem(atPath: "/tmp/gso-\(label).pcap")
            try? FileManager.default.copyItem(at: pcap, to: URL(fileURLWithPath: "/tmp/gso-\(label).pcap"))
        }
        try tshark(pcap, cases: cases, checksums: tsharkChecksums, file: file, line: line)
        try scapy(pcap, cases: cases, directory: directory, file: file, line: line)
    }

    /// Every checksum tshark verifies is good (unless some are left to a port), and it decodes
    /// each case's inner layers.
    static func tshark(_ pcap: URL, cases: [Case], checksums: Bool, file: StaticString, line: UInt) throws {
        guard let tsharkPath else {
            XCTFail("tshark not found: install the Debian package 'tshark' (make deps)", file: file, line: line)
            throw ToolFailure(description: "tshark missing")
        }
        let base = ["-n", "-r", pcap.path] + checksumPreferences + decodeAs
        if checksums {
        let bad = try run(tsharkPath, base + [
            "-Y", "ip.checksum.status==Bad || tcp.checksum.status==Bad || udp.checksum.status==Bad",
            "-T", "fields", "-e", "frame.number", "-e", "frame.protocols",
        ])
        XCTAssertEqual(bad.status, 0, bad.output, file: file, line: line)
        let badFrames = bad.output.split(separator: "\n").filter { !$0.hasPrefix("Running as") }
        XCTAssertTrue(badFrames.isEmpty, "tshark finds bad checksums in frames: \(badFrames.prefix(10))", file: file, line: line)
        }

        let listing = try run(tsharkPath, base + ["-T", "fields", "-e", "frame.protocols"])
        let protocols = listing.output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            .filter { !$0.hasPrefix("Running as") }
        for c in cases {
            guard let want = c.tsharkProtocols else { continue }
            let mine = protocols[c.first..<min(protocols.count, c.first + c.count)]
            let matching = mine.filter { $0.contains(want) }.count
            if c.wholeFramesOnly {
                XCTAssertEqual(matching, c.count, "\(c.name): tshark decodes \(want) in \(matching) of \(c.count) frames, e.g. \(mine.first ?? "")", file: file, line: line)
            } else {
                XCTAssertGreaterThan(matching, 0, "\(c.name): tshark never decodes \(want): \(mine.first ?? "")", file: file, line: line)
            }
        }
    }

    static func scapy(_ pcap: URL, cases: [Case], directory: URL, file: StaticString, line: UInt) throws {
        // The python3 on PATH, as `make deps` installs scapy with `python3 -m pip`.
        let python = "/usr/bin/env"
        guard try run(python, ["python3", "-c", "import scapy.all"]).status == 0 else {
            XCTFail("scapy not importable: install python3 and the pip package 'scapy' (make deps)", file: file, line: line)
            throw ToolFailure(description: "scapy missing")
        }
        let script = directory.appendingPathComponent("gso_oracle.py")
        try OracleScript.source.write(to: script, atomically: true, encoding: .utf8)
        let manifest = directory.appendingPathComponent("manifest.json")
        try JSONEncoder().encode([pcap.path: cases]).write(to: manifest)
        let result = try run(python, ["python3", script.path, manifest.path])
        XCTAssertEqual(result.status, 0, "scapy oracle:\n\(result.output)", file: file, line: line)
    }
}
