// Where the console and handlers write: stdout by default, a buffer in tests.
import CEditLine

/// A text sink. Copies share the same sink.
public struct ConsoleOutput {
    private let sink: (String) -> Void

    public init(_ sink: @escaping (String) -> Void) {
        self.sink = sink
    }

    public func write(_ text: String) {
        sink(text)
    }

    /// Writes `text` and a newline.
    public func line(_ text: String = "") {
        sink(text + "\n")
    }

    /// The process's stdout. Goes through the C `stdout` stream that libedit and Swift's
    /// print() also use, and flushes, so their output stays in order.
    public static var standardOutput: ConsoleOutput {
        ConsoleOutput { text in
            let out = cel_stdout()
            // fwrite, not fputs: a NUL byte in an echoed line must not cut the rest of it.
            var text = text
            text.withUTF8 { bytes in _ = fwrite(bytes.baseAddress, 1, bytes.count, out) }
            fflush(out)
        }
    }
}

/// Collects everything written, for tests and for callers that post-process output.
public final class OutputCapture {
    public private(set) var text = ""

    public init() {}

    public var output: ConsoleOutput {
        ConsoleOutput { [self] in text += $0 }
    }

    /// The captured text split into lines (without the final empty line).
    public var lines: [String] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    public func clear() {
        text = ""
    }
}
