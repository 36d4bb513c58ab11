// The console: commands plus the read-execute loop over any input source.
//
//     let console = Console()                       // prompt "tunnelpmd> ", output to stdout
//     try console.register("set fwd <mode:io|mac>", section: "config", help: "set forwarding mode") { args in
//         try engine.setMode(args.keyword("mode"))
//         args.print("Set \(try args.keyword("mode")) packet forwarding mode")
//         return .continue
//     }
//     console.run(commandFile: options.cmdlineFile, historyFile: home + "/.tunnelpmd_history")
//
// Sources: `runStandardInput` (libedit on a tty, echoed lines on a pipe), `runCommandFile`,
// or `run(_:)` with any `LineReader`. Tests pass `OutputCapture().output` as the output.
#if canImport(Glibc)
import Glibc
#endif

/// A testpmd-style command console. Not thread-safe: create and run it on one thread (the
/// main thread in tunnelpmd); handlers run synchronously on that thread.
public final class Console {
    public static let defaultPrompt = "tunnelpmd> "

    public var prompt: String
    public let output: ConsoleOutput
    public private(set) var commands = CommandSet()
    /// Called when Ctrl-C arrives at the interactive prompt (after the line is dropped).
    public var onInterrupt: (() -> Void)?
    /// Asked before every read (an interrupted one included): `.quit` ends the session as
    /// the `quit` command does. The host's signals (a stop request) end a session here.
    public var checkSignals: (() -> CommandOutcome)?

    /// What the loop does when its source runs dry.
    public enum EndOfInput: Sendable {
        /// Run the `quit` command and end the session (stdin: Ctrl-D, end of a pipe).
        case quit
        /// Just stop reading (a command file).
        case stop
    }

    /// - Parameter builtinSection: the help section of the built-in `help` and `quit`.
    public init(prompt: String = Console.defaultPrompt, output: ConsoleOutput = .standardOutput,
                builtinSection: String? = "control") {
        self.prompt = prompt
        self.output = output
        registerBuiltins(section: builtinSection)
    }

    /// Registers a command; see `CommandPattern` for the pattern syntax.
    ///
    ///     try console.register("set burst <n:uint:1-512>", section: "config",
    ///                          help: "set the number of packets per burst") { args in
    ///         engine.burst = try args.uint("n")
    ///         return .continue
    ///     }
    ///
    /// Registering `quit` replaces the built-in one (which only ends the loop).
    public func register(
        _ pattern: String, section: String? = nil, help: String, detail: String? = nil,
        handler: @escaping CommandHandler
    ) throws(PatternError) {
        try commands.register(pattern, section: section, help: help, detail: detail, handler: handler)
    }

    /// Runs one line. Errors are printed, never thrown: the loop always goes on.
    @discardableResult
    public func execute(_ line: String) -> CommandOutcome {
        switch commands.resolve(line, output: output) {
        case .ignored:
            return .continue
        case .failed(let message):
            output.line(message)
            return .continue
        case .matched(let command, let arguments):
            do {
                return try command.handler(arguments)
            } catch let error as any ConsoleError {
                output.line("\(arguments.commandName): \(error.message)")
            } catch {
                output.line("\(arguments.commandName): \(error)")
            }
            return .continue
        }
    }

    /// The loop: read, echo if the source is not a terminal, execute, until `quit` or EOF.
    /// Returns `.quit` if a command (or EOF under `.quit`) ended it.
    @discardableResult
    public func run(_ reader: some LineReader, atEnd: EndOfInput = .quit) -> CommandOutcome {
        while true {
            if checkSignals?() == .quit {
                execute("quit")
                return .quit
            }
            switch reader.readLine(prompt: prompt) {
            case .line(let line):
                if reader.echoesInput { output.line(prompt + line) }
                if execute(line) == .quit { return .quit }
            case .interrupted:
                onInterrupt?()
            case .endOfInput:
                switch atEnd {
                case .stop:
                    return .continue
                case .quit:
                    // A terminal's cursor is still on the prompt line after Ctrl-D.
                    if !reader.echoesInput { output.line() }
                    execute("quit")
                    return .quit
                }
            }
        }
    }

    /// Executes a command file line by line (echoed like a session) until its end or a `quit`
    /// line, then prints testpmd's `Read CLI commands from <file>`. A `quit` in the file
    /// returns `.quit`; whether that ends the program is the caller's choice.
    @discardableResult
    public func runCommandFile(_ path: String) -> CommandOutcome {
        let reader: StreamLineReader
        do {
            reader = try StreamLineReader(path: path)
        } catch {
            output.line("Failed to read CLI commands: \(error.message)")
            return .continue
        }
        let outcome = run(reader, atEnd: .stop)
        output.line("Read CLI commands from \(path)")
        return outcome
    }

    /// Reads stdin until `quit` or EOF: with libedit when it is a terminal, else line by line
    /// with each line echoed after the prompt.
    @discardableResult
    public func runStandardInput(historyFile: String? = nil) -> CommandOutcome {
        if isatty(STDIN_FILENO) == 1,
           let editor = EditLineReader(historyFile: historyFile, complete: { [unowned self] in completionAction(for: $0) }) {
            return run(editor)
        }
        guard let stdin = StreamLineReader.standardInput() else { return .quit }
        return run(stdin)
    }

    /// A whole session: the command file if any, then stdin.
    ///
    /// As in testpmd, `quit` in the command file only ends the file; pass
    /// `quitAfterCommandFileQuit: true` to end the session there instead.
    public func run(commandFile: String? = nil, historyFile: String? = nil, quitAfterCommandFileQuit: Bool = false) {
        if let commandFile, runCommandFile(commandFile) == .quit, quitAfterCommandFileQuit { return }
        runStandardInput(historyFile: historyFile)
    }

    /// A whole session with another input than stdin: the command file if any, then `input`.
    public func run(commandFile: String?, input: some LineReader, quitAfterCommandFileQuit: Bool = false) {
        if let commandFile, runCommandFile(commandFile) == .quit, quitAfterCommandFileQuit { return }
        run(input)
    }

    /// Candidates for the next word at the end of `text` (what TAB considers).
    public func completions(for text: String) -> CompletionCandidates {
        commands.candidates(for: text)
    }

    /// What TAB does with `text` before the cursor.
    public func completionAction(for text: String) -> CompletionAction {
        commands.completionAction(for: text)
    }

    // MARK: - Built-ins

    private func registerBuiltins(section: String?) {
        let help = Command(
            pattern: Self.builtinPattern("help"), section: section, help: "show all commands, one line each",
            detail: "help: list all commands.\nhelp <section>: list the commands of one section.\nhelp <command words>: detailed help of the matching commands."
        ) { [unowned self] _ in
            commands.helpSummary().forEach(output.line)
            return .continue
        }
        let helpTopic = Command(
            pattern: Self.builtinPattern("help <topic:rest>"), section: section,
            help: "detailed help of a command or a section's list"
        ) { [unowned self] arguments in
            showHelp(topic: arguments.words.dropFirst().map { $0 })
            return .continue
        }
        let quit = Command(
            pattern: Self.builtinPattern("quit"), section: section, help: "exit the console", detail: nil,
            replaceable: true
        ) { _ in .quit }
        for command in [help, helpTopic, quit] {
            try? commands.add(command, source: command.pattern.description)
        }
        commands.reservedWords = ["help"]
    }

    private func showHelp(topic words: [String]) {
        if words.count == 1, commands.sections.contains(words[0]) {
            commands.helpSummary(only: words[0]).forEach(output.line)
        } else if let lines = commands.helpDetail(for: words) {
            lines.forEach(output.line)
        } else {
            output.line("help: no command matches '\(words.joined(separator: " "))'; type 'help' for the list")
        }
    }

    /// Built-in patterns are constants; parsing them cannot fail.
    private static func builtinPattern(_ text: String) -> CommandPattern {
        (try? CommandPattern(parsing: text)) ?? CommandPattern(tokens: [.keyword(text)])
    }
}
