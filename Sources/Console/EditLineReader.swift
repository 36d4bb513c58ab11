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
                 wakeDescriptor: Int32? = nil, complete: @escaping (String) -> CompletionAction) {
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
        inputDescriptor = fileno(input)
        self.wakeDescriptor = wakeDescriptor
        // Our own character reader waits on the terminal and the wake-up pipe together, so a
        // signal that lands just before the read still ends it (ConsoleWakeup).
        cel_set_getcfn(editLine) { el, character in
            guard let el, let character, let reader = EditLineReader.from(el) else { return -1 }
            return reader.readCharacter(into: character)
        }
    }

    private var inputDescriptor: Int32 = -1
    /// A pipe whose byte ends a waiting read (nil: `ConsoleWakeup`'s).
    private var wakeDescriptor: Int32?

    /// libedit's EL_GETCFN: one character (UTF-8 decoded) from the terminal; -1 with EINTR
    /// when a signal woke the wait.
    private func readCharacter(into character: UnsafeMutablePointer<wchar_t>) -> Int32 {
        if ConsoleWakeup.wait(for: inputDescriptor, wakeFD: wakeDescriptor ?? ConsoleWakeup.descriptor) == .woken {
            errno = EINTR
            return -1
        }
        // A signal during the first byte's read ends it (EINTR, as libedit's own reader does);
        // the rest of a multibyte character is read through.
        func readByte(retryingInterrupts: Bool) -> Int {
            var byte: UInt8 = 0
            while true {
                let count = read(inputDescriptor, &byte, 1)
                if count == 1 { return Int(byte) }
                if count < 0, errno == EINTR, retryingInterrupts { continue }
                return count == 0 ? -2 : -1  // end of input : error (errno kept)
            }
        }
        let first = readByte(retryingInterrupts: false)
        if first == -2 { return 0 }
        if first < 0 { return -1 }
        let extra = first >= 0xF0 ? 3 : first >= 0xE0 ? 2 : first >= 0xC0 ? 1 : 0
        var scalar = UInt32(first)
        if extra > 0 {
            scalar = UInt32(first & (0x3F >> extra))
            for _ in 0..<extra {
                let next = readByte(retryingInterrupts: true)
                guard next >= 0, next & 0xC0 == 0x80 else { break }
                scalar = scalar << 6 | UInt32(next & 0x3F)
            }
        }
        character.pointee = wchar_t(bitPattern: scalar)
        return 1
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
