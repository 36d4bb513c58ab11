// Interactive input through libedit: prompt, emacs bindings, history, TAB completion.
import CEditLine
#if canImport(Glibc)
import Glibc
#endif

/// Reads lines from a terminal with libedit. Only for a tty stdin; see `Console.runStandardInput`.
public final class EditLineReader: LineReader {
    private let editLine: OpaquePointer
    private let history: OpaquePointer
    private let historyFile: String?
    private let complete: (String) -> CompletionAction
    private let terminalOutput: UnsafeMutablePointer<FILE>
    /// The C string libedit's prompt callback returns; owned here, replaced when the prompt changes.
    private var promptCString: UnsafeMutablePointer<CChar>
    private var promptText = ""

    /// - Parameters:
    ///   - historyFile: loaded now and rewritten after each line; errors are ignored (a read-only
    ///     home must not stop the console).
    ///   - complete: maps the text before the cursor to a TAB action.
    ///   - input, output: the terminal's streams; stdin/stdout unless a test drives a pty.
    public init?(program: String = "tunnelpmd", historyFile: String? = nil,
                 input: UnsafeMutablePointer<FILE>? = nil, output: UnsafeMutablePointer<FILE>? = nil,
                 complete: @escaping (String) -> CompletionAction) {
        guard let input = input ?? cel_stdin(), let output = output ?? cel_stdout(),
              let editLine = el_init(program, input, output, cel_stderr())
        else { return nil }
        guard let history = history_init(), let prompt = strdup("") else {
            el_end(editLine)
            return nil
        }
        self.editLine = editLine
        self.history = history
        self.historyFile = historyFile
        self.complete = complete
        self.terminalOutput = output
        self.promptCString = prompt

        cel_history_setsize(history, 1000)
        cel_history_setunique(history, 1)
        if let historyFile { _ = cel_history_load(history, historyFile) }

        // libedit callbacks are plain C function pointers with no context argument; they find
        // this reader through EL_CLIENTDATA instead of a global, so several readers can coexist.
        cel_set_clientdata(editLine, Unmanaged.passUnretained(self).toOpaque())
        cel_set_editor(editLine, "emacs")
        cel_set_history(editLine, history)
        // Not EL_SIGNAL: libedit's handlers would replace ours and the application's.
        cel_set_signal(editLine, 0)
        cel_set_prompt(editLine) { el in
            guard let el, let reader = EditLineReader.from(el) else { return nil }
            return reader.promptCString
        }
        cel_add_function(editLine, "tunnelpmd-complete", "Complete the command word") { el, _ in
            guard let el, let reader = EditLineReader.from(el) else { return UInt8(CC_ERROR) }
            return reader.completeAtCursor()
        }
        cel_bind(editLine, "^I", "tunnelpmd-complete")
    }

    deinit {
        el_end(editLine)
        history_end(history)
        free(promptCString)
    }

    public var echoesInput: Bool { false }

    public func readLine(prompt: String) -> LineEvent {
        setPrompt(prompt)
        let (line, interrupted) = catchingInterrupts { () -> String? in
            var count: Int32 = 0
            errno = 0
            guard let text = el_gets(editLine, &count), count > 0 else { return nil }
            return String(cString: text)
        }
        // Another signal (a stop or statistics request) broke the read: not the end of input.
        if interrupted || (line == nil && errno == EINTR) {
            // The terminal echoed ^C on the prompt line; start the next prompt on a new one.
            writeTerminal("\n")
            return .interrupted
        }
        guard var line else { return .endOfInput }
        while line.last?.isNewline == true { line.removeLast() }
        if !line.allSatisfy(\.isWhitespace) {
            cel_history_enter(history, line)
            if let historyFile { _ = cel_history_save(history, historyFile) }
        }
        return .line(line)
    }

    private static func from(_ el: OpaquePointer) -> EditLineReader? {
        guard let data = cel_get_clientdata(el) else { return nil }
        return Unmanaged<EditLineReader>.fromOpaque(data).takeUnretainedValue()
    }

    private func setPrompt(_ prompt: String) {
        guard prompt != promptText, let copy = strdup(prompt) else { return }
        free(promptCString)
        promptCString = copy
        promptText = prompt
    }

    /// The TAB binding: insert the completion, or list candidates and redraw the line.
    private func completeAtCursor() -> UInt8 {
        guard let info = el_line(editLine) else { return UInt8(CC_ERROR) }
        guard let start = UnsafeRawPointer(info.pointee.buffer), let cursor = UnsafeRawPointer(info.pointee.cursor),
              cursor >= start
        else { return UInt8(CC_ERROR) }
        let length = cursor - start
        let before = String(decoding: UnsafeRawBufferPointer(start: start, count: length), as: UTF8.self)
        switch complete(before) {
        case .insert(let text):
            return el_insertstr(editLine, text) == 0 ? UInt8(CC_REFRESH) : UInt8(CC_ERROR)
        case .list(let candidates):
            writeTerminal("\n" + Self.columns(candidates).joined(separator: "\n") + "\n")
            return UInt8(CC_REDISPLAY)
        case .none:
            return UInt8(CC_ERROR)
        }
    }

    private func writeTerminal(_ text: String) {
        fputs(text, terminalOutput)
        fflush(terminalOutput)
    }

    /// Candidates laid out in columns across `width` characters, like a shell's listing.
    static func columns(_ items: [String], width: Int = 80) -> [String] {
        let cell = (items.map(\.count).max() ?? 0) + 2
        let perRow = max(1, width / max(cell, 1))
        return stride(from: 0, to: items.count, by: perRow).map { rowStart in
            let row = items[rowStart..<min(rowStart + perRow, items.count)]
            let padded = row.map { $0 + String(repeating: " ", count: cell - $0.count) }.joined()
            return String(padded.reversed().drop(while: { $0 == " " }).reversed())
        }
    }
}
