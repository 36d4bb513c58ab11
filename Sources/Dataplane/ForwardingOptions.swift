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

        public static func parse(_ text: String, option: String) throws(OptionError) -> PortList {
            if text == "all" { return .all }
            if text == "none" { return .ids([]) }
            var ids: [UInt16] = []
            for part in text.split(separator: ",", omittingEmptySubsequences: false) {
                guard let id = UInt16(part) else {
                    throw OptionError(option: option, value: text, allowed: "all, none, or port ids separated by commas (e.g. 0,1)")
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

    public static let maxBurst = 512

    /// The integer options, one row each for the command line (`--name=N`) and the config file
    /// (`forwarding.key` or `run.key`), so both accept and reject the same values.
    public struct IntegerOption: Sendable {
        public let commandLineName: String
        /// `forwarding` or `run`.
        public let configSection: String
        public let configKey: String
        public let range: ClosedRange<Int>
        public let apply: @Sendable (inout ForwardingOptions, Int) -> Void

        public static func configKey(_ key: String, in section: String) -> IntegerOption? {
            integerOptions.first { $0.configSection == section && $0.configKey == key }
        }
    }

    public static let integerOptions: [IntegerOption] = [
        IntegerOption(commandLineName: "nb-cores", configSection: "forwarding", configKey: "nb_cores", range: 1...128) { $0.forwardingCores = $1 },
        IntegerOption(commandLineName: "rxq", configSection: "forwarding", configKey: "rxq", range: 1...1024) { $0.rxQueues = UInt16($1) },
        IntegerOption(commandLineName: "txq", configSection: "forwarding", configKey: "txq", range: 1...1024) { $0.txQueues = UInt16($1) },
        IntegerOption(commandLineName: "rxd", configSection: "forwarding", configKey: "rxd", range: 1...65535) { $0.rxDescriptors = UInt16($1) },
        IntegerOption(commandLineName: "txd", configSection: "forwarding", configKey: "txd", range: 1...65535) { $0.txDescriptors = UInt16($1) },
        IntegerOption(commandLineName: "burst", configSection: "forwarding", configKey: "burst", range: 1...maxBurst) { $0.burst = $1 },
        IntegerOption(commandLineName: "mbuf-size", configSection: "forwarding", configKey: "mbuf_size", range: 384...65535) { $0.mbufSize = UInt16($1) },
        IntegerOption(commandLineName: "total-num-mbufs", configSection: "forwarding", configKey: "total_num_mbufs", range: 1024...Int(UInt32.max)) {
            $0.totalMbufs = UInt32($1)
        },
        IntegerOption(commandLineName: "max-pkt-len", configSection: "forwarding", configKey: "max_pkt_len", range: 64...65535) {
            $0.maxPacketLength = UInt32($1)
        },
        IntegerOption(commandLineName: "gso-segsz", configSection: "forwarding", configKey: "gso_segsz", range: 256...9216) {
            $0.gsoSegmentSize = $1
        },
        IntegerOption(commandLineName: "idle-sleep-us", configSection: "forwarding", configKey: "idle_sleep_us", range: 0...100_000) {
            $0.idleSleepMicroseconds = $1
        },
        IntegerOption(commandLineName: "verbose", configSection: "forwarding", configKey: "verbose", range: 0...Int(UInt32.max)) { $0.verbose = $1 },
        IntegerOption(commandLineName: "stats-period", configSection: "run", configKey: "stats_period", range: 0...86_400) { $0.statsPeriod = $1 },
    ]

    /// Checks ranges that do not need the ports; the error names the option and what is allowed.
    public func validate() throws(OptionError) {
        guard (1...Self.maxBurst).contains(burst) else {
            throw OptionError(option: "burst", value: "\(burst)", allowed: "1-\(Self.maxBurst)")
        }
        guard forwardingCores >= 1 else {
            throw OptionError(option: "nb-cores", value: "\(forwardingCores)", allowed: "1 or more")
        }
        guard rxQueues >= 1, rxQueues <= 1024 else {
            throw OptionError(option: "rxq", value: "\(rxQueues)", allowed: "1-1024")
        }
        guard txQueues >= 1, txQueues <= 1024 else {
            throw OptionError(option: "txq", value: "\(txQueues)", allowed: "1-1024")
        }
        guard txQueues >= rxQueues else {
            throw OptionError(
                option: "txq", value: "\(txQueues)", allowed: "at least --rxq (\(rxQueues)): each rx queue forwards to its own tx queue")
        }
        guard rxDescriptors >= 1, txDescriptors >= 1 else {
            throw OptionError(option: rxDescriptors < 1 ? "rxd" : "txd", value: "0", allowed: "1-65535")
        }
        guard mbufSize >= 256 + 128 else {
            throw OptionError(option: "mbuf-size", value: "\(mbufSize)", allowed: "384-65535 (headroom 128 included)")
        }
        if let totalMbufs, totalMbufs < 1024 {
            throw OptionError(option: "total-num-mbufs", value: "\(totalMbufs)", allowed: "1024 or more")
        }
        if let maxPacketLength, !(64...65535).contains(maxPacketLength) {
            throw OptionError(option: "max-pkt-len", value: "\(maxPacketLength)", allowed: "64-65535")
        }
        guard statsPeriod >= 0 else {
            throw OptionError(option: "stats-period", value: "\(statsPeriod)", allowed: "0 or more seconds")
        }
        if let stopAfter, !(stopAfter > 0) {
            throw OptionError(option: "stop-after", value: "\(stopAfter)", allowed: "a positive number of seconds")
        }
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

public enum ForwardingMode: String, NamedChoice, Sendable {
    case io
    case mac
    /// Checksums and software GSO for tunnelled traffic (testpmd's csum, done right).
    case csum
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
