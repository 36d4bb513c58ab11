// The types a `<name:type>` placeholder can have, and how a typed word is parsed.

/// The value type of a placeholder in a command pattern.
public enum ArgumentType: Equatable, Sendable {
    /// Unsigned integer, decimal or 0x-hex, optionally limited to an inclusive range.
    case uint(ClosedRange<UInt>?)
    /// Unsigned 16-bit integer (0-65535), optionally narrowed further.
    case uint16(ClosedRange<UInt16>?)
    /// Signed integer, optionally limited to an inclusive range.
    case int(ClosedRange<Int>?)
    /// Any single word.
    case string
    /// One of a fixed set of words, e.g. `<mode:io|mac>`.
    case oneOf([String])
    /// A port id 0-65535 or the keyword `all`.
    case port
    /// `on` or `off`, as a Bool.
    case onoff
    /// `hw` or `sw`.
    case hwsw
    /// The rest of the line, verbatim; only valid as the last token.
    case rest

    /// Type names accepted after the colon; `<name>` alone uses the type named `name` if there is one.
    static let names = ["uint", "uint16", "int", "string", "port", "onoff", "hwsw", "rest"]

    /// The words completion can offer for this type (the fixed vocabulary, if any).
    var words: [String] {
        switch self {
        case .oneOf(let values): values
        case .port: ["all"]
        case .onoff: ["on", "off"]
        case .hwsw: ["hw", "sw"]
        default: []
        }
    }

    /// Whether a free value (not only `words`) is accepted, so completion should show a hint.
    var acceptsFreeValue: Bool {
        switch self {
        case .oneOf, .onoff, .hwsw: false
        default: true
        }
    }

    /// The type spelled as in a pattern, e.g. `uint:1-512` or `io|mac`.
    var spelling: String {
        switch self {
        case .uint(let range): "uint" + Self.rangeSuffix(range)
        case .uint16(let range): "uint16" + Self.rangeSuffix(range)
        case .int(let range): "int" + Self.rangeSuffix(range)
        case .string: "string"
        case .oneOf(let values): values.joined(separator: "|")
        case .port: "port"
        case .onoff: "onoff"
        case .hwsw: "hwsw"
        case .rest: "rest"
        }
    }

    private static func rangeSuffix<T>(_ range: ClosedRange<T>?) -> String {
        guard let range else { return "" }
        return ":\(range.lowerBound)-\(range.upperBound)"
    }
}

/// Why a word is not a valid value for a placeholder.
enum ValueProblem: Error, Equatable {
    /// Not of the expected shape; `expectation` says what was wanted ("allowed: io, mac").
    case malformed(expectation: String)
    /// A number outside the allowed range, shown as `lo-hi`.
    case outOfRange(String)
}

extension ArgumentType {
    /// Parses one word (or, for `.rest`, the remaining text) as a value of this type.
    func parse(_ word: String) -> Result<ArgumentValue, ValueProblem> {
        switch self {
        case .uint(let range):
            let limits = range ?? 0...UInt.max
            guard let value = Self.parseUnsigned(word) else {
                return Self.isUnsignedShape(word)
                    ? .failure(.outOfRange(Self.describe(limits))) : .failure(.malformed(expectation: "expected an unsigned integer"))
            }
            guard limits.contains(value) else { return .failure(.outOfRange(Self.describe(limits))) }
            return .success(.uint(value))
        case .uint16(let range):
            let limits = range ?? 0...UInt16.max
            let wide = UInt(limits.lowerBound)...UInt(limits.upperBound)
            guard let value = Self.parseUnsigned(word) else {
                return Self.isUnsignedShape(word)
                    ? .failure(.outOfRange(Self.describe(wide))) : .failure(.malformed(expectation: "expected an unsigned integer"))
            }
            guard wide.contains(value) else { return .failure(.outOfRange(Self.describe(wide))) }
            return .success(.uint16(UInt16(value)))
        case .int(let range):
            let limits = range ?? Int.min...Int.max
            guard let value = Int(word) else {
                let digits = word.hasPrefix("-") || word.hasPrefix("+") ? word.dropFirst() : Substring(word)
                return !digits.isEmpty && digits.allSatisfy(\.isASCIIDigit)
                    ? .failure(.outOfRange(Self.describe(limits))) : .failure(.malformed(expectation: "expected an integer"))
            }
            guard limits.contains(value) else { return .failure(.outOfRange(Self.describe(limits))) }
            return .success(.int(value))
        case .string:
            return .success(.string(word))
        case .oneOf(let values):
            guard values.contains(word) else {
                return .failure(.malformed(expectation: "allowed: " + values.joined(separator: ", ")))
            }
            return .success(.keyword(word))
        case .port:
            if word == "all" { return .success(.port(.all)) }
            guard let value = Self.parseUnsigned(word) else {
                return Self.isUnsignedShape(word)
                    ? .failure(.outOfRange("0-65535")) : .failure(.malformed(expectation: "expected a port id or 'all'"))
            }
            guard let id = UInt16(exactly: value) else { return .failure(.outOfRange("0-65535")) }
            return .success(.port(.id(id)))
        case .onoff:
            switch word {
            case "on": return .success(.bool(true))
            case "off": return .success(.bool(false))
            default: return .failure(.malformed(expectation: "allowed: on, off"))
            }
        case .hwsw:
            guard let mode = HwSw(rawValue: word) else { return .failure(.malformed(expectation: "allowed: hw, sw")) }
            return .success(.hwsw(mode))
        case .rest:
            return .success(.string(word))
        }
    }

    /// Decimal or 0x-prefixed hex, no sign; nil when malformed or too large for UInt.
    static func parseUnsigned(_ word: String) -> UInt? {
        let lower = word.lowercased()
        if lower.hasPrefix("0x") {
            let hex = lower.dropFirst(2)
            guard !hex.isEmpty, hex.allSatisfy(\.isASCIIHexDigit) else { return nil }
            return UInt(hex, radix: 16)
        }
        guard !word.isEmpty, word.allSatisfy(\.isASCIIDigit) else { return nil }
        return UInt(word)
    }

    /// Looks like an unsigned number (so a parse failure means overflow, not a typo).
    private static func isUnsignedShape(_ word: String) -> Bool {
        let lower = word.lowercased()
        if lower.hasPrefix("0x") {
            let hex = lower.dropFirst(2)
            return !hex.isEmpty && hex.allSatisfy(\.isASCIIHexDigit)
        }
        return !word.isEmpty && word.allSatisfy(\.isASCIIDigit)
    }

    private static func describe<T>(_ range: ClosedRange<T>) -> String {
        "\(range.lowerBound)-\(range.upperBound)"
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
    var isASCIIHexDigit: Bool { isASCII && isHexDigit }
}
