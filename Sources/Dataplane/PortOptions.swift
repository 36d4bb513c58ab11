import CDPDK
import DPDK

/// The options of ports and RSS (testpmd's --portmask, --nb-ports, --rss-ip, --rss-udp,
/// --disable-rss) and --record-burst-stats, as rows of the option table.
extension OptionSpec {
    public static let portmask = OptionSpec(
        name: "portmask", key: "portmask", section: .forwarding, shape: .scalar, argument: "PORTMASK", flagValue: nil,
        allowed: "a hexadecimal bitmask of port ids, bit N for port N (e.g. 0x3)", range: nil, current: nil,
        default: "every port", help: "ports that forward (the others are started but get no streams)"
    ) { text, label throws(OptionError) in
        let digits = text.lowercased().hasPrefix("0x") ? String(text.dropFirst(2)) : text
        guard !digits.isEmpty, let mask = UInt64(digits, radix: 16), mask != 0 else {
            throw OptionError(option: label, value: text, allowed: "a non-zero hexadecimal bitmask of port ids, bit N for port N (e.g. 0x3)")
        }
        return { $0.portMask = mask }
    }
    public static let nbPorts = integer(
        "nb-ports", key: "nb_ports", range: 1...Int(CDPDK_MAX_ETHPORTS), default: "every port",
        help: "forwarding ports: the first N (of --portmask's)",
        get: { $0.forwardingPortCount }, set: { $0.forwardingPortCount = $1 })
    public static let rssIP = flag(
        "rss-ip", key: "rss_ip", means: true, default: "on: ip",
        help: "RSS hashes IPv4/IPv6 addresses (with --rxq > 1; testpmd's default)"
    ) { if $1 { $0.rssHashFunctions = RSSTypes.ip } }
    public static let rssUDP = flag(
        "rss-udp", key: "rss_udp", means: true, default: "off",
        help: "RSS hashes IPv4/IPv6 + UDP ports (with --rxq > 1)"
    ) { if $1 { $0.rssHashFunctions = RSSTypes.udp } }
    public static let disableRSS = flag(
        "disable-rss", key: "disable_rss", means: true, default: "off",
        help: "no RSS: rx queue 0 receives everything"
    ) { if $1 { $0.rssHashFunctions = 0 } }
    public static let noNUMA = flag(
        "no-numa", key: "numa", means: false, default: "numa: rings on each port's socket",
        help: "rx/tx rings on --socket-num's socket instead of each port's own (the mbuf pools always are)"
    ) { $0.numa = $1 }
    public static let socketNum = integer(
        "socket-num", key: "socket_num", range: 0...Int(CDPDK_MAX_NUMA_NODES) - 1, default: "0",
        help: "socket the mbuf pools (and with --no-numa the rings) are allocated on",
        get: { $0.socketNumber }, set: { $0.socketNumber = $1 })
    public static let recordBurstStats = flag(
        "record-burst-stats", key: "record_burst_stats", means: true, default: "off",
        help: "record rx/tx burst sizes; stop shows the most frequent per port"
    ) { $0.recordBurstStats = $1 }
}

extension ForwardingOptions {
    /// The ports that forward: those `portMask` names (all without one), the first
    /// `forwardingPortCount` of them.
    public func forwardingPorts(of ports: [Port]) throws(OptionError) -> [Port] {
        var selected = ports
        if let portMask {
            selected = ports.filter { $0.id < 64 && portMask & (1 << UInt64($0.id)) != 0 }
            guard !selected.isEmpty else {
                throw OptionError(
                    option: OptionSpec.portmask.name, value: "0x" + String(portMask, radix: 16),
                    allowed: "a mask naming at least one of ports \(ports.map { String($0.id) }.joined(separator: ", "))")
            }
        }
        if let count = forwardingPortCount {
            guard count <= selected.count else {
                throw OptionError(option: OptionSpec.nbPorts.name, value: "\(count)", allowed: "1-\(selected.count) (the ports that may forward)")
            }
            selected = Array(selected.prefix(count))
        }
        return selected
    }
}

extension ForwardingOptions {
    /// The socket of the mbuf pools: --socket-num's, else 0. (One pool for all ports: per-socket
    /// pools are not made yet.)
    var memorySocket: Int32 { Int32(socketNumber ?? 0) }
    /// The socket of the rx/tx rings: nil (each port's own) in NUMA mode, else `memorySocket`.
    var ringSocket: Int32? { numa ? nil : memorySocket }

    /// --socket-num names a socket EAL found (testpmd's new_socket_id check); after EAL init.
    func validateSocket() throws(OptionError) {
        guard let socketNumber else { return }
        let sockets = (0..<rte_socket_count()).map { rte_socket_id_by_idx($0) }
        guard sockets.contains(Int32(socketNumber)) else {
            throw OptionError(
                option: OptionSpec.socketNum.name, value: "\(socketNumber)",
                allowed: "\(sockets.map(String.init).joined(separator: ", ")) (the sockets EAL found)")
        }
    }
}
