import DPDK
import Offload
import Wire

/// Where one checksum is computed (testpmd `csum set <what> hw|sw`).
public enum ChecksumPlacement: String, Sendable, Equatable {
    case hardware = "hw"
    case software = "sw"
}

/// The checksums the csum engine looks after, by testpmd's names.
public enum ChecksumField: String, CaseIterable, Sendable {
    case ip, udp, tcp
    case outerIP = "outer-ip"
    case outerUDP = "outer-udp"

    /// The port capability `hw` needs.
    public var capability: TxOffloads {
        switch self {
        case .ip: .ipv4Checksum
        case .udp: .udpChecksum
        case .tcp: .tcpChecksum
        case .outerIP: .outerIPv4Checksum
        case .outerUDP: .outerUDPChecksum
        }
    }

    public static var allowed: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// Per-port settings of the csum engine and GSO. Changed from the console while forwarding is
/// stopped; the workers get a copy at start.
public struct PortOffloadSettings: Sendable, Equatable {
    public var ip: ChecksumPlacement = .software
    public var udp: ChecksumPlacement = .software
    public var tcp: ChecksumPlacement = .software
    public var outerIP: ChecksumPlacement = .software
    public var outerUDP: ChecksumPlacement = .software
    /// IPv4 outer UDP: send checksum 0 instead of computing it (RFC 7348 allows it).
    public var outerUDPZero = false
    /// Parse tunnel headers on receive (`csum parse-tunnel on|off`).
    public var parseTunnel = true
    /// Swift cuts what the port cannot segment (`set port <id> gso on|off`). On by default:
    /// off, a frame larger than the egress MTU that the port cannot segment is dropped as
    /// oversize.
    public var gso = true
    /// Receive coalescing (GRO) of this port's TCP segments (`set port <id> gro on|off`,
    /// `--gro-ports`). Off by default, as in testpmd.
    public var gro = false
    /// UDP tunnel ports recognised on receive (`port config <id> udp_tunnel_port add|rm`).
    public var tunnelPorts = TunnelPortTable.defaults
    /// What the port can do, from dev_info; `hw` is refused without it.
    public var capabilities: TxOffloads = []
    public var rxCapabilities: RxOffloads = []
    /// The offloads the port is configured with at its next start; nil until the first start
    /// picks the defaults (`PortOffloadSettings.defaultOffloads`), then the user's choice.
    public var txOffloads: TxOffloads?
    public var rxOffloads: RxOffloads?
    /// The driver, for defaults and quirks.
    public var driverName = ""
    /// Largest IP packet the port may send.
    public var mtu: Int = 1500
    /// `tso set <n> <port>` / `tunnel_tso set <n> <port>`: payload per segment the port may
    /// cut untunnelled / tunnelled packets into; 0 = the port does not segment them. The
    /// default, `automatic`, lets a port that can segment do so at the packet's own segment
    /// size (an LRO or virtio super-frame's) or the MTU's limit.
    public var tsoSegmentSize = PortOffloadSettings.automatic
    public var tunnelTSOSegmentSize = PortOffloadSettings.automatic
    public static let automatic = 65535
    /// What the planner trusts the port to do: dev_info corrected by the driver quirk table,
    /// restricted to the configured offloads. Set when the port starts.
    public var plannerCapabilities: TxCapabilities?
    /// The port may deliver packets that ask for transmit work (a pending checksum, TSO or
    /// LRO metadata): a vnet tap, virtio, vhost, a ring (another port's mbufs), a driver the
    /// quirk table does not know, or any port with LRO. io and mac look at the packets of
    /// such ports only, so forwarding from the others costs nothing per packet. Set at start.
    public var mayAskForTransmitWork = true

    public init() {}

    public subscript(field: ChecksumField) -> ChecksumPlacement {
        get {
            switch field {
            case .ip: ip
            case .udp: udp
            case .tcp: tcp
            case .outerIP: outerIP
            case .outerUDP: outerUDP
            }
        }
        set {
            switch field {
            case .ip: ip = newValue
            case .udp: udp = newValue
            case .tcp: tcp = newValue
            case .outerIP: outerIP = newValue
            case .outerUDP: outerUDP = newValue
            }
        }
    }

    /// As testpmd, ports start with no offloads but multi-segment tx; virtio ports (the
    /// guest side) start with what makes super-frames flow: LRO on rx, TSO and checksums on tx,
    /// where the backend offers them. `enableLRO` (--enable-lro) asks LRO of every port.
    public static func defaultOffloads(
        driver: String, tx: TxOffloads, rx: RxOffloads, enableLRO: Bool
    ) -> (tx: TxOffloads, rx: RxOffloads) {
        var txOffloads = tx.intersection(.multiSegments)
        var rxOffloads: RxOffloads = enableLRO ? rx.intersection(.tcpLRO) : []
        if driver == "net_virtio_user" || driver == "net_virtio" {
            txOffloads.formUnion(tx.intersection([.tcpTSO, .udpTSO, .tcpChecksum, .udpChecksum, .ipv4Checksum]))
            rxOffloads.formUnion(rx.intersection([.tcpLRO, .tcpChecksum, .udpChecksum]))
        }
        return (txOffloads, rxOffloads)
    }

    /// The planner for this port, from its capabilities and these settings; `gsoFrameSize`
    /// is testpmd's `set gso segsz` (whole frames Swift cuts to; 0: the MTU's).
    public func planner(gsoFrameSize: Int = 0) -> TxPlanner {
        var hardware: HardwareChecksums = []
        if ip == .hardware { hardware.insert(.ip) }
        if tcp == .hardware { hardware.insert(.tcp) }
        if udp == .hardware { hardware.insert(.udp) }
        if outerIP == .hardware { hardware.insert(.outerIP) }
        if outerUDP == .hardware { hardware.insert(.outerUDP) }
        return TxPlanner(
            capabilities: plannerCapabilities ?? TxCapabilities(driverName: driverName, advertised: [], mtu: mtu),
            settings: TxPlannerSettings(
                tsoSegmentSize: tsoSegmentSize, tunnelTSOSegmentSize: tunnelTSOSegmentSize, softwareGSO: gso,
                hardwareChecksums: hardware, outerUDPZero: outerUDPZero, gsoFrameSize: gsoFrameSize))
    }

    /// testpmd's tunnel TSO offloads and the names its warnings give them (app/test-pmd
    /// cmdline.c, check_tunnel_tso_nic_support).
    public static let tunnelTSOKinds: [(offload: TxOffloads, name: String)] = [
        (.vxlanTunnelTSO, "VXLAN"), (.greTunnelTSO, "GRE"), (.ipipTunnelTSO, "IPIP"),
        (.geneveTunnelTSO, "GENEVE"), (.ipTunnelTSO, "IP"), (.udpTunnelTSO, "UDP"),
    ]
    /// The untunnelled segmentation offloads (`tso set`).
    public static let plainTSOKinds: [(offload: TxOffloads, name: String)] = [(.tcpTSO, "TCP"), (.udpTSO, "UDP")]

    /// The segmentation offloads of the port's next start: what dev_info advertises, less what
    /// the quirk table distrusts, restricted to the configured offloads.
    public var segmentationOffloads: TxOffloads {
        let trusted = TxCapabilities(driverName: driverName, advertised: capabilities, mtu: mtu)
        let kinds = (Self.tunnelTSOKinds + Self.plainTSOKinds).reduce(TxOffloads()) { $0.union($1.offload) }
        return trusted.restricted(to: txOffloads ?? capabilities).offloads.intersection(kinds)
    }

    /// The segmentation kinds (testpmd's names) the port cannot do itself, for tunnelled or
    /// untunnelled packets: Swift GSO cuts those.
    public func missingSegmentation(tunnel: Bool) -> [String] {
        let have = segmentationOffloads
        return (tunnel ? Self.tunnelTSOKinds : Self.plainTSOKinds).filter { !have.contains($0.offload) }.map(\.name)
    }

    /// The tx offloads the port must be configured with for these settings.
    public var requiredTxOffloads: TxOffloads {
        var offloads: TxOffloads = []
        for field in ChecksumField.allCases where self[field] == .hardware { offloads.insert(field.capability) }
        return offloads
    }

    /// `csum show <port>`, in testpmd's words.
    public func describe(port: UInt16) -> String {
        func line(_ name: String, _ placement: ChecksumPlacement) -> String {
            name + String(repeating: " ", count: max(1, 15 - name.count)) + "checksum offload is \(placement.rawValue)"
        }
        return [
            "Parse tunnel is \(parseTunnel ? "on" : "off")",
            line("IP", ip), line("UDP", udp), line("TCP", tcp), line("Outer-Ip", outerIP),
            line("Outer-Udp", outerUDP) + (outerUDPZero ? " (IPv4 outer: sent as 0)" : ""),
        ].joined(separator: "\n")
    }
}

/// The tunnel kinds `port config <port> udp_tunnel_port add|rm <kind> <udp port>` accepts:
/// testpmd's, plus FOU (with the IP protocol it carries) and GUE.
public enum UDPTunnelPortType: String, CaseIterable, Sendable {
    case vxlan
    case vxlanGPE = "vxlan-gpe"
    case geneve
    case fouIPIP = "fou-ipip"
    case fouGRE = "fou-gre"
    case fouIPv6 = "fou-ipv6"
    case gue

    public var kind: UDPTunnelKind {
        switch self {
        case .vxlan: .vxlan
        case .vxlanGPE: .vxlanGPE
        case .geneve: .geneve
        case .fouIPIP, .fouGRE, .fouIPv6: .fou
        case .gue: .gue
        }
    }

    /// The IP protocol a FOU port carries.
    public var fouProtocol: UInt8 {
        switch self {
        case .fouIPIP: 4
        case .fouGRE: 47
        case .fouIPv6: 41
        default: 0
        }
    }

    public init?(kind: UDPTunnelKind, fouProtocol: UInt8) {
        switch (kind, fouProtocol) {
        case (.vxlan, _): self = .vxlan
        case (.vxlanGPE, _): self = .vxlanGPE
        case (.geneve, _): self = .geneve
        case (.gue, _): self = .gue
        case (.fou, 4): self = .fouIPIP
        case (.fou, 47): self = .fouGRE
        case (.fou, 41): self = .fouIPv6
        default: return nil
        }
    }
}
