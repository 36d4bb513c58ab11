import Foundation
import XCTest

/// tshark as an independent oracle: it dissects the frames we build and verifies IP, UDP
/// and TCP checksums with its own code. Missing tshark is a failure naming the package.
enum Tshark {
    /// Thrown after the XCTFail above: the test fails, it is never skipped.
    struct Missing: Error {}

    static let path: String? = ["/usr/bin/tshark", "/usr/local/bin/tshark"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    static let checksumPrefs = [
        "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
    ]

    /// Runs tshark over `pcap` with `arguments`; returns stdout lines.
    static func run(_ pcap: URL, _ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        guard let path else {
            XCTFail("tshark not found: install the Debian package 'tshark' (make deps / WIRE_APT_PACKAGES)", file: file, line: line)
            throw Missing()
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["-n", "-r", pcap.path] + checksumPrefs + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            XCTFail("tshark failed: \(String(decoding: errors, as: UTF8.self))", file: file, line: line)
            return []
        }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// Per frame: the checksum verdicts tshark reached, e.g. ["ip:Good", "udp:Good", "ip:Good", "tcp:Good"].
    /// tshark prints status 1 for Good, 0 for Bad, 2 for Unverified.
    static func checksumVerdicts(_ pcap: URL, decodeAs: [String] = [], preferences: [String] = [], file: StaticString = #filePath, line: UInt = #line) throws -> [[String]] {
        var args = ["-T", "fields", "-E", "occurrence=a", "-E", "separator=|", "-E", "aggregator=,"]
        for d in decodeAs { args += ["-d", d] }
        for p in preferences { args += ["-o", p] }
        args += ["-e", "ip.checksum.status", "-e", "udp.checksum.status", "-e", "tcp.checksum.status"]
        let lines = try run(pcap, args, file: file, line: line)
        let names = ["ip", "udp", "tcp"]
        return lines.map { line in
            let columns = line.split(separator: "|", omittingEmptySubsequences: false)
            var verdicts: [String] = []
            for (i, column) in columns.enumerated() where i < names.count {
                for value in column.split(separator: ",") {
                    let verdict = value == "1" ? "Good" : value == "0" ? "Bad" : "Unverified"
                    verdicts.append("\(names[i]):\(verdict)")
                }
            }
            return verdicts
        }
    }
}
