// Parsed values of a command line's words, one per pattern token.

/// A port argument: `all`, or one port id.
public enum PortSelector: Equatable, Hashable, Sendable, CustomStringConvertible {
    case all
    case id(UInt16)

    public var description: String {
        switch self {
        case .all: "all"
        case .id(let id): String(id)
        }
    }
}

/// The value of an `hwsw` argument (hardware or software implementation of a feature).
public enum HwSw: String, Equatable, Sendable {
    case hw
    case sw
}

/// One matched token's value.
public enum ArgumentValue: Equatable, Sendable {
    /// A literal keyword, a chosen alternative or an enumerated value.
    case keyword(String)
    case uint(UInt)
    case uint16(UInt16)
    case int(Int)
    /// A `string` word or the `rest` of the line.
    case string(String)
    case port(PortSelector)
    case bool(Bool)
    case hwsw(HwSw)

    var kind: String {
        switch self {
        case .keyword: "keyword"
        case .uint: "uint"
        case .uint16: "uint16"
        case .int: "int"
        case .string: "string"
        case .port: "port"
        case .bool: "onoff"
        case .hwsw: "hwsw"
        }
    }
}
