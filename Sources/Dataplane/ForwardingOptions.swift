import Offload
import CDPDK
import DPDK
import VnetTap

/// Everything that shapes forwarding, with testpmd's defaults. Filled from the command line
/// (`-- --burst=64 ...`) or a config file; validated before any port is touched.
public struct ForwardingOptions: Equatable, Sendable {
    public var mode: ForwardingMode = .io
    public var topology: PortTopology = .paired
    /// Forwarding lcores to use (testpmd `--nb-cores`); nil: as many as there are streams and workers.
    public var forwardingCores: Int = 1
    public var rxQueues: UInt16 = 1
    public var txQueues: UInt16 = 1
    public var rxDescriptors: UInt16 = 1024
    public var txDescriptors: UInt16 = 1024
    public var burst: Int = 32
    /// Data room of each mbuf, headroom included (testpmd `--mbuf-size`).
    public var mbufSize: UInt16 = 2176
    /// Mbufs in the pool; nil: sized from ports, queues and descriptors as testpmd does.
    public var totalMbufs: UInt32? = nil
    /// Largest frame a port must receive; sets the MTU (max-pkt-len - 18), as testpmd.
    public var maxPacketLength: UInt32? = nil
    public var flushRxOnStart: Bool = true
    /// Microseconds a worker sleeps after 32 empty polls of all its streams; 0 (the default,
    /// as testpmd) polls without pause. On a machine short of cores a poll-mode worker otherwise
    /// starves the kernel it exchanges frames with (vnet taps, vhost peers).
    public var idleSleepMicroseconds: Int = 0
    /// Ask every port that can for TCP LRO on receive (testpmd `--enable-lro`).
    public var enableLRO: Bool = false
    /// Seconds between periodic statistics; 0: none.
    public var statsPeriod: Int = 0
    /// Stop forwarding and exit after this many seconds (non-interactive mode).
    public var stopAfter: Double? = nil
    /// Per-packet output (testpmd's `set verbose`): 0 off, 1 or more a line per received packet.
    public var verbose: Int = 0
    /// Ports with Swift GSO on from the start (`--gso-ports=0,1`, `all` or `none`); nil: every
    /// port, so a super-frame the egress port cannot segment is cut rather than dropped.
    public var gsoPorts: PortList? = nil
    /// Destination MAC address the mac and csum engines write, by tx port (testpmd's
    /// `--eth-peer`, `--eth-peers-configfile`, `set eth-peer`); other ports get
    /// `defaultPeer(of:)`.
    public var ethPeers: [UInt16: MACAddress] = [:]
    /// Kernel taps with the virtio-net header (`--vnet-tap`), numbered after the ethdev ports.
    public var vnetTaps: [TapOptions] = []
    /// GSO frame length, headers included (`--gso-segsz`, testpmd's `set gso segsz`).
    public var gsoSegmentSize: Int = 1514
    /// Ports that coalesce received TCP segments from the start (`--gro-ports`); nil: none.
    public var groPorts: PortList? = nil
    /// Receive coalescing's table, limits, flush rounds and checksum trust.
    public var coalescing = CoalescingOptions()
    /// RSS hash types asked of every port with more than one rx queue, masked by what each
    /// offers (testpmd's global rss_hf: IP by default; --rss-ip, --rss-udp, --disable-rss,
    /// `port config all rss`).
    public var rssHashFunctions: UInt64 = RSSTypes.ip
    /// Ports that forward (testpmd's --portmask, bit N for port N); nil: all of them.
    public var portMask: UInt64? = nil
    /// How many of those forward, the first ones (testpmd's --nb-ports and `set nbport`); nil: all.
    public var forwardingPortCount: Int? = nil
    /// Rx and tx burst sizes recorded per stream and shown at stop (--record-burst-stats).
    public var recordBurstStats = false
    /// Rings on each port's own socket (testpmd's NUMA mode, the default); false (--no-numa):
    /// everything on `socketNumber`.
    public var numa = true
    /// The socket the mbuf pools (and with --no-numa the rings) come from (--socket-num); nil: 0.
    public var socketNumber: Int? = nil
    /// What txonly, flowgen and tx_first generate.
    public var traffic = TrafficOptions()
    /// Lcores that forward (testpmd's --coremask, bit N for lcore N); nil: every worker.
    public var coreMask: UInt64? = nil
    /// NUMA mode overrides (testpmd's --port-numa-config, --ring-numa-config).
    public var portSockets: [UInt16: Int32] = [:]
    public var rxRingSockets: [UInt16: Int32] = [:]
    public var txRingSockets: [UInt16: Int32] = [:]

    public init() {}

    /// testpmd's default peer of a port: 02:00:00:00:00:<port id>.
    public static func defaultPeer(of port: UInt16) -> MACAddress {
        MACAddress(0x02, 0, 0, 0, 0, UInt8(truncatingIfNeeded: port))
    }

    /// The peer address frames leaving `port` are sent to.
    public func peer(of port: UInt16) -> MACAddress { ethPeers[port] ?? Self.defaultPeer(of: port) }

    /// Port ids testpmd's peer options accept: 0 to RTE_MAX_ETHPORTS - 1.
    public static let peerPorts = 0...Int(CDPDK_MAX_ETHPORTS) - 1
    public static let macFormat = "XX:XX:XX:XX:XX:XX (six hex pairs, e.g. 78:d4:f1:5a:8d:9d)"

    /// A peer address as testpmd writes it; the error names `option` and the format.
    public static func parseMAC(_ text: String, option: String) throws(OptionError) -> MACAddress {
        guard let mac = MACAddress(text) else { throw OptionError(option: option, value: text, allowed: macFormat) }
        return mac
    }

    /// `--eth-peer=N,XX:XX:XX:XX:XX:XX`.
    public static func parseEthPeer(_ text: String, option: String) throws(OptionError) -> (port: UInt16, mac: MACAddress) {
        let parts = text.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let port = Int(parts[0]), peerPorts.contains(port) else {
            throw OptionError(
                option: option, value: text,
                allowed: "<port>,<mac> with port \(peerPorts.lowerBound)-\(peerPorts.upperBound) and mac \(macFormat)")
        }
        return (UInt16(port), try parseMAC(String(parts[1]), option: option))
    }

    /// `all`, `none` or a comma-separated list of port ids.
    public enum PortList: Equatable, Sendable {
        case all
        case ids([UInt16])

        public static let allowed = "all, none, or port ids separated by commas (e.g. 0,1)"

        public static func parse(_ text: String, option: String) throws(OptionError) -> PortList {
            if text == "all" { return .all }
            if text == "none" { return .ids([]) }
            var ids: [UInt16] = []
            for part in text.split(separator: ",", omittingEmptySubsequences: false) {
                guard let id = UInt16(part) else {
                    throw OptionError(option: option, value: text, allowed: allowed)
                }
                ids.append(id)
            }
            return .ids(ids)
        }

        public func contains(_ id: UInt16) -> Bool {
            switch self {
            case .all: true
            case .ids(let ids): ids.contains(id)
            }
        }
    }

    public static var maxBurst: Int { OptionSpec.burst.range!.upperBound }

    /// Every forwarding option, in the order `--help`, the README and the config error list
    /// them: the command line, the config loader, `validate()` and the console read this table.
    public static let options: [OptionSpec] = [
        .forwardMode, .portTopology, .nbCores, .rxq, .txq, .rxd, .txd, .burst, .mbufSize, .totalNumMbufs, .maxPktLen,
        .noFlushRx, .verbose, .gsoPorts, .gsoSegsz, .vnetTap, .ethPeer, .ethPeersConfigfile, .idleSleepUs, .enableLRO,
        .groPorts, .groFlush, .groTimeoutUs, .groFlows, .groSegments, .groSize, .groVerify, .statsPeriod, .stopAfter,
        .portmask, .nbPorts, .rssIP, .rssUDP, .disableRSS, .recordBurstStats, .noNUMA, .numaMode, .socketNum,
        .coremask, .portNUMAConfig, .ringNUMAConfig,
        .txpkts, .txIP, .txUDP, .txFirst, .txonlyPcap, .flowgenClones, .flowgenFlows,
    ]

    /// The option `--name` (without the dashes).
    public static func option(named name: String) -> OptionSpec? { options.first { $0.name == name } }

    /// The option with config key `key` in `section`.
    public static func option(key: String, in section: OptionSpec.Section) -> OptionSpec? {
        options.first { $0.section == section && $0.key == key }
    }

    /// The config keys of `section`, as the config error lists them.
    public static func configKeys(in section: OptionSpec.Section) -> [String] {
        // --numa and --no-numa share `numa` (true or false).
        var seen = Set<String>()
        return options.filter { $0.section == section && seen.insert($0.key).inserted }.map(\.key)
    }

    /// Checks every range of the table and what ties options together; the error names the
    /// option and what is allowed, in the command line's words.
    public func validate() throws(OptionError) {
        for option in Self.options {
            guard let range = option.range, let value = option.current?(self), !range.contains(value) else { continue }
            throw OptionError(option: option.name, value: "\(value)", allowed: option.allowed)
        }
        guard txQueues >= rxQueues else {
            throw OptionError(
                option: "txq", value: "\(txQueues)", allowed: "at least --rxq (\(rxQueues)): each rx queue forwards to its own tx queue")
        }
        let dataRoom = Int(mbufSize) - Int(CDPDK_PKTMBUF_HEADROOM)
        if traffic.segmentLengths.contains(where: { Int($0) > dataRoom }) {
            throw OptionError(
                option: OptionSpec.txpkts.name, value: traffic.segmentLengths.map(String.init).joined(separator: ","),
                allowed: "segments of at most \(dataRoom) bytes (the mbuf data room; --mbuf-size less headroom)")
        }
        if traffic.split == .rand, Int(traffic.segmentLengths[0]) < TrafficOptions.headerLength {
            // txonly.c's tx_only_begin: a random split rewrites the lengths in the first segment.
            throw OptionError(
                option: OptionSpec.txpkts.name, value: traffic.segmentLengths.map(String.init).joined(separator: ","),
                allowed: "a first segment of at least \(TrafficOptions.headerLength) bytes while txsplit is rand")
        }
        if let stopAfter, !(stopAfter > 0) {
            throw OptionError(option: OptionSpec.stopAfter.name, value: "\(stopAfter)", allowed: OptionSpec.stopAfter.allowed)
        }
    }
}

/// One option: its name on the command line (`--name`), its config key (`section.key`), what
/// it allows (a range or words), its default and its help text, and how a value is read.
/// A bad value reads the same everywhere: `invalid <name> '<value>'; allowed: <allowed>`.
public struct OptionSpec: Sendable {
    public typealias Setter = @Sendable (inout ForwardingOptions) -> Void
    public typealias Parser = @Sendable (_ text: String, _ label: String) throws(OptionError) -> Setter

    /// The config file section the key lives in.
    public enum Section: String, Sendable { case forwarding, run }
    /// How the config file writes the value: one scalar, a list of values (each read as one
    /// command-line value), or a mapping (`k: v` read as the command-line value `k,v`).
    public enum Shape: Sendable { case scalar, list, mapping }

    /// On the command line, without the dashes.
    public let name: String
    /// In the config file, under `section`.
    public let key: String
    public let section: Section
    public let shape: Shape
    /// The value's placeholder in `--help` (`N`, `MODE`); nil: a flag.
    public let argument: String?
    /// For a flag: the value it stands for (the config key takes true or false).
    public let flagValue: String?
    /// What a bad value's error lists as allowed.
    public let allowed: String
    /// The integer range, for integer options (also the console's range).
    public let range: ClosedRange<Int>?
    /// A choice among words (`allowed` lists them).
    public let isChoice: Bool
    /// The integer the options hold, for `validate()`; nil where unset.
    public let current: (@Sendable (ForwardingOptions) -> Int?)?
    public let defaultText: String
    public let help: String
    let parser: Parser

    /// `section.key`, as config errors name it.
    public var configName: String { "\(section.rawValue).\(key)" }
    /// `--name=ARG` or `--name`.
    public var usage: String { "--" + name + (argument.map { "=" + $0 } ?? "") }

    /// Reads one value; the error names `label` (the option or `section.key`) and `allowed`.
    public func parse(_ text: String, as label: String) throws(OptionError) -> Setter {
        try parser(text, label)
    }

    public static func integer(
        _ name: String, key: String, section: Section = .forwarding, range: ClosedRange<Int>, default defaultText: String, help: String,
        get: @escaping @Sendable (ForwardingOptions) -> Int?, set: @escaping @Sendable (inout ForwardingOptions, Int) -> Void
    ) -> OptionSpec {
        let allowed = "\(range.lowerBound)-\(range.upperBound)"
        return OptionSpec(
            name: name, key: key, section: section, shape: .scalar, argument: "N", flagValue: nil, allowed: allowed, range: range,
            current: get, default: defaultText, help: help
        ) { text, label throws(OptionError) in
            guard let value = Int(text), range.contains(value) else { throw OptionError(option: label, value: text, allowed: allowed) }
            return { set(&$0, value) }
        }
    }

    /// A flag on the command line meaning `flagValue`; true or false in the config.
    public static func flag(
        _ name: String, key: String, means flagValue: Bool, default defaultText: String, help: String,
        set: @escaping @Sendable (inout ForwardingOptions, Bool) -> Void
    ) -> OptionSpec {
        OptionSpec(
            name: name, key: key, section: .forwarding, shape: .scalar, argument: nil, flagValue: "\(flagValue)",
            allowed: "true, false", range: nil, current: nil, default: defaultText, help: help
        ) { text, label throws(OptionError) in
            guard let value = parseBool(text) else { throw OptionError(option: label, value: text, allowed: "true, false") }
            return { set(&$0, value) }
        }
    }

    public static func choice<T: NamedChoice & Sendable>(
        _ name: String, key: String, argument: String, _ type: T.Type, default defaultText: String, help: String,
        set: @escaping @Sendable (inout ForwardingOptions, T) -> Void
    ) -> OptionSpec {
        OptionSpec(
            name: name, key: key, section: .forwarding, shape: .scalar, argument: argument, flagValue: nil, allowed: T.allowed,
            range: nil, isChoice: true, current: nil, default: defaultText, help: help
        ) { text, label throws(OptionError) in
            let value = try T.parse(text, option: label)
            return { set(&$0, value) }
        }
    }

    /// true/yes/on or false/no/off, any case.
    public static func parseBool(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true", "yes", "on": true
        case "false", "no", "off": false
        default: nil
        }
    }

    public static let forwardMode = choice(
        "forward-mode", key: "mode", argument: "MODE", ForwardingMode.self, default: "io", help: "forwarding engine"
    ) { $0.mode = $1 }
    public static let portTopology = choice(
        "port-topology", key: "topology", argument: "TOPOLOGY", PortTopology.self, default: "paired",
        help: "rx port to tx port: 0<->1 | 0->1->...->0 | i->i"
    ) { $0.topology = $1 }
    public static let nbCores = integer(
        "nb-cores", key: "nb_cores", range: 1...128, default: "1", help: "forwarding lcores",
        get: { $0.forwardingCores }, set: { $0.forwardingCores = $1 })
    public static let rxq = integer(
        "rxq", key: "rxq", range: 1...1024, default: "1", help: "rx queues per port",
        get: { Int($0.rxQueues) }, set: { $0.rxQueues = UInt16($1) })
    public static let txq = integer(
        "txq", key: "txq", range: 1...1024, default: "1", help: "tx queues per port (at least --rxq)",
        get: { Int($0.txQueues) }, set: { $0.txQueues = UInt16($1) })
    public static let rxd = integer(
        "rxd", key: "rxd", range: 1...65535, default: "1024", help: "descriptors per rx queue",
        get: { Int($0.rxDescriptors) }, set: { $0.rxDescriptors = UInt16($1) })
    public static let txd = integer(
        "txd", key: "txd", range: 1...65535, default: "1024", help: "descriptors per tx queue",
        get: { Int($0.txDescriptors) }, set: { $0.txDescriptors = UInt16($1) })
    public static let burst = integer(
        "burst", key: "burst", range: 1...512, default: "32", help: "packets per rx/tx burst",
        get: { $0.burst }, set: { $0.burst = $1 })
    public static let mbufSize = integer(
        "mbuf-size", key: "mbuf_size", range: 384...65535, default: "2176", help: "mbuf data room, headroom (128) included",
        get: { Int($0.mbufSize) }, set: { $0.mbufSize = UInt16($1) })
    public static let totalNumMbufs = integer(
        "total-num-mbufs", key: "total_num_mbufs", range: 1024...Int(UInt32.max), default: "sized from ports and queues",
        help: "mbufs in the pool", get: { $0.totalMbufs.map(Int.init) }, set: { $0.totalMbufs = UInt32($1) })
    public static let maxPktLen = integer(
        "max-pkt-len", key: "max_pkt_len", range: 64...65535, default: "the port's", help: "largest frame; MTU = N - 18",
        get: { $0.maxPacketLength.map(Int.init) }, set: { $0.maxPacketLength = UInt32($1) })
    public static let noFlushRx = flag(
        "no-flush-rx", key: "flush_rx", means: false, default: "flush", help: "do not drain rx queues before forwarding starts"
    ) { $0.flushRxOnStart = $1 }
    public static let verbose = integer(
        "verbose", key: "verbose", range: 0...Int(UInt32.max), default: "0",
        help: "per-packet output: 0 off, 1 or more a line per packet", get: { $0.verbose }, set: { $0.verbose = $1 })
    public static let gsoPorts = OptionSpec(
        name: "gso-ports", key: "gso_ports", section: .forwarding, shape: .scalar, argument: "LIST", flagValue: nil,
        allowed: ForwardingOptions.PortList.allowed, range: nil, current: nil, default: "all",
        help: "Swift GSO on these ports (all, none, or ids: 0,1): what a port cannot segment, Swift cuts"
    ) { text, label throws(OptionError) in
        let ports = try ForwardingOptions.PortList.parse(text, option: label)
        return { $0.gsoPorts = ports }
    }
    public static let gsoSegsz = integer(
        "gso-segsz", key: "gso_segsz", range: 256...9216, default: "1514", help: "GSO frame length, headers included",
        get: { $0.gsoSegmentSize }, set: { $0.gsoSegmentSize = $1 })
    public static let vnetTap = OptionSpec(
        name: "vnet-tap", key: "vnet_taps", section: .forwarding, shape: .list,
        argument: "name=T[,netns=NS][,offloads=tso,uso,tunnel,tunnel-csum]", flagValue: nil,
        allowed: "name=T[,netns=NS][,offloads=tso,uso,tunnel,tunnel-csum]", range: nil, current: nil, default: "none",
        help: "attach an existing kernel tap with the virtio-net header as a port (repeatable; numbered after the ethdev ports)"
    ) { text, label throws(OptionError) in
        let tap: TapOptions
        do { tap = try TapOptions(parsing: text) } catch { throw OptionError(option: label, value: text, allowed: "\(error)") }
        return { $0.vnetTaps.append(tap) }
    }
    public static let ethPeer = OptionSpec(
        name: "eth-peer", key: "eth_peers", section: .forwarding, shape: .mapping, argument: "N,XX:XX:XX:XX:XX:XX", flagValue: nil,
        allowed: "<port>,<mac> with port \(ForwardingOptions.peerPorts.lowerBound)-\(ForwardingOptions.peerPorts.upperBound) "
            + "and mac \(ForwardingOptions.macFormat)",
        range: nil, current: nil, default: "02:00:00:00:00:<N>",
        help: "destination MAC the mac and csum engines write on port N (repeatable)"
    ) { text, label throws(OptionError) in
        let peer = try ForwardingOptions.parseEthPeer(text, option: label)
        return { $0.ethPeers[peer.port] = peer.mac }
    }
    public static let ethPeersConfigfile = OptionSpec(
        name: "eth-peers-configfile", key: "eth_peers_configfile", section: .forwarding, shape: .scalar, argument: "FILE",
        flagValue: nil, allowed: "a readable file", range: nil, current: nil, default: "none",
        help: "peer MACs, one a line: line 1 for port 0, line 2 for port 1, ..."
    ) { text, label throws(OptionError) in
        let peers = try ForwardingOptions.readEthPeers(path: text, option: label)
        return { $0.ethPeers.merge(peers) { $1 } }
    }
    public static let groPorts = OptionSpec(
        name: "gro-ports", key: "gro_ports", section: .forwarding, shape: .scalar, argument: "LIST", flagValue: nil,
        allowed: ForwardingOptions.PortList.allowed, range: nil, current: nil, default: "none",
        help: "receive coalescing (GRO) of TCP segments arriving on these ports (all, none, or ids: 0,1)"
    ) { text, label throws(OptionError) in
        let ports = try ForwardingOptions.PortList.parse(text, option: label)
        return { $0.groPorts = ports }
    }
    public static let groFlush = integer(
        "gro-flush", key: "gro_flush", range: CoalescingOptions.flushRange, default: "0: by timeout only",
        help: "every N poll rounds GRO flushes all flows (testpmd's set gro flush; 1: every poll)",
        get: { $0.coalescing.flushRounds }, set: { $0.coalescing.flushRounds = $1 })
    public static let groTimeoutUs = integer(
        "gro-timeout-us", key: "gro_timeout_us", range: CoalescingOptions.timeoutRange, default: "50",
        help: "microseconds a GRO flow waits for its next segment (0: it leaves at the end of the poll)",
        get: { $0.coalescing.timeoutMicroseconds }, set: { $0.coalescing.timeoutMicroseconds = $1 })
    public static let groFlows = integer(
        "gro-flows", key: "gro_flows", range: CoalescingOptions.flowRange, default: "64",
        help: "flows GRO holds per stream; a full table flushes its oldest",
        get: { $0.coalescing.flows }, set: { $0.coalescing.flows = $1 })
    public static let groSegments = integer(
        "gro-segments", key: "gro_segments", range: CoalescingOptions.segmentRange, default: "44",
        help: "segments per GRO super-frame at most", get: { $0.coalescing.segments }, set: { $0.coalescing.segments = $1 })
    public static let groSize = integer(
        "gro-size", key: "gro_size", range: CoalescingOptions.sizeRange, default: "65535",
        help: "bytes of a GRO super-frame's outermost IP packet at most",
        get: { $0.coalescing.size }, set: { $0.coalescing.size = $1 })
    public static let groVerify = choice(
        "gro-verify", key: "gro_verify", argument: "MODE", CoalescingOptions.Verification.self, default: "trust",
        help: "checksums GRO checks before merging: trust (the port's good verdicts count) or verify (Swift sums all)"
    ) { $0.coalescing.verification = $1 }
    public static let idleSleepUs = integer(
        "idle-sleep-us", key: "idle_sleep_us", range: 0...100_000, default: "0: busy poll",
        help: "a worker sleeps N us after 32 empty polls", get: { $0.idleSleepMicroseconds }, set: { $0.idleSleepMicroseconds = $1 })
    public static let enableLRO = flag(
        "enable-lro", key: "enable_lro", means: true, default: "off",
        help: "TCP LRO on every port that offers it (virtio ports have it by default)"
    ) { $0.enableLRO = $1 }
    public static let statsPeriod = integer(
        "stats-period", key: "stats_period", section: .run, range: 0...86_400, default: "0: none",
        help: "print port statistics every N seconds (non-interactive)", get: { $0.statsPeriod }, set: { $0.statsPeriod = $1 })
    public static let stopAfter = OptionSpec(
        name: "stop-after", key: "stop_after", section: .run, shape: .scalar, argument: "SECONDS", flagValue: nil,
        allowed: "a positive number of seconds", range: nil, current: nil, default: "run until a signal",
        help: "stop forwarding and exit after SECONDS (non-interactive)"
    ) { text, label throws(OptionError) in
        guard let seconds = Double(text), seconds > 0 else {
            throw OptionError(option: label, value: text, allowed: "a positive number of seconds")
        }
        return { $0.stopAfter = seconds }
    }

    init(
        name: String, key: String, section: Section, shape: Shape, argument: String?, flagValue: String?, allowed: String,
        range: ClosedRange<Int>?, isChoice: Bool = false, current: (@Sendable (ForwardingOptions) -> Int?)?, default defaultText: String,
        help: String, parser: @escaping Parser
    ) {
        self.name = name
        self.key = key
        self.section = section
        self.shape = shape
        self.argument = argument
        self.flagValue = flagValue
        self.allowed = allowed
        self.range = range
        self.isChoice = isChoice
        self.current = current
        self.defaultText = defaultText
        self.help = help
        self.parser = parser
    }
}

/// A bad option or config value: which, what was given, what is allowed.
public struct OptionError: Error, CustomStringConvertible, Equatable, Sendable {
    public var option: String
    public var value: String
    public var allowed: String
    public var location: String?

    public init(option: String, value: String, allowed: String, location: String? = nil) {
        self.option = option
        self.value = value
        self.allowed = allowed
        self.location = location
    }

    public var description: String {
        let prefix = location.map { "\($0): " } ?? ""
        return "\(prefix)invalid \(option) '\(value)'; allowed: \(allowed)"
    }
}

/// The forwarding engines, by testpmd's names.
/// A choice among named values, parsed with an error that lists them.
public protocol NamedChoice: RawRepresentable, CaseIterable where RawValue == String {}

extension NamedChoice {
    public static var allowed: String { allCases.map(\.rawValue).joined(separator: ", ") }

    public static func parse(_ text: String, option: String) throws(OptionError) -> Self {
        guard let value = Self(rawValue: text) else { throw OptionError(option: option, value: text, allowed: allowed) }
        return value
    }
}

extension CoalescingOptions.Verification: NamedChoice {}

public enum ForwardingMode: String, NamedChoice, Sendable {
    case io
    case mac
    /// Checksums and software GSO for tunnelled traffic (testpmd's csum, done right).
    case csum
    /// Receive and free (testpmd's rxonly).
    case rxonly
    /// Generate UDP frames, receive nothing (testpmd's txonly).
    case txonly
    /// Swap source and destination MAC (testpmd's macswap).
    case macswap
    /// Receive and free, generate frames to many destinations (testpmd's flowgen).
    case flowgen
    /// Swap MACs, IP addresses and TCP/UDP ports (testpmd's 5tswap).
    case fiveTupleSwap = "5tswap"
}

/// How rx ports map to tx ports (testpmd `--port-topology`).
public enum PortTopology: String, NamedChoice, Sendable {
    /// 0<->1, 2<->3, ...
    case paired
    /// 0->1->2->...->0
    case chained
    /// every port to itself
    case loop

    /// The tx port index for rx port index `index` of `count` ports. As testpmd, an odd port
    /// out in paired mode forwards to itself.
    public func peer(of index: Int, count: Int) -> Int {
        switch self {
        case .paired:
            if index & 1 == 1 { return index - 1 }
            return index + 1 < count ? index + 1 : index
        case .chained: return (index + 1) % count
        case .loop: return index
        }
    }
}
