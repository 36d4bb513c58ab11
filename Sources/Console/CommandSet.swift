// The registered commands, and resolving a line to the command that runs.

/// The result of looking a line up among the commands.
enum Resolution {
    /// Blank or comment: nothing to do.
    case ignored
    case matched(Command, CommandArguments)
    /// No command accepts the line; the message says why.
    case failed(String)
}

public struct CommandSet {
    public private(set) var commands: [Command] = []
    /// First words no registration may use (the console's built-in `help`).
    var reservedWords: Set<String> = []

    public init() {}

    /// Adds a command. Throws on a malformed pattern, a reserved first word, or a pattern that is
    /// already registered (except a replaceable built-in, which the new command replaces).
    public mutating func register(
        _ pattern: String, section: String? = nil, help: String, detail: String? = nil,
        handler: @escaping CommandHandler
    ) throws(PatternError) {
        try add(Command(pattern: CommandPattern(parsing: pattern), section: section, help: help,
                        detail: detail, handler: handler), source: pattern)
    }

    mutating func add(_ command: Command, source: String) throws(PatternError) {
        for word in command.pattern.tokens[0].literalWords where reservedWords.contains(word) {
            throw PatternError(pattern: source, reason: "'\(word)' is built in")
        }
        if let existing = commands.firstIndex(where: { $0.pattern == command.pattern }) {
            guard commands[existing].replaceable else { throw PatternError(pattern: source, reason: "already registered") }
            commands[existing] = command
            return
        }
        commands.append(command)
    }

    /// Finds the command for `line` and its arguments, or the message explaining the failure.
    func resolve(_ text: String, output: ConsoleOutput) -> Resolution {
        let line = LineWords(text)
        if line.isIgnorable { return .ignored }
        var best: (command: Command, match: PatternMatch)?
        var failures: [MatchFailure] = []
        for command in commands {
            switch command.pattern.match(line) {
            case .success(let match):
                if match.literalCount > best?.match.literalCount ?? -1 { best = (command, match) }
            case .failure(let failure):
                failures.append(failure)
            }
        }
        guard let (command, match) = best else {
            return .failed(MatchFailure.message(for: failures, line: line))
        }
        let words = (0..<line.count).map { line[$0] }
        let arguments = CommandArguments(
            commandName: command.pattern.commandName(in: line), pattern: command.pattern,
            words: words, values: match.values, output: output)
        return .matched(command, arguments)
    }
}
