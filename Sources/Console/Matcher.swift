// Matching a line's words against one pattern, and choosing among all commands' results.

/// A successful match of a line against a pattern.
struct PatternMatch {
    let values: [ArgumentValue]
    /// Literal tokens matched; the more, the more specific (`stats all` beats `stats <port>`).
    let literalCount: Int
}

/// Why a line does not match a pattern, at which word.
struct MatchFailure: Error {
    enum Kind {
        /// The word is no valid value for the placeholder `<name>`.
        case badValue(word: String, name: String, problem: ValueProblem)
        /// The word is not among what the pattern allows here (literals or `<placeholder>`s).
        case unexpected(word: String, expected: [String])
        /// The line ends where the pattern wants `expected`; `allowed` lists an enumeration's values.
        case missing(expected: [String], allowed: [String])
        /// The pattern is complete but the line goes on.
        case extra(word: String)
    }

    /// The index of the word that failed (the number of words accepted before it).
    let depth: Int
    let kind: Kind
    /// The command name to use in the message: the line's words under the pattern's literal prefix.
    let commandName: String
}

extension CommandPattern {
    func match(_ line: LineWords) -> Result<PatternMatch, MatchFailure> {
        var values: [ArgumentValue] = []
        var literals = 0
        func failure(_ depth: Int, _ kind: MatchFailure.Kind) -> Result<PatternMatch, MatchFailure> {
            let nameCount = Swift.min(depth, literalPrefixCount)
            let name = (0..<nameCount).map { line[$0] }.joined(separator: " ")
            return .failure(MatchFailure(depth: depth, kind: kind, commandName: name))
        }
        for (index, token) in tokens.enumerated() {
            guard index < line.count else {
                var allowed: [String] = []
                if case .placeholder(_, let type) = token, !type.acceptsFreeValue { allowed = type.words }
                return failure(index, .missing(expected: token.expectations, allowed: allowed))
            }
            let word = line[index]
            switch token {
            case .keyword, .alternatives:
                guard token.literalWords.contains(word) else {
                    return failure(index, .unexpected(word: word, expected: token.literalWords))
                }
                values.append(.keyword(word))
                literals += 1
            case .placeholder(let name, let type):
                let text = type == .rest ? line.rest(from: index) : word
                switch type.parse(text) {
                case .success(let value): values.append(value)
                case .failure(let problem): return failure(index, .badValue(word: word, name: name, problem: problem))
                }
                if type == .rest {
                    return .success(PatternMatch(values: values, literalCount: literals))
                }
            }
        }
        if line.count > tokens.count {
            return failure(tokens.count, .extra(word: line[tokens.count]))
        }
        return .success(PatternMatch(values: values, literalCount: literals))
    }

    /// The line's words that name the command: those under the pattern's literal prefix.
    func commandName(in line: LineWords) -> String {
        (0..<Swift.min(literalPrefixCount, line.count)).map { line[$0] }.joined(separator: " ")
    }
}

extension PatternToken {
    /// How the token is listed in "expected" messages: a literal's words, or `<name>`.
    var expectations: [String] {
        switch self {
        case .keyword, .alternatives: literalWords
        case .placeholder(let name, _): ["<\(name)>"]
        }
    }
}

extension MatchFailure {
    /// Combines the failures of all commands into one message. The deepest failure wins: it is
    /// where the user's line diverged last. At equal depth a bad value is the most specific
    /// report; otherwise the alternatives from every command are merged into one list.
    static func message(for failures: [MatchFailure], line: LineWords) -> String {
        guard let depth = failures.map(\.depth).max(), depth > 0 else {
            return "unknown command \(quoted(line.count > 0 ? line[0] : "")); type 'help' for the list"
        }
        let deepest = failures.filter { $0.depth == depth }
        let name = deepest[0].commandName
        for failure in deepest {
            guard case .badValue(let word, let argument, let problem) = failure.kind else { continue }
            switch problem {
            case .malformed(let expectation):
                return "\(failure.commandName): bad value \(quoted(word)) for <\(argument)>; \(expectation)"
            case .outOfRange(let range):
                // Worded as the option table words it (`invalid burst '0'; allowed: 1-512`).
                return "\(failure.commandName): bad value \(quoted(word)) for <\(argument)>; allowed: \(range)"
            }
        }
        var expected: [String] = []
        var unexpectedWord: String?
        var missingAllowed: [String] = []
        var extraWord: String?
        for failure in deepest {
            switch failure.kind {
            case .unexpected(let word, let wanted):
                unexpectedWord = word
                expected += wanted
            case .missing(let wanted, let allowed):
                expected += wanted
                missingAllowed = allowed
            case .extra(let word):
                extraWord = word
            case .badValue:
                break
            }
        }
        expected = expected.reduce(into: []) { list, item in if !list.contains(item) { list.append(item) } }
        let choices = expected.count == 1 ? "expected: \(expected[0])" : "expected one of: " + expected.joined(separator: ", ")
        if let word = unexpectedWord {
            return "\(name): unknown \(quoted(word)); \(choices)"
        }
        if !expected.isEmpty {
            if expected.count == 1 {
                let allowed = missingAllowed.isEmpty ? "" : "; allowed: " + missingAllowed.joined(separator: ", ")
                return "\(name): missing \(expected[0])\(allowed)"
            }
            return "\(name): missing argument; \(choices)"
        }
        return "\(name): unexpected \(quoted(extraWord ?? "")) after the end of the command"
    }
}

/// A word of the user's line in an error, quoted; a huge one (a pasted 100 KB token) is cut,
/// so the error stays one readable line.
func quoted(_ word: String, limit: Int = 64) -> String {
    guard word.count > limit else { return "'\(word)'" }
    return "'\(word.prefix(limit))...' (\(word.utf8.count) bytes)"
}
