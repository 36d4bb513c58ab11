/// One counter as every view names it: a snake_case name (DPDK's xstats name where DPDK has the
/// counter, e.g. `rx_good_packets`), what it counts in words, the port side it counts on, and
/// where it is kept. Each component declares its counters once with these (the forward
/// counters, the engine counters, the vnet tap's); `show port xstats`, `show port stats`,
/// telemetry and the `stop` statistics render from those declarations.
public struct CounterDescriptor: Hashable, Sendable {
    /// snake_case: lower-case letters, digits and `_`, starting with a letter.
    public let name: String
    /// What it counts, in words.
    public let help: String
    public let side: CounterSide
    public let scope: CounterScope

    public init(_ name: String, _ help: String, side: CounterSide, scope: CounterScope) {
        self.name = name
        self.help = help
        self.side = side
        self.scope = scope
    }

    /// Whether `name` is snake_case as counter names must be.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first), !name.hasSuffix("_"), !name.contains("__") else {
            return false
        }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    /// Words or an identifier as a counter name: lower-cased, each run of other characters and
    /// each lower-to-upper case change one `_` ("header length too short" and
    /// "headerLengthTooShort" both give "header_length_too_short").
    public static func snakeCase(_ words: String) -> String {
        var name = ""
        var pendingSeparator = false
        var previousIsLower = false
        for scalar in words.unicodeScalars {
            if scalar.isASCII, scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) {
                let isUpper = scalar.properties.isUppercase
                if (pendingSeparator || (isUpper && previousIsLower)) && !name.isEmpty { name += "_" }
                pendingSeparator = false
                previousIsLower = !isUpper
                name.unicodeScalars.append(scalar)
            } else {
                pendingSeparator = true
                previousIsLower = false
            }
        }
        return name.lowercased()
    }
}

/// The port a counter is counted on: the rx port (what arrived) or the tx port (what left or
/// was asked to leave).
public enum CounterSide: String, Sendable { case rx, tx }

/// Where a counter is kept: in each stream (summed per port by its side), or by the port
/// itself (the NIC's counters, a tap's own).
public enum CounterScope: String, Sendable { case stream, port }

extension PortStats {
    /// DPDK's basic statistics (`struct rte_eth_stats`), named as ethdev's xstats name them
    /// (`eth_dev_stats_strings` in lib/ethdev/rte_ethdev.c).
    public enum Field: CaseIterable, Sendable {
        case rxPackets, txPackets, rxBytes, txBytes, rxMissed, rxErrors, txErrors, rxNoMbuf

        public var descriptor: CounterDescriptor {
            switch self {
            case .rxPackets: CounterDescriptor("rx_good_packets", "packets received", side: .rx, scope: .port)
            case .txPackets: CounterDescriptor("tx_good_packets", "packets sent", side: .tx, scope: .port)
            case .rxBytes: CounterDescriptor("rx_good_bytes", "bytes received", side: .rx, scope: .port)
            case .txBytes: CounterDescriptor("tx_good_bytes", "bytes sent", side: .tx, scope: .port)
            case .rxMissed: CounterDescriptor("rx_missed_errors", "packets the port dropped for want of room", side: .rx, scope: .port)
            case .rxErrors: CounterDescriptor("rx_errors", "erroneous packets received", side: .rx, scope: .port)
            case .txErrors: CounterDescriptor("tx_errors", "packets that failed to leave", side: .tx, scope: .port)
            case .rxNoMbuf: CounterDescriptor("rx_mbuf_allocation_errors", "receive mbuf allocation failures", side: .rx, scope: .port)
            }
        }
    }

    public subscript(field: Field) -> UInt64 {
        get {
            switch field {
            case .rxPackets: rxPackets
            case .txPackets: txPackets
            case .rxBytes: rxBytes
            case .txBytes: txBytes
            case .rxMissed: rxMissed
            case .rxErrors: rxErrors
            case .txErrors: txErrors
            case .rxNoMbuf: rxNoMbuf
            }
        }
        set {
            switch field {
            case .rxPackets: rxPackets = newValue
            case .txPackets: txPackets = newValue
            case .rxBytes: rxBytes = newValue
            case .txBytes: txBytes = newValue
            case .rxMissed: rxMissed = newValue
            case .rxErrors: rxErrors = newValue
            case .txErrors: txErrors = newValue
            case .rxNoMbuf: rxNoMbuf = newValue
            }
        }
    }
}
