// TAB completion: the possible next tokens for a partial line, and what TAB should do.

/// What may come next at the end of a partial line.
public struct CompletionCandidates: Equatable, Sendable {
    /// Words that can be inserted (keywords, alternatives, enumerated values, `all`),
    /// already filtered by the partially typed word.
    public var words: [String]
    /// Placeholders for free values (`<port>`, `<n:uint:1-512>`): shown, never inserted.
    public var hints: [String]
}

/// What the line editor does on TAB.
public enum CompletionAction: Equatable, Sendable {
    /// Insert this text at the cursor (a unique completion ends with a space).
    case insert(String)
    /// Show these candidates below the line, then redraw it.
    case list([String])
    /// Nothing fits: beep.
    case none
}

extension CommandSet {
    /// Candidates for the word being typed at the end of `text` (the text before the cursor).
    func candidates(for text: String) -> CompletionCandidates {
        let (complete, partial) = Self.split(text)
        if complete.first == "help" {
            // `help <command words>` completes like the commands themselves (literals only).
            var inner = candidates(forWords: Array(complete.dropFirst()), partial: partial)
            if complete.count == 1 { inner.words += sections.filter { $0.hasPrefix(partial) && !inner.words.contains($0) } }
            inner.hints = []
            return inner
        }
        return candidates(forWords: complete, partial: partial)
    }

    /// The TAB action: complete a unique candidate, extend to the candidates' common prefix,
    /// or list them (like DPDK's cmdline library).
    func completionAction(for text: String) -> CompletionAction {
        let (_, partial) = Self.split(text)
        let found = candidates(for: text)
        // A free value could also start with what was typed, but once the user typed something
        // that begins a known word, the words are what they meant.
        let hints = partial.isEmpty || found.words.isEmpty ? found.hints : []
        if found.words.count == 1 && hints.isEmpty {
            return .insert(String(found.words[0].dropFirst(partial.count)) + " ")
        }
        let common = Self.commonPrefix(found.words)
        if found.words.count > 1 && common.count > partial.count {
            return .insert(String(common.dropFirst(partial.count)))
        }
        let listed = found.words + hints
        return listed.isEmpty ? .none : .list(listed)
    }

    private func candidates(forWords complete: [String], partial: String) -> CompletionCandidates {
        let line = LineWords(complete.joined(separator: " "))
        var words: [String] = []
        var hints: [String] = []
        for command in commands {
            let tokens = command.pattern.tokens
            // Past the last token (or inside a trailing `rest`) there is nothing to propose.
            guard complete.count < tokens.count, command.pattern.accepts(prefix: line) else { continue }
            let next = tokens[complete.count]
            switch next {
            case .keyword, .alternatives:
                words += next.literalWords
            case .placeholder(_, let type):
                words += type.words
                if type.acceptsFreeValue { hints.append(next.description) }
            }
        }
        return CompletionCandidates(
            words: Self.unique(words.filter { $0.hasPrefix(partial) }),
            hints: Self.unique(hints))
    }

    /// Splits the text before the cursor into finished words and the word being typed.
    static func split(_ text: String) -> (complete: [String], partial: String) {
        var words = text.split(whereSeparator: \.isWhitespace).map(String.init)
        guard let last = text.last, !last.isWhitespace, let partial = words.popLast() else { return (words, "") }
        return (words, partial)
    }

    static func commonPrefix(_ words: [String]) -> String {
        guard var prefix = words.first else { return "" }
        for word in words.dropFirst() {
            while !word.hasPrefix(prefix) { prefix.removeLast() }
        }
        return prefix
    }

    private static func unique(_ items: [String]) -> [String] {
        items.reduce(into: []) { list, item in if !list.contains(item) { list.append(item) } }
    }
}
