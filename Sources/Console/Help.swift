// The text of the built-in `help`: a one-line-per-command summary and per-command detail.

extension CommandSet {
    /// Widest pattern column; longer patterns push their help text right instead of wrapping.
    static let helpColumnLimit = 48

    /// Section names in order of first registration (ungrouped commands have none).
    var sections: [String] {
        commands.compactMap(\.section).reduce(into: []) { list, name in
            if !list.contains(name) { list.append(name) }
        }
    }

    /// One line per command, `pattern  help`, aligned; grouped under `section:` headers, with
    /// ungrouped commands first. `only` restricts the listing to one section.
    func helpSummary(only section: String? = nil) -> [String] {
        let shown = section.map { name in commands.filter { $0.section == name } } ?? commands
        let width = shown.map { $0.pattern.description.count }.filter { $0 <= Self.helpColumnLimit }.max() ?? 0
        func row(_ command: Command) -> String {
            let pattern = command.pattern.description
            let padding = String(repeating: " ", count: max(2, width - pattern.count + 2))
            return "  " + pattern + padding + command.help
        }
        var lines = shown.filter { $0.section == nil }.map(row)
        for name in sections where section == nil || section == name {
            if !lines.isEmpty { lines.append("") }
            lines.append(name + ":")
            lines += shown.filter { $0.section == name }.map(row)
        }
        return lines
    }

    /// The detailed help of every command whose pattern accepts `words` as its beginning,
    /// or nil when none does.
    func helpDetail(for words: [String]) -> [String]? {
        let line = LineWords(words.joined(separator: " "))
        let matching = commands.filter { $0.pattern.accepts(prefix: line) }
        guard !matching.isEmpty else { return nil }
        var lines: [String] = []
        for command in matching {
            if !lines.isEmpty { lines.append("") }
            lines.append(command.pattern.description)
            let text = command.detail ?? command.help
            lines += text.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }
        }
        return lines
    }
}

extension CommandPattern {
    /// Whether the line's words are a valid beginning of this pattern (placeholders take any
    /// well-formed value). Used by `help <words>` and by completion.
    func accepts(prefix line: LineWords) -> Bool {
        for index in 0..<line.count {
            guard index < tokens.count else { return false }
            switch tokens[index] {
            case .keyword, .alternatives:
                if !tokens[index].literalWords.contains(line[index]) { return false }
            case .placeholder(_, let type):
                if type == .rest { return true }
                if case .failure = type.parse(line[index]) { return false }
            }
        }
        return true
    }
}
