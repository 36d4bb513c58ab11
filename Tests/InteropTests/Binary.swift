import Foundation
import XCTest

/// Runs the built tunnelpmd binary as a user would: arguments, piped stdin, captured output.
/// Every process is ended by its pid, also when a test times out.
struct Binary {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static var path: String {
        if let path = ProcessInfo.processInfo.environment["TUNNELPMD_BIN"] { return path }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/tunnelpmd").path
    }

    static var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// EAL arguments for two net_null ports without hugepages; a file prefix per call.
    static func eal(_ name: String, vdevs: [String] = ["net_null0", "net_null1"]) -> [String] {
        ["--no-huge", "-m", "256", "--no-pci", "--no-shconf", "--file-prefix", "tunnelpmd-cli-\(name)-\(getpid())",
         "-l", "0-1", "--log-level", "lib.eal:warning"] + vdevs.flatMap { ["--vdev", $0] }
    }

    final class Running: @unchecked Sendable {
        let process = Process()
        private let outPipe = Pipe(), errPipe = Pipe(), inPipe = Pipe()
        private var outData = Data(), errData = Data()
        private let lock = NSLock()

        /// `terminal`: a tty (a pseudo-terminal's secondary side) as stdin instead of a pipe.
        init(_ arguments: [String], terminal: FileHandle? = nil) throws {
            process.executableURL = URL(fileURLWithPath: Binary.path)
            process.arguments = arguments
            process.standardOutput = outPipe
            process.standardError = errPipe
            process.standardInput = terminal ?? inPipe
            outPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
                let data = handle.availableData
                self?.lock.withLock { self?.outData.append(data) }
            }
            errPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
                let data = handle.availableData
                self?.lock.withLock { self?.errData.append(data) }
            }
            try process.run()
        }

        var stdout: String { lock.withLock { String(decoding: outData, as: UTF8.self) } }

        /// Writes to stdin; a process that already exited fails its test, not the test process
        /// (write(_:) traps on EPIPE, write(contentsOf:) throws).
        func send(_ text: String) { try? inPipe.fileHandleForWriting.write(contentsOf: Data(text.utf8)) }
        func closeInput() { try? inPipe.fileHandleForWriting.close() }

        /// Waits until stdout contains `text`.
        func waitFor(_ text: String, seconds: Double = 20) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if stdout.contains(text) { return true }
                if !process.isRunning { return stdout.contains(text) }
                usleep(20_000)
            }
            return false
        }

        func signal(_ number: Int32) { kill(process.processIdentifier, number) }

        /// Waits for exit; after `seconds` the process is killed and the test fails.
        func finish(seconds: Double = 30, file: StaticString = #filePath, line: UInt = #line) -> Result {
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning {
                XCTFail("tunnelpmd did not exit within \(seconds) s; killed", file: file, line: line)
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
            process.waitUntilExit()
            usleep(50_000)
            outPipe.fileHandleForReading.readabilityHandler = nil
            errPipe.fileHandleForReading.readabilityHandler = nil
            let restOut = (try? outPipe.fileHandleForReading.readToEnd()) ?? nil
            let restErr = (try? errPipe.fileHandleForReading.readToEnd()) ?? nil
            return lock.withLock {
                if let restOut { outData.append(restOut) }
                if let restErr { errData.append(restErr) }
                return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                              stderr: String(decoding: errData, as: UTF8.self))
            }
        }
    }

    static func run(_ arguments: [String], input: String = "", seconds: Double = 60,
                    file: StaticString = #filePath, line: UInt = #line) throws -> Result {
        let running = try Running(arguments)
        running.send(input)
        running.closeInput()
        return running.finish(seconds: seconds, file: file, line: line)
    }
}

extension String {
    /// The integer after `label` in the first line holding it (e.g. "RX-packets:").
    func number(after label: String, in section: String? = nil) -> UInt64? {
        var text = Substring(self)
        if let section, let range = text.range(of: section) { text = text[range.upperBound...] }
        guard let range = text.range(of: label) else { return nil }
        let rest = text[range.upperBound...].drop { $0 == " " }
        return UInt64(rest.prefix { $0.isNumber })
    }
}
