// Input sources for the console loop: one line at a time, whatever the source.

/// What reading a line produced.
public enum LineEvent: Equatable, Sendable {
    case line(String)
    /// Ctrl-C at the prompt: the partial line is dropped.
    case interrupted
    /// EOF (Ctrl-D on a terminal, end of a pipe or file).
    case endOfInput
}

/// A source of command lines.
public protocol LineReader: AnyObject {
    /// True when the source does not show what is read (pipe, file, string), so the console
    /// echoes `prompt + line` and the output reads like an interactive session.
    var echoesInput: Bool { get }
    func readLine(prompt: String) -> LineEvent
}

/// Lines from a string, for tests and for callers that build scripts in memory.
public final class TextLineReader: LineReader {
    private var lines: [String]
    private var next = 0

    public init(_ text: String) {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
        if lines.last == "" { lines.removeLast() }
        self.lines = lines
    }

    public var echoesInput: Bool { true }

    public func readLine(prompt: String) -> LineEvent {
        guard next < lines.count else { return .endOfInput }
        defer { next += 1 }
        return .line(lines[next])
    }
}
