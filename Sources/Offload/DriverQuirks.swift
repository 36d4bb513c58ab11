import Glibc

/// One correction of what a driver advertises, keyed by driver.
public enum DriverQuirkID: UInt8, CaseIterable, Hashable, Sendable {
    case mlx5NoOuterUDPChecksum
    case i40eOuterUDPChecksumX722Only
    case ixgbeNoTunnelOffloads
    case virtioNoTunnelOrUDPSegmentation
    case virtioTSOFillsIPv4Checksum
    case tapTSOIPv4TCPOnly
    case iceParsesVXLANGPE
    case softwarePortNoTSO
}

/// A set of quirk ids (a bit each), so capabilities stay a plain value.
@frozen
public struct DriverQuirkSet: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ id: DriverQuirkID) { rawValue = 1 << UInt32(id.rawValue) }
    public func contains(_ id: DriverQuirkID) -> Bool { contains(DriverQuirkSet(id)) }
    public var ids: [DriverQuirkID] { DriverQuirkID.allCases.filter { contains($0) } }
}

public struct DriverQuirk: Sendable {
    public let id: DriverQuirkID
    public let drivers: [NICDriver]
    /// Advertised capability bits not to trust.
    public let remove: TxFeatures
    /// Behaviours the driver has that no capability bit says (added when `when` holds).
    public let add: TxFeatures
    public let summary: String
    /// Where the fact comes from.
    public let source: String
}

/// The quirk table: what DPDK 22.11 drivers advertise corrected by what they do.
public enum DriverQuirks {
    static let tunnelBits: TxFeatures = [
        .vxlanTunnelTSO, .greTunnelTSO, .ipipTunnelTSO, .geneveTunnelTSO, .udpTunnelTSO, .ipTunnelTSO,
    ]

    public static let table: [DriverQuirk] = [
        DriverQuirk(
            id: .mlx5NoOuterUDPChecksum, drivers: [.mlx5], remove: .outerUDPChecksum, add: [],
            summary: "mlx5 has no outer UDP checksum offload: a UDP tunnel's outer checksum is zero or Swift's",
            source: "drivers/net/mlx5/mlx5_txq.c mlx5_get_tx_port_offloads never sets OUTER_UDP_CKSUM"),
        DriverQuirk(
            id: .i40eOuterUDPChecksumX722Only, drivers: [.i40e], remove: .outerUDPChecksum, add: [],
            summary: "i40e: OUTER_UDP_CKSUM trusted on X722 only (X710/XL710/XXV710 cannot)",
            source: "drivers/net/i40e/i40e_ethdev.c i40e_dev_info_get: OUTER_UDP_CKSUM on X722 only; the X710 computes it wrong"),
        DriverQuirk(
            id: .ixgbeNoTunnelOffloads, drivers: [.ixgbe], remove: tunnelBits.union(.outerUDPChecksum), add: [],
            summary: "ixgbe segments untunnelled TCP only: no tunnel TSO, no outer UDP checksum",
            source: "drivers/net/ixgbe/ixgbe_rxtx.c ixgbe_get_tx_port_offloads: TSO, no tunnel TSO"),
        DriverQuirk(
            id: .virtioNoTunnelOrUDPSegmentation, drivers: [.virtio],
            remove: tunnelBits.union([.udpTSO, .outerIPv4Checksum, .outerUDPChecksum]), add: [],
            summary: "virtio (22.11): TSO only when the host offers TSO4+TSO6; no USO, no tunnel GSO, no outer checksums",
            source: "drivers/net/virtio/virtio_ethdev.c virtio_dev_info_get; UDP tunnel GSO is virtio 1.4 (VIRTIO_NET_F_HOST_UDP_TUNNEL_GSO, include/uapi/linux/virtio_net.h), which DPDK 22.11 does not negotiate"),
        DriverQuirk(
            id: .virtioTSOFillsIPv4Checksum, drivers: [.virtio], remove: [], add: .tsoFillsIPv4Checksum,
            summary: "virtio: the host writes each TSO segment's IPv4 header, so IP_CKSUM under TCP_SEG needs no IPV4_CKSUM",
            source: "virtio-net header has no IP checksum request (VIRTIO_NET_HDR_GSO_TCPV4, include/uapi/linux/virtio_net.h)"),
        DriverQuirk(
            id: .tapTSOIPv4TCPOnly, drivers: [.tap], remove: tunnelBits.union([.udpTSO, .outerUDPChecksum]),
            add: .tsoIPv4TCPOnly,
            summary: "tap: TSO is librte_gso in the PMD, TCP/IPv4 untunnelled only",
            source: "drivers/net/tap/rte_eth_tap.c tap_gso_ctx_setup (gso_types TCP_TSO: librte_gso in the PMD)"),
        DriverQuirk(
            id: .iceParsesVXLANGPE, drivers: [.ice], remove: [], add: .vxlanGPETunnelType,
            summary: "ice takes RTE_MBUF_F_TX_TUNNEL_VXLAN_GPE as a UDP tunnel (other drivers: generic TUNNEL_UDP)",
            source: "drivers/net/ice/ice_rxtx.c ice_parse_tunneling_params (VXLAN, VXLAN_GPE, GTP, GENEVE: UDP tunnelling)"),
        DriverQuirk(
            id: .softwarePortNoTSO, drivers: [.vhost, .afPacket, .ring, .pcap, .null],
            remove: tunnelBits.union([.tcpTSO, .udpTSO, .outerIPv4Checksum, .outerUDPChecksum]), add: [],
            summary: "software port: no segmentation offload",
            source: "drivers/net/vhost/rte_eth_vhost.c, af_packet/rte_eth_af_packet.c, ring/rte_eth_ring.c: no TSO; pcap, null: no offloads"),
    ]

    /// The tso_segsz range a driver's tx_prepare accepts (others: any 16-bit value).
    /// i40e: I40E_MIN_TSO_MSS 256, I40E_MAX_TSO_MSS 9674 (drivers/net/i40e/i40e_rxtx.h,
    /// checked in i40e_prep_pkts); ice: ICE_MIN_TSO_MSS 64, ICE_MAX_TSO_MSS 9728 (ice_rxtx.h,
    /// ice_prep_pkts); iavf: IAVF_MIN_TSO_MSS 256, IAVF_MAX_TSO_MSS 9668 (iavf_rxtx.h).
    public static func tsoSegmentSizes(_ driver: NICDriver) -> ClosedRange<Int> {
        switch driver {
        case .i40e: 256...9674
        case .ice: 64...9728
        case .iavf: 256...9668
        default: 1...65535
        }
    }

    /// PCI device IDs of the X722 (i40e_devids.h: I40E_DEV_ID_*_X722).
    public static let x722DeviceIDs: Set<UInt16> = [0x37CE, 0x37CF, 0x37D0, 0x37D1, 0x37D2, 0x37D3]

    /// The corrected features and the quirks that changed them.
    public static func apply(
        driver: NICDriver, advertised: TxFeatures, pciDeviceID: UInt16?
    ) -> (features: TxFeatures, applied: DriverQuirkSet) {
        var features = advertised
        var applied: DriverQuirkSet = []
        for quirk in table where quirk.drivers.contains(driver) {
            switch quirk.id {
            case .i40eOuterUDPChecksumX722Only:
                // Unknown device: the driver's word (it advertises the bit on X722 only).
                guard let id = pciDeviceID, !x722DeviceIDs.contains(id) else { continue }
            case .virtioTSOFillsIPv4Checksum:
                guard features.contains(.tcpTSO) else { continue }
            default: break
            }
            let before = features
            features.subtract(quirk.remove)
            features.formUnion(quirk.add)
            if features != before { applied.insert(DriverQuirkSet(quirk.id)) }
        }
        return (features, applied)
    }

    /// The PCI device ID of a device named like "0000:03:00.0", from sysfs; nil otherwise.
    public static func pciDeviceID(deviceName: String) -> UInt16? {
        guard deviceName.count == 12, deviceName.contains(":") else { return nil }
        guard let file = fopen("/sys/bus/pci/devices/\(deviceName)/device", "r") else { return nil }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 16)
        guard fgets(&buffer, 16, file) != nil else { return nil }
        let text = String(String(cString: buffer).filter { $0.isHexDigit || $0 == "x" })
        return UInt16(text.hasPrefix("0x") ? String(text.dropFirst(2)) : text, radix: 16)
    }
}
