import CDPDK
import DPDK

/// The options of ports and RSS (testpmd's --portmask, --nb-ports, --rss-ip, --rss-udp,
/// --disable-rss) and --record-burst-stats, as rows of the option table.
extension OptionSpec {
    public static let portmask = bitmask(
        "portmask", key: "portmask", argument: "PORTMASK", of: "port ids, bit N for port N (e.g. 0x3)",
        default: "every port", help: "ports that forward (the others are started but get no streams)"
    ) { $0.portMask = $1 }
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
    public static let numaMode = flag(
        "numa", key: "numa", means: true, default: "on",
        help: "NUMA mode (the default; undoes --no-numa): an mbuf pool per socket of the ports, rings on each port's socket"
    ) { if $1 { $0.numa = true } }
    public static let coremask = bitmask(
        "coremask", key: "coremask", argument: "COREMASK", of: "worker lcores, bit N for lcore N (e.g. 0x6)",
        default: "every worker lcore", help: "the lcores that forward (EAL's lcores but the main one)"
    ) { $0.coreMask = $1 }
    public static let portNUMAConfig = OptionSpec(
        name: "port-numa-config", key: "port_numa_config", section: .forwarding, shape: .scalar, argument: "(port,socket)[,(port,socket)]",
        flagValue: nil, allowed: "(port,socket)[,(port,socket)]: a port's mbuf pool on that socket, e.g. (0,0),(1,1)", range: nil,
        current: nil, default: "each port's own socket", help: "the socket of a port's mbuf pool (NUMA mode)"
    ) { text, label throws(OptionError) in
        let tuples = try NUMATuples.parse(text, fields: 2, option: label,
                                          allowed: "(port,socket)[,(port,socket)]: a port's mbuf pool on that socket, e.g. (0,0),(1,1)")
        return { options in for tuple in tuples { options.portSockets[UInt16(tuple[0])] = Int32(tuple[1]) } }
    }
    public static let ringNUMAConfig = OptionSpec(
        name: "ring-numa-config", key: "ring_numa_config", section: .forwarding, shape: .scalar,
        argument: "(port,flag,socket)[,...]", flagValue: nil,
        allowed: "(port,flag,socket)[,(port,flag,socket)]: flag 1 rx rings, 2 tx rings, 3 both, e.g. (0,3,1)", range: nil,
        current: nil, default: "each port's own socket", help: "the socket of a port's rx and/or tx rings (NUMA mode)"
    ) { text, label throws(OptionError) in
        let allowed = "(port,flag,socket)[,(port,flag,socket)]: flag 1 rx rings, 2 tx rings, 3 both, e.g. (0,3,1)"
        let tuples = try NUMATuples.parse(text, fields: 3, option: label, allowed: allowed)
        for tuple in tuples where !(1...3).contains(tuple[1]) {
            throw OptionError(option: label, value: text, allowed: allowed)
        }
        return { options in
            for tuple in tuples {
                if tuple[1] & 1 != 0 { options.rxRingSockets[UInt16(tuple[0])] = Int32(tuple[2]) }
                if tuple[1] & 2 != 0 { options.txRingSockets[UInt16(tuple[0])] = Int32(tuple[2]) }
            }
        }
    }
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

extension OptionSpec {
    /// A non-zero hexadecimal bitmask (`0x` optional), testpmd's --portmask and --coremask.
    static func bitmask(
        _ name: String, key: String, argument: String, of what: String, default defaultText: String, help: String,
        set: @escaping @Sendable (inout ForwardingOptions, UInt64) -> Void
    ) -> OptionSpec {
        OptionSpec(
            name: name, key: key, section: .forwarding, shape: .scalar, argument: argument, flagValue: nil,
            allowed: "a hexadecimal bitmask of \(what)", range: nil, current: nil, default: defaultText, help: help
        ) { text, label throws(OptionError) in
            let digits = text.lowercased().hasPrefix("0x") ? String(text.dropFirst(2)) : text
            guard !digits.isEmpty, let mask = UInt64(digits, radix: 16), mask != 0 else {
                throw OptionError(option: label, value: text, allowed: "a non-zero hexadecimal bitmask of \(what)")
            }
            return { set(&$0, mask) }
        }
    }
}

/// testpmd's `(a,b)[,(a,b)]` lists of --port-numa-config and --ring-numa-config.
enum NUMATuples {
    static func parse(_ text: String, fields: Int, option: String, allowed: String) throws(OptionError) -> [[Int]] {
        var tuples: [[Int]] = []
        var rest = Substring(text.filter { $0 != " " })
        while !rest.isEmpty {
            guard rest.first == "(", let close = rest.firstIndex(of: ")") else {
                throw OptionError(option: option, value: text, allowed: allowed)
            }
            let numbers = rest[rest.index(after: rest.startIndex)..<close].split(separator: ",", omittingEmptySubsequences: false)
                .map { Int($0) }
            guard numbers.count == fields, numbers.allSatisfy({ $0 != nil && $0! >= 0 }),
                numbers[0]! < Int(CDPDK_MAX_ETHPORTS), numbers[fields - 1]! < Int(CDPDK_MAX_NUMA_NODES)
            else { throw OptionError(option: option, value: text, allowed: allowed) }
            tuples.append(numbers.map { $0! })
            rest = rest[rest.index(after: close)...]
            if rest.first == "," { rest = rest.dropFirst() }
        }
        guard !tuples.isEmpty else { throw OptionError(option: option, value: text, allowed: allowed) }
        return tuples
    }
}

extension ForwardingOptions {
    /// The socket of the main mbuf pool (the one taps, engines and UMA mode use):
    /// --socket-num's, else 0.
    var memorySocket: Int32 { Int32(socketNumber ?? 0) }

    /// The socket of a port's rx mbufs: in NUMA mode --port-numa-config's, else the port's own
    /// (a vdev or tap has none: 0, as testpmd); with --no-numa, `memorySocket`.
    public func poolSocket(of port: Port) -> Int32 {
        guard numa else { return memorySocket }
        if let socket = portSockets[port.id] { return socket }
        return max(port.socket, 0)
    }

    /// The socket of a port's rx or tx rings: --ring-numa-config's, else as its pool's.
    public func ringSocket(of port: Port, _ direction: RingDirection) -> Int32 {
        if numa, let socket = (direction == .rx ? rxRingSockets : txRingSockets)[port.id] { return socket }
        return poolSocket(of: port)
    }

    public enum RingDirection { case rx, tx }

    /// --coremask names worker lcores only (testpmd's set_fwd_lcores_mask); after EAL init.
    func validateCoreMask(workers: [Lcore]) throws(OptionError) {
        guard let coreMask else { return }
        let named = (0..<64).filter { coreMask & (1 << UInt64($0)) != 0 }
        let ids = workers.map { Int($0.id) }
        guard named.allSatisfy(ids.contains) else {
            throw OptionError(
                option: OptionSpec.coremask.name, value: "0x" + String(coreMask, radix: 16),
                allowed: "a mask of worker lcores: \(ids.map(String.init).joined(separator: ", ")) (EAL's lcores but the main one)")
        }
    }

    /// --socket-num names a socket EAL found (testpmd's new_socket_id check); after EAL init.
    func validateSocket() throws(OptionError) {
        let sockets = (0..<rte_socket_count()).map { rte_socket_id_by_idx($0) }
        let found = "\(sockets.map(String.init).joined(separator: ", ")) (the sockets EAL found)"
        if let socketNumber, !sockets.contains(Int32(socketNumber)) {
            throw OptionError(option: OptionSpec.socketNum.name, value: "\(socketNumber)", allowed: found)
        }
        for (option, table) in [(OptionSpec.portNUMAConfig.name, portSockets), (OptionSpec.ringNUMAConfig.name, rxRingSockets),
                                (OptionSpec.ringNUMAConfig.name, txRingSockets)] {
            for (port, socket) in table.sorted(by: { $0.key < $1.key }) where !sockets.contains(socket) {
                throw OptionError(option: option, value: "port \(port) on socket \(socket)", allowed: found)
            }
        }
    }
}
