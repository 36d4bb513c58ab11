import Wire

/// What the generating engines (txonly, flowgen, `start tx_first`) send, with testpmd's
/// defaults (app/test-pmd/txonly.c, flowgen.c, parameters.c).
public struct TrafficOptions: Equatable, Sendable {
    /// Segment lengths of a generated frame (testpmd's `--txpkts`, `set txpkts`); the frame is
    /// their sum, each segment one mbuf.
    public var segmentLengths: [UInt16] = [64]
    /// `set txsplit`: `rand` sends a random number (1 to all) of the segments per frame.
    public var split: TxSplit = .off
    /// IPv4 source and destination of txonly frames (`--tx-ip`, `set tx_ip`).
    public var ipSource: IPv4Address = IPv4Address(198, 18, 0, 1)
    public var ipDestination: IPv4Address = IPv4Address(198, 18, 0, 2)
    /// UDP ports of txonly frames (`--tx-udp`, `set tx_udp`).
    public var udpSource: UInt16 = 9
    public var udpDestination: UInt16 = 9
    /// flowgen: copies of each frame sent (by reference count) before the next flow's.
    public var flowgenClones: Int = 0
    /// flowgen: destination addresses cycled through, one flow each.
    public var flowgenFlows: Int = 1024
    /// `--tx-first`: the first start sends one txonly burst on every stream before forwarding.
    public var txFirst: Bool = false
    /// `--txonly-pcap`, `set txonly-pcap`: txonly replays this pcap's frames through the csum
    /// engine's egress path instead of generating UDP frames; nil: testpmd's frames.
    public var replayPcap: String? = nil

    public init() {}

    /// Ethernet + IPv4 + UDP: the headers every generated frame carries.
    public static let headerLength = 14 + 20 + 8
    /// testpmd's RTE_MAX_SEGS_PER_PKT is 255; more than 64 segments is no test of anything.
    public static let maxSegments = 64

    public var frameLength: Int { segmentLengths.reduce(0) { $0 + Int($1) } }

    public static let segmentsAllowed =
        "1-\(maxSegments) segment lengths separated by commas, each 1 to the mbuf data room, "
        + "together at least \(headerLength) (Ethernet, IPv4, UDP)"

    /// `64` or `40,24`: the lengths, each within `dataRoom` (mbuf size less headroom).
    public static func parseSegments(_ text: String, dataRoom: Int? = nil, option: String) throws(OptionError) -> [UInt16] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        var lengths: [UInt16] = []
        for part in parts {
            guard let value = UInt16(part), value > 0, dataRoom.map({ Int(value) <= $0 }) ?? true else {
                throw OptionError(option: option, value: text, allowed: segmentsAllowed)
            }
            lengths.append(value)
        }
        guard (1...maxSegments).contains(lengths.count),
            lengths.reduce(0, { $0 + Int($1) }) >= headerLength,
            lengths.reduce(0, { $0 + Int($1) }) <= Int(UInt16.max)
        else { throw OptionError(option: option, value: text, allowed: segmentsAllowed) }
        return lengths
    }

    public static let ipAllowed = "<src>,<dst>: two IPv4 addresses (e.g. 198.18.0.1,198.18.0.2)"
    public static let udpAllowed = "<src>[,<dst>]: UDP ports 0-65535 (one port: both)"

    /// `--tx-ip=src,dst`.
    public static func parseIPPair(_ text: String, option: String) throws(OptionError) -> (IPv4Address, IPv4Address) {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 2, let source = IPv4Address.parse(String(parts[0])), let destination = IPv4Address.parse(String(parts[1])) else {
            throw OptionError(option: option, value: text, allowed: ipAllowed)
        }
        return (source, destination)
    }

    /// `--tx-udp=src[,dst]`: one port stands for both, as testpmd.
    public static func parseUDPPorts(_ text: String, option: String) throws(OptionError) -> (UInt16, UInt16) {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let source = UInt16(parts[0]), let destination = UInt16(parts.last!) else {
            throw OptionError(option: option, value: text, allowed: udpAllowed)
        }
        return (source, destination)
    }
}

/// testpmd's `set txsplit`: `on` and `off` send every segment (txonly.c tells them apart only
/// for `rand`), `rand` a random number of them.
public enum TxSplit: String, NamedChoice, Sendable {
    case off, on, rand
}

extension IPv4Address {
    /// A dotted quad (`198.18.0.1`), or nil.
    static func parse(_ text: String) -> IPv4Address? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard part.count <= 3, let byte = UInt8(part) else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return IPv4Address(value)
    }
}

extension OptionSpec {
    public static let txpkts = OptionSpec(
        name: "txpkts", key: "txpkts", section: .forwarding, shape: .scalar, argument: "X[,Y]*", flagValue: nil,
        allowed: TrafficOptions.segmentsAllowed, range: nil, current: nil, default: "64",
        help: "segment lengths of txonly/flowgen/tx_first frames (one mbuf each)"
    ) { text, label throws(OptionError) in
        let lengths = try TrafficOptions.parseSegments(text, option: label)
        return { $0.traffic.segmentLengths = lengths }
    }
    public static let txIP = OptionSpec(
        name: "tx-ip", key: "tx_ip", section: .forwarding, shape: .scalar, argument: "SRC,DST", flagValue: nil,
        allowed: TrafficOptions.ipAllowed, range: nil, current: nil, default: "198.18.0.1,198.18.0.2",
        help: "IPv4 source and destination of txonly frames"
    ) { text, label throws(OptionError) in
        let (source, destination) = try TrafficOptions.parseIPPair(text, option: label)
        return {
            $0.traffic.ipSource = source
            $0.traffic.ipDestination = destination
        }
    }
    public static let txUDP = OptionSpec(
        name: "tx-udp", key: "tx_udp", section: .forwarding, shape: .scalar, argument: "SRC[,DST]", flagValue: nil,
        allowed: TrafficOptions.udpAllowed, range: nil, current: nil, default: "9,9",
        help: "UDP source and destination ports of txonly frames"
    ) { text, label throws(OptionError) in
        let (source, destination) = try TrafficOptions.parseUDPPorts(text, option: label)
        return {
            $0.traffic.udpSource = source
            $0.traffic.udpDestination = destination
        }
    }
    public static let txFirst = flag(
        "tx-first", key: "tx_first", means: true, default: "off",
        help: "send one txonly burst on every stream before forwarding starts (as start tx_first)"
    ) { $0.traffic.txFirst = $1 }
    public static let txonlyPcap = OptionSpec(
        name: "txonly-pcap", key: "txonly_pcap", section: .forwarding, shape: .scalar, argument: "FILE", flagValue: nil,
        allowed: ReplayFrames.allowed, range: nil, current: nil, default: "off: testpmd's UDP frames",
        help: "txonly replays the frames of FILE (super-frames too) through the csum engine's egress path"
    ) { text, label throws(OptionError) in
        let path: String? = text == "off" ? nil : text
        // Read now, so a bad file is named where it was given; read again at each start.
        if let path {
            do throws(OptionError) { _ = try ReplayFrames(path: path) } catch { throw OptionError(option: label, value: text, allowed: error.allowed) }
        }
        return { $0.traffic.replayPcap = path }
    }
    public static let flowgenClones = integer(
        "flowgen-clones", key: "flowgen_clones", range: 0...512, default: "0",
        help: "flowgen: copies of each frame (up to the burst) before the next flow",
        get: { $0.traffic.flowgenClones }, set: { $0.traffic.flowgenClones = $1 })
    public static let flowgenFlows = integer(
        "flowgen-flows", key: "flowgen_flows", range: 1...Int(Int32.max), default: "1024",
        help: "flowgen: flows (destination addresses) cycled through",
        get: { $0.traffic.flowgenFlows }, set: { $0.traffic.flowgenFlows = $1 })
}
