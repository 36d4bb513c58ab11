// Command patterns: the grammar text a command is registered with, parsed into tokens.
//
//   keyword              a literal word:                 show
//   a|b|c                literal alternatives:           info|stats|xstats
//   name=a|b|c           named alternatives:             action=start|stop
//   <name:type>          typed placeholder:              <level:uint>  <udp_port:uint16>
//   <name:type:lo-hi>    numeric range (uint/uint16/int) <n:uint:1-512>
//   <name:a|b>           enumerated value:               <mode:io|mac>
//   <name>               type `name` if it is a type name (<port>), else a string
//   <name:rest>          the remaining text, last token only

/// One token of a command pattern.
public enum PatternToken: Equatable, Sendable, CustomStringConvertible {
    case keyword(String)
    /// Literal alternatives; `name` (from `name=a|b`) lets the handler fetch the chosen word by name.
    case alternatives(name: String?, words: [String])
    case placeholder(name: String, type: ArgumentType)

    /// Literal tokens identify the command; placeholders carry values.
    var isLiteral: Bool {
        if case .placeholder = self { return false }
        return true
    }

    /// The words this literal token accepts (empty for placeholders).
    var literalWords: [String] {
        switch self {
        case .keyword(let word): [word]
        case .alternatives(_, let words): words
        case .placeholder: []
        }
    }

    /// The canonical spelling, as shown in help: the `name=` of alternatives is left out,
    /// and `<port>` stays short when the type is implied by the name.
    public var description: String {
        switch self {
        case .keyword(let word): word
        case .alternatives(_, let words): words.joined(separator: "|")
        case .placeholder(let name, let type):
            if (ArgumentType.implied(byName: name) ?? .string) == type { "<\(name)>" } else { "<\(name):\(type.spelling)>" }
        }
    }
}

/// A malformed pattern or a conflicting registration, reported when the command is registered.
public struct PatternError: Error, Equatable, CustomStringConvertible {
    public let pattern: String
    public let reason: String

    public var description: String { "bad command pattern '\(pattern)': \(reason)" }
}

/// A parsed command pattern.
public struct CommandPattern: Equatable, Sendable, CustomStringConvertible {
    public let tokens: [PatternToken]

    public init(parsing text: String) throws(PatternError) {
        func fail(_ reason: String) -> PatternError { PatternError(pattern: text, reason: reason) }
        let words = text.split(whereSeparator: \.isWhitespace).map(String.init)
        guard !words.isEmpty else { throw fail("empty pattern") }
        var tokens: [PatternToken] = []
        var names: Set<String> = []
        for (index, word) in words.enumerated() {
            let token = try Self.parseToken(word, fail: fail)
            switch token {
            case .placeholder(let name, let type):
                if index == 0 { throw fail("must start with a keyword, not <\(name)>") }
                if type == .rest && index != words.count - 1 { throw fail("<\(name):rest> must be the last token") }
                if !names.insert(name).inserted { throw fail("duplicate argument name '\(name)'") }
            case .alternatives(let name?, _):
                if !names.insert(name).inserted { throw fail("duplicate argument name '\(name)'") }
            default:
                break
            }
            tokens.append(token)
        }
        self.tokens = tokens
    }

    init(tokens: [PatternToken]) {
        self.tokens = tokens
    }

    public var description: String { tokens.map(\.description).joined(separator: " ") }

    /// How many tokens from the start are literal: they name the command in messages.
    var literalPrefixCount: Int { tokens.firstIndex { !$0.isLiteral } ?? tokens.count }

    private static func parseToken(_ word: String, fail: (String) -> PatternError) throws(PatternError) -> PatternToken {
        if word.hasPrefix("<") {
            guard word.hasSuffix(">"), word.count > 2 else { throw fail("unclosed or empty placeholder '\(word)'") }
            return try parsePlaceholder(String(word.dropFirst().dropLast()), fail: fail)
        }
        if word.contains(where: { "<>".contains($0) }) { throw fail("stray '<' or '>' in '\(word)'") }
        var name: String?
        var body = Substring(word)
        if let equals = word.firstIndex(of: "=") {
            let label = String(word[..<equals])
            guard isIdentifier(label) else { throw fail("bad alternative group name '\(label)' in '\(word)'") }
            name = label
            body = word[word.index(after: equals)...]
        }
        let choices = try parseChoices(body, in: word, fail: fail)
        if name == nil && choices.count == 1 { return .keyword(choices[0]) }
        return .alternatives(name: name, words: choices)
    }

    private static func parsePlaceholder(_ inner: String, fail: (String) -> PatternError) throws(PatternError) -> PatternToken {
        let parts = inner.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        let name = parts[0]
        guard isIdentifier(name) else { throw fail("bad argument name '\(name)' in <\(inner)>") }
        guard parts.count > 1 else {
            return .placeholder(name: name, type: ArgumentType.implied(byName: name) ?? .string)
        }
        let typeName = parts[1]
        let range = parts.count > 2 ? parts[2] : nil
        if typeName.contains("|") {
            if range != nil { throw fail("a range only applies to numbers, in <\(inner)>") }
            let values = try parseChoices(Substring(typeName), in: "<\(inner)>", fail: fail)
            return .placeholder(name: name, type: .oneOf(values))
        }
        let type: ArgumentType
        switch typeName {
        case "uint": type = .uint(try range.map { r throws(PatternError) in try parseRange(r, { UInt($0) }, in: inner, fail: fail) })
        case "uint16": type = .uint16(try range.map { r throws(PatternError) in try parseRange(r, { UInt16($0) }, in: inner, fail: fail) })
        case "int": type = .int(try range.map { r throws(PatternError) in try parseRange(r, { Int($0) }, in: inner, fail: fail) })
        case "string", "port", "onoff", "hwsw", "rest":
            if range != nil { throw fail("a range only applies to numbers, in <\(inner)>") }
            type = ArgumentType.implied(byName: typeName) ?? .string
        default:
            throw fail("unknown type '\(typeName)' in <\(inner)>; known: \(ArgumentType.names.joined(separator: ", ")), or a|b|c")
        }
        return .placeholder(name: name, type: type)
    }

    /// `a|b|c`: non-empty, distinct words.
    private static func parseChoices(_ body: Substring, in word: String, fail: (String) -> PatternError) throws(PatternError) -> [String] {
        let choices = body.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        if choices.contains(where: \.isEmpty) { throw fail("empty alternative in '\(word)'") }
        if Set(choices).count != choices.count { throw fail("repeated alternative in '\(word)'") }
        if choices.contains(where: { $0.hasPrefix("#") }) { throw fail("a keyword cannot start with '#', in '\(word)'") }
        return choices
    }

    /// `lo-hi`, where either bound may be negative (`-10-10`) for int.
    private static func parseRange<T: Comparable>(
        _ text: String, _ make: (String) -> T?, in inner: String, fail: (String) -> PatternError
    ) throws(PatternError) -> ClosedRange<T> {
        let start = text.hasPrefix("-") ? text.index(after: text.startIndex) : text.startIndex
        guard let dash = text[start...].firstIndex(of: "-"),
              let low = make(String(text[..<dash])),
              let high = make(String(text[text.index(after: dash)...]))
        else { throw fail("bad range '\(text)' in <\(inner)>; expected lo-hi") }
        guard low <= high else { throw fail("empty range '\(text)' in <\(inner)>") }
        return low...high
    }

    private static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.first, first == "_" || (first.isASCII && first.isLetter) else { return false }
        return text.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
    }
}

extension ArgumentType {
    /// The type a bare `<name>` gets when `name` is itself a type name (`<port>`).
    static func implied(byName name: String) -> ArgumentType? {
        switch name {
        case "uint": .uint(nil)
        case "uint16": .uint16(nil)
        case "int": .int(nil)
        case "string": .string
        case "port": .port
        case "onoff": .onoff
        case "hwsw": .hwsw
        case "rest": .rest
        default: nil
        }
    }
}
