// A registered command: its pattern, help texts and handler.

/// What the loop does after a command.
public enum CommandOutcome: Equatable, Sendable {
    case `continue`
    /// End the input source (the session, or a command file).
    case quit
}

/// Runs a matched command. Throwing prints `<command>: <message>` and the loop goes on.
public typealias CommandHandler = (CommandArguments) throws -> CommandOutcome

public struct Command {
    public let pattern: CommandPattern
    /// Help group, e.g. "control", "display", "config", "ports"; nil for ungrouped.
    public let section: String?
    /// One line, shown by `help`.
    public let help: String
    /// Longer text shown by `help <command words>`; the one-line help when nil.
    public let detail: String?
    let handler: CommandHandler
    /// Built-ins (`quit`) that a registration with the same pattern replaces.
    let replaceable: Bool

    init(pattern: CommandPattern, section: String?, help: String, detail: String? = nil,
         replaceable: Bool = false, handler: @escaping CommandHandler) {
        self.pattern = pattern
        self.section = section
        self.help = help
        self.detail = detail
        self.replaceable = replaceable
        self.handler = handler
    }
}
