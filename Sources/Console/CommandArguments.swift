// What a handler receives: the matched words, typed values by name, and the output.

/// A wrong lookup in a handler (a name not in the pattern, or the wrong accessor for its type).
/// It is a programming error, but reported like any command error instead of crashing.
public struct ArgumentLookupError: ConsoleError, Equatable {
    public let message: String
}

public struct CommandArguments {
    /// The command's name as typed: its leading literal words, e.g. "port start".
    public let commandName: String
    /// The pattern that matched.
    public let pattern: CommandPattern
    /// The line's words; `words[i]` matched `pattern.tokens[i]` (a `rest` token takes the remainder).
    public let words: [String]
    /// Where to print results.
    public let output: ConsoleOutput
    private let values: [ArgumentValue]

    init(commandName: String, pattern: CommandPattern, words: [String], values: [ArgumentValue], output: ConsoleOutput) {
        self.commandName = commandName
        self.pattern = pattern
        self.words = words
        self.values = values
        self.output = output
    }

    /// Writes one line to the console output.
    public func print(_ text: String = "") {
        output.line(text)
    }

    /// The value of the token named `name` (a placeholder or a `name=a|b` group), or nil.
    public func value(_ name: String) -> ArgumentValue? {
        guard let index = index(of: name) else { return nil }
        return values[index]
    }

    /// The literal word or alternative chosen at pattern position `index` (0-based).
    public func keyword(at index: Int) throws(ArgumentLookupError) -> String {
        guard pattern.tokens.indices.contains(index), case .keyword(let word) = values[index] else {
            throw ArgumentLookupError(message: "no keyword at position \(index) of '\(pattern)'")
        }
        return word
    }

    /// The chosen word of a `name=a|b` group or an enumerated `<name:a|b>` placeholder.
    public func keyword(_ name: String) throws(ArgumentLookupError) -> String {
        guard case .keyword(let word) = try lookup(name, "keyword") else { throw mismatch(name, "keyword") }
        return word
    }

    /// An enumerated value converted to the caller's enum, e.g. `args.choice("mode", as: FwdMode.self)`.
    public func choice<T: RawRepresentable>(_ name: String, as type: T.Type) throws(ArgumentLookupError) -> T
    where T.RawValue == String {
        let word = try keyword(name)
        guard let value = T(rawValue: word) else {
            throw ArgumentLookupError(message: "'\(word)' is not a \(T.self)")
        }
        return value
    }

    public func uint(_ name: String) throws(ArgumentLookupError) -> UInt {
        switch try lookup(name, "uint") {
        case .uint(let value): return value
        case .uint16(let value): return UInt(value)
        default: throw mismatch(name, "uint")
        }
    }

    public func uint16(_ name: String) throws(ArgumentLookupError) -> UInt16 {
        guard case .uint16(let value) = try lookup(name, "uint16") else { throw mismatch(name, "uint16") }
        return value
    }

    public func int(_ name: String) throws(ArgumentLookupError) -> Int {
        guard case .int(let value) = try lookup(name, "int") else { throw mismatch(name, "int") }
        return value
    }

    /// A `string` word or `rest` text; also returns the word of any keyword-valued token.
    public func string(_ name: String) throws(ArgumentLookupError) -> String {
        switch try lookup(name, "string") {
        case .string(let text), .keyword(let text): return text
        default: throw mismatch(name, "string")
        }
    }

    public func port(_ name: String) throws(ArgumentLookupError) -> PortSelector {
        guard case .port(let port) = try lookup(name, "port") else { throw mismatch(name, "port") }
        return port
    }

    /// An `onoff` value.
    public func bool(_ name: String) throws(ArgumentLookupError) -> Bool {
        guard case .bool(let flag) = try lookup(name, "onoff") else { throw mismatch(name, "onoff") }
        return flag
    }

    public func hwsw(_ name: String) throws(ArgumentLookupError) -> HwSw {
        guard case .hwsw(let mode) = try lookup(name, "hwsw") else { throw mismatch(name, "hwsw") }
        return mode
    }

    private func index(of name: String) -> Int? {
        pattern.tokens.firstIndex { token in
            switch token {
            case .placeholder(let tokenName, _), .alternatives(let tokenName?, _): tokenName == name
            default: false
            }
        }
    }

    private func lookup(_ name: String, _ wanted: String) throws(ArgumentLookupError) -> ArgumentValue {
        guard let value = value(name) else {
            throw ArgumentLookupError(message: "no argument <\(name)> in '\(pattern)' (asked for \(wanted))")
        }
        return value
    }

    private func mismatch(_ name: String, _ wanted: String) -> ArgumentLookupError {
        ArgumentLookupError(message: "<\(name)> is a \(value(name)?.kind ?? "?"), not a \(wanted)")
    }
}
