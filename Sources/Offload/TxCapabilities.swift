import CDPDK
import DPDK
import Glibc

/// A port's driver, as far as the tx offload planner cares: the key of the quirk table.
public enum NICDriver: UInt8, CaseIterable, Hashable, Sendable {
    case mlx5, ice, iavf, i40e, ixgbe, virtio, tap, vhost, afPacket, ring, pcap, null, other

    /// From `rte_eth_dev_info.driver_name` ("mlx5_pci", "net_ice", "net_virtio_user", ...).
    public init(driverName: String) {
        switch driverName {
        case let name where name.contains("mlx5"): self = .mlx5
        case "net_ice", "net_ice_dcf": self = .ice
        case "net_iavf": self = .iavf
        case "net_i40e", "net_i40e_vf": self = .i40e
        case "net_ixgbe", "net_ixgbe_vf": self = .ixgbe
        case "net_virtio", "net_virtio_user": self = .virtio
        case "net_tap": self = .tap
        case "net_vhost": self = .vhost
        case "net_af_packet": self = .afPacket
        case "net_ring": self = .ring
        case "net_pcap": self = .pcap
        case "net_null": self = .null
        default: self = .other
        }
    }

    public var name: String {
        switch self {
        case .mlx5: "mlx5"
        case .ice: "ice"
        case .iavf: "iavf"
        case .i40e: "i40e"
        case .ixgbe: "ixgbe"
        case .virtio: "virtio"
        case .tap: "tap"
        case .vhost: "vhost"
        case .afPacket: "af_packet"
        case .ring: "ring"
        case .pcap: "pcap"
        case .null: "null"
        case .other: "other"
        }
    }
}

/// What the planner asks of a port, one bit each, with literal values so the per-packet code
/// reads no lazily initialised globals. The first group mirrors RTE_ETH_TX_OFFLOAD_*; the
/// second holds behaviours the quirk table knows that no capability bit says.
@frozen
public struct TxFeatures: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    @inlinable @inline(__always) public init(rawValue: UInt32) { self.rawValue = rawValue }

    @inlinable public static var ipv4Checksum: TxFeatures { TxFeatures(rawValue: 1 << 0) }
    @inlinable public static var udpChecksum: TxFeatures { TxFeatures(rawValue: 1 << 1) }
    @inlinable public static var tcpChecksum: TxFeatures { TxFeatures(rawValue: 1 << 2) }
    @inlinable public static var tcpTSO: TxFeatures { TxFeatures(rawValue: 1 << 3) }
    @inlinable public static var udpTSO: TxFeatures { TxFeatures(rawValue: 1 << 4) }
    @inlinable public static var outerIPv4Checksum: TxFeatures { TxFeatures(rawValue: 1 << 5) }
    @inlinable public static var outerUDPChecksum: TxFeatures { TxFeatures(rawValue: 1 << 6) }
    @inlinable public static var vxlanTunnelTSO: TxFeatures { TxFeatures(rawValue: 1 << 7) }
    @inlinable public static var greTunnelTSO: TxFeatures { TxFeatures(rawValue: 1 << 8) }
    @inlinable public static var ipipTunnelTSO: TxFeatures { TxFeatures(rawValue: 1 << 9) }
    @inlinable public static var geneveTunnelTSO: TxFeatures { TxFeatures(rawValue: 1 << 10) }
    @inlinable public static var udpTunnelTSO: TxFeatures { TxFeatures(rawValue: 1 << 11) }
    @inlinable public static var ipTunnelTSO: TxFeatures { TxFeatures(rawValue: 1 << 12) }
    @inlinable public static var multiSegments: TxFeatures { TxFeatures(rawValue: 1 << 13) }

    /// The port fills the IPv4 header checksum of the segments it makes although it does not
    /// advertise IPV4_CKSUM (virtio: the host builds every segment's headers).
    @inlinable public static var tsoFillsIPv4Checksum: TxFeatures { TxFeatures(rawValue: 1 << 16) }
    /// The port's TSO handles TCP over IPv4 only, untunnelled (net_tap: librte_gso in the PMD).
    @inlinable public static var tsoIPv4TCPOnly: TxFeatures { TxFeatures(rawValue: 1 << 17) }
    /// The driver parses RTE_MBUF_F_TX_TUNNEL_VXLAN_GPE (ice); elsewhere VXLAN-GPE needs the
    /// generic UDP tunnel type.
    @inlinable public static var vxlanGPETunnelType: TxFeatures { TxFeatures(rawValue: 1 << 18) }

    /// Capability bits and their RTE_ETH_TX_OFFLOAD_* counterparts (setup time only).
    static let offloadMap: [(TxFeatures, TxOffloads)] = [
        (.ipv4Checksum, .ipv4Checksum), (.udpChecksum, .udpChecksum), (.tcpChecksum, .tcpChecksum),
        (.tcpTSO, .tcpTSO), (.udpTSO, .udpTSO), (.outerIPv4Checksum, .outerIPv4Checksum),
        (.outerUDPChecksum, .outerUDPChecksum), (.vxlanTunnelTSO, .vxlanTunnelTSO), (.greTunnelTSO, .greTunnelTSO),
        (.ipipTunnelTSO, .ipipTunnelTSO), (.geneveTunnelTSO, .geneveTunnelTSO), (.udpTunnelTSO, .udpTunnelTSO),
        (.ipTunnelTSO, .ipTunnelTSO), (.multiSegments, .multiSegments),
    ]

    public init(_ offloads: TxOffloads) {
        var features: TxFeatures = []
        for (feature, offload) in Self.offloadMap where offloads.contains(offload) { features.insert(feature) }
        self = features
    }

    /// The capability bits as RTE_ETH_TX_OFFLOAD_* (behaviour bits dropped).
    public var offloads: TxOffloads {
        var offloads: TxOffloads = []
        for (feature, offload) in Self.offloadMap where contains(feature) { offloads.insert(offload) }
        return offloads
    }

    /// Any tunnel segmentation bit.
    @inlinable public static var anyTunnelTSO: TxFeatures {
        TxFeatures(rawValue: (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12))
    }
}

/// What a port can do on transmit: dev_info's tx offload capabilities corrected by the quirk
/// table (DriverQuirks.swift), the MTU and the most mbuf segments one packet may have. A plain
/// value (no references): copy it into each worker.
public struct TxCapabilities: Hashable, Sendable {
    public let driver: NICDriver
    /// What dev_info advertised.
    public let advertised: TxOffloads
    /// What the planner uses: advertised, minus what the quirk table distrusts, plus the
    /// behaviours it knows.
    public private(set) var features: TxFeatures
    /// The quirks that changed `features` (for `show port tx_offload capabilities`).
    public private(set) var quirks: DriverQuirkSet
    /// L3 MTU of the port.
    public var mtu: Int
    /// tx_desc_lim.nb_seg_max; 0 means no limit.
    public var maxSegmentsPerPacket: Int
    /// The tso_segsz values the driver's tx_prepare accepts (DriverQuirks.tsoSegmentSizes).
    public var tsoSegmentSizes: ClosedRange<Int>

    /// From a driver's name and advertised offloads. `pciDeviceID` tells i40e X710 from X722
    /// (nil: trust the driver, which advertises OUTER_UDP_CKSUM on X722 only).
    public init(
        driverName: String, advertised: TxOffloads, mtu: Int = 1500, maxSegmentsPerPacket: Int = 0,
        pciDeviceID: UInt16? = nil
    ) {
        driver = NICDriver(driverName: driverName)
        self.advertised = advertised
        let corrected = DriverQuirks.apply(driver: driver, advertised: TxFeatures(advertised), pciDeviceID: pciDeviceID)
        features = corrected.features
        quirks = corrected.applied
        self.mtu = mtu
        self.maxSegmentsPerPacket = maxSegmentsPerPacket == Int(UInt16.max) ? 0 : maxSegmentsPerPacket
        tsoSegmentSizes = DriverQuirks.tsoSegmentSizes(driver)
    }

    /// From a port's dev_info and MTU; the PCI device ID is read from sysfs when the device is
    /// a PCI device (for the i40e quirk).
    public init(info: DeviceInfo, mtu: Int) {
        var deviceID: UInt16?
        if let device = info.raw.device, let name = rte_dev_name(device) {
            deviceID = DriverQuirks.pciDeviceID(deviceName: String(cString: name))
        }
        self.init(
            driverName: info.driverName, advertised: info.txOffloadCapabilities, mtu: mtu,
            maxSegmentsPerPacket: Int(info.maxSegmentsPerPacket), pciDeviceID: deviceID)
    }

    /// The trusted capability bits as RTE_ETH_TX_OFFLOAD_*.
    public var offloads: TxOffloads { features.offloads }

    /// Advertised bits the quirk table removed.
    public var distrusted: TxOffloads { advertised.subtracting(features.offloads) }

    /// Only the offloads the port is configured with (`port config <p> tx_offload <x> off`
    /// takes one away); behaviour bits stay.
    public func restricted(to configured: TxOffloads) -> TxCapabilities {
        var copy = self
        let kept = TxFeatures(features.offloads.intersection(configured))
        let behaviours = TxFeatures(rawValue: features.rawValue & 0xFFFF_0000)
        copy.features = kept.union(behaviours)
        return copy
    }

    /// One line per applied quirk: what it changed and where the fact comes from.
    public var quirkNotes: [String] {
        DriverQuirks.table.filter { quirks.contains($0.id) }.map { "\($0.summary) [\($0.source)]" }
    }
}

// MARK: presets (what the drivers of DPDK 22.11 advertise: mlx5_get_tx_port_offloads in
// drivers/net/mlx5/mlx5_txq.c, ice_dev_info_get, i40e_dev_info_get, ixgbe_get_tx_port_offloads,
// virtio_dev_info_get, each corrected by the quirk table)

/// Capability sets of real NICs, for the NIC model and tests.
public enum NICPreset: String, CaseIterable, Sendable {
    case mlx5, ice
    case i40eX710 = "i40e-x710"
    case i40eX722 = "i40e-x722"
    case ixgbe, virtio, tap

    public var capabilities: TxCapabilities {
        let checksums: TxOffloads = [.ipv4Checksum, .udpChecksum, .tcpChecksum]
        switch self {
        case .mlx5:
            // mlx5_txq.c mlx5_get_tx_port_offloads (ConnectX-5/6 with tunnel offloads and SWP):
            // no OUTER_UDP_CKSUM, no UDP_TSO in 22.11.
            return TxCapabilities(
                driverName: "mlx5_pci",
                advertised: checksums.union([
                    .vlanInsert, .tcpTSO, .outerIPv4Checksum, .vxlanTunnelTSO, .greTunnelTSO, .geneveTunnelTSO,
                    .udpTunnelTSO, .ipTunnelTSO, .multiSegments,
                ]), maxSegmentsPerPacket: 40)
        case .ice:
            // ice_ethdev.c ice_dev_info_get (E810).
            return TxCapabilities(
                driverName: "net_ice",
                advertised: checksums.union([
                    .vlanInsert, .qinqInsert, .sctpChecksum, .tcpTSO, .outerIPv4Checksum, .outerUDPChecksum,
                    .vxlanTunnelTSO, .greTunnelTSO, .ipipTunnelTSO, .geneveTunnelTSO, .multiSegments,
                ]), maxSegmentsPerPacket: 255)
        case .i40eX710, .i40eX722:
            // i40e_ethdev.c i40e_dev_info_get: OUTER_UDP_CKSUM only when mac.type is X722.
            var offloads = checksums.union([
                .vlanInsert, .qinqInsert, .sctpChecksum, .tcpTSO, .outerIPv4Checksum, .vxlanTunnelTSO,
                .greTunnelTSO, .ipipTunnelTSO, .geneveTunnelTSO, .multiSegments,
            ])
            if self == .i40eX722 { offloads.insert(.outerUDPChecksum) }
            return TxCapabilities(
                driverName: "net_i40e", advertised: offloads, maxSegmentsPerPacket: 255,
                pciDeviceID: self == .i40eX722 ? 0x37D0 : 0x1572)
        case .ixgbe:
            // ixgbe_rxtx.c ixgbe_get_tx_port_offloads (82599): checksums and TSO, no tunnels.
            return TxCapabilities(
                driverName: "net_ixgbe",
                advertised: checksums.union([.vlanInsert, .sctpChecksum, .tcpTSO, .multiSegments]),
                maxSegmentsPerPacket: 40)
        case .virtio:
            // virtio_ethdev.c virtio_dev_info_get with a host offering CSUM, HOST_TSO4, HOST_TSO6.
            return TxCapabilities(
                driverName: "net_virtio_user",
                advertised: [.multiSegments, .vlanInsert, .udpChecksum, .tcpChecksum, .tcpTSO])
        case .tap:
            // rte_eth_tap.c tap_tx_offload_get_port_capa.
            return TxCapabilities(
                driverName: "net_tap", advertised: checksums.union([.multiSegments, .tcpTSO]))
        }
    }
}
