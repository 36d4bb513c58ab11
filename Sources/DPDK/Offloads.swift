import CDPDK

/// A port's transmit offloads (RTE_ETH_TX_OFFLOAD_*), as capabilities or as configuration.
@frozen
public struct TxOffloads: OptionSet, Hashable, Sendable {
    public let rawValue: UInt64
    @inline(__always) public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let vlanInsert = TxOffloads(rawValue: CDPDK_RTE_ETH_TX_OFFLOAD_VLAN_INSERT)
    public static let ipv4Checksum = TxOffloads(rawValue: CDPDK_RTE_ETH_TX_OFFLOAD_IPV4_CKSUM)
    public static let udpChecksum = TxOffloads(rawValue: CDPDK_RTE_ETH_TX_OFFLOAD_UDP_CKSUM)
    public static let tcpChecksum = TxOffloads(rawValue: CDPDK_RTE_ETH_TX_OFFLOAD_TCP_CKSUM)
    public static let sctpChecksum = TxOffloads(rawValue: CDPDK_RTE_ETH_TX_OFFLOAD_SCTP_CKSUM)
    public static let tcpTSO = TxOffloads(rawValue: CDPDK_RTE_ETH_TX_OFFLOAD_TCP_TSO)
    public static let udpTSO = TxOffloads(rawValue: CDPDK_RTE_ETH_TX_OFFLOAD_UDP_TSO)
    public static let outerIPv4Checksum = TxOffloads(rawValue: CDPDK_RTE_ETH_TX_OFFLOAD_OUTER_IPV4_CKSUM)
    public static let qinqInsert = TxOffloads(rawValue: CDPDK_RTE_ETH_TX_OFFLOAD_QINQ_INSERT)
    public static let vxlanTunnelTSO = TxOffloads(rawValue: CDPDK_RTE_ETH_TX_OFFLOAD_VXLAN_TNL_TSO)
    public static let greTunnelTSO = TxOffloads(rawValue: CDPDK_RTE_ETH_TX_OFFLOAD_GRE_TNL_TSO)
    public static let ipipTunnelTSO = TxOffloads(rawValue: CDPDK_RTE_ETH_TX_OFFLOAD_IPIP_TNL_TSO)
    public static let geneveTunnelTSO = TxOffloads(rawValue: CDPDK_RTE_ETH_TX_OFFLOAD_GENEVE_TNL_TSO)
    public static let macsecInsert = TxOffloads(rawValue: CDPDK_RTE_ETH_TX_OFFLOAD_MACSEC_INSERT)
    public static let mtLockfree = TxOffloads(rawValue: CDPDK_RTE_ETH_TX_OFFLOAD_MT_LOCKFREE)
    public static let multiSegments = TxOffloads(rawValue: CDPDK_RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
    public static let mbufFastFree = TxOffloads(rawValue: CDPDK_RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE)
    public static let security = TxOffloads(rawValue: CDPDK_RTE_ETH_TX_OFFLOAD_SECURITY)
    public static let udpTunnelTSO = TxOffloads(rawValue: CDPDK_RTE_ETH_TX_OFFLOAD_UDP_TNL_TSO)
    public static let ipTunnelTSO = TxOffloads(rawValue: CDPDK_RTE_ETH_TX_OFFLOAD_IP_TNL_TSO)
    public static let outerUDPChecksum = TxOffloads(rawValue: CDPDK_RTE_ETH_TX_OFFLOAD_OUTER_UDP_CKSUM)
    public static let sendOnTimestamp = TxOffloads(rawValue: CDPDK_RTE_ETH_TX_OFFLOAD_SEND_ON_TIMESTAMP)

    /// testpmd's names (as `show port <id> tx_offload capabilities` prints them).
    public static let names: [(TxOffloads, String)] = [
        (.vlanInsert, "VLAN_INSERT"), (.ipv4Checksum, "IPV4_CKSUM"), (.udpChecksum, "UDP_CKSUM"),
        (.tcpChecksum, "TCP_CKSUM"), (.sctpChecksum, "SCTP_CKSUM"), (.tcpTSO, "TCP_TSO"),
        (.udpTSO, "UDP_TSO"), (.outerIPv4Checksum, "OUTER_IPV4_CKSUM"), (.qinqInsert, "QINQ_INSERT"),
        (.vxlanTunnelTSO, "VXLAN_TNL_TSO"), (.greTunnelTSO, "GRE_TNL_TSO"), (.ipipTunnelTSO, "IPIP_TNL_TSO"),
        (.geneveTunnelTSO, "GENEVE_TNL_TSO"), (.macsecInsert, "MACSEC_INSERT"), (.mtLockfree, "MT_LOCKFREE"),
        (.multiSegments, "MULTI_SEGS"), (.mbufFastFree, "MBUF_FAST_FREE"), (.security, "SECURITY"),
        (.udpTunnelTSO, "UDP_TNL_TSO"), (.ipTunnelTSO, "IP_TNL_TSO"), (.outerUDPChecksum, "OUTER_UDP_CKSUM"),
        (.sendOnTimestamp, "SEND_ON_TIMESTAMP"),
    ]

    public var names: [String] { Self.names.filter { contains($0.0) }.map(\.1) }
}

/// A port's receive offloads (RTE_ETH_RX_OFFLOAD_*).
@frozen
public struct RxOffloads: OptionSet, Hashable, Sendable {
    public let rawValue: UInt64
    @inline(__always) public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let vlanStrip = RxOffloads(rawValue: CDPDK_RTE_ETH_RX_OFFLOAD_VLAN_STRIP)
    public static let ipv4Checksum = RxOffloads(rawValue: CDPDK_RTE_ETH_RX_OFFLOAD_IPV4_CKSUM)
    public static let udpChecksum = RxOffloads(rawValue: CDPDK_RTE_ETH_RX_OFFLOAD_UDP_CKSUM)
    public static let tcpChecksum = RxOffloads(rawValue: CDPDK_RTE_ETH_RX_OFFLOAD_TCP_CKSUM)
    public static let tcpLRO = RxOffloads(rawValue: CDPDK_RTE_ETH_RX_OFFLOAD_TCP_LRO)
    public static let qinqStrip = RxOffloads(rawValue: CDPDK_RTE_ETH_RX_OFFLOAD_QINQ_STRIP)
    public static let outerIPv4Checksum = RxOffloads(rawValue: CDPDK_RTE_ETH_RX_OFFLOAD_OUTER_IPV4_CKSUM)
    public static let macsecStrip = RxOffloads(rawValue: CDPDK_RTE_ETH_RX_OFFLOAD_MACSEC_STRIP)
    public static let vlanFilter = RxOffloads(rawValue: CDPDK_RTE_ETH_RX_OFFLOAD_VLAN_FILTER)
    public static let vlanExtend = RxOffloads(rawValue: CDPDK_RTE_ETH_RX_OFFLOAD_VLAN_EXTEND)
    public static let scatter = RxOffloads(rawValue: CDPDK_RTE_ETH_RX_OFFLOAD_SCATTER)
    public static let timestamp = RxOffloads(rawValue: CDPDK_RTE_ETH_RX_OFFLOAD_TIMESTAMP)
    public static let security = RxOffloads(rawValue: CDPDK_RTE_ETH_RX_OFFLOAD_SECURITY)
    public static let keepCRC = RxOffloads(rawValue: CDPDK_RTE_ETH_RX_OFFLOAD_KEEP_CRC)
    public static let sctpChecksum = RxOffloads(rawValue: CDPDK_RTE_ETH_RX_OFFLOAD_SCTP_CKSUM)
    public static let outerUDPChecksum = RxOffloads(rawValue: CDPDK_RTE_ETH_RX_OFFLOAD_OUTER_UDP_CKSUM)
    public static let rssHash = RxOffloads(rawValue: CDPDK_RTE_ETH_RX_OFFLOAD_RSS_HASH)
    public static let bufferSplit = RxOffloads(rawValue: CDPDK_RTE_ETH_RX_OFFLOAD_BUFFER_SPLIT)

    public static let names: [(RxOffloads, String)] = [
        (.vlanStrip, "VLAN_STRIP"), (.ipv4Checksum, "IPV4_CKSUM"), (.udpChecksum, "UDP_CKSUM"),
        (.tcpChecksum, "TCP_CKSUM"), (.tcpLRO, "TCP_LRO"), (.qinqStrip, "QINQ_STRIP"),
        (.outerIPv4Checksum, "OUTER_IPV4_CKSUM"), (.macsecStrip, "MACSEC_STRIP"), (.vlanFilter, "VLAN_FILTER"),
        (.vlanExtend, "VLAN_EXTEND"), (.scatter, "SCATTER"), (.timestamp, "TIMESTAMP"), (.security, "SECURITY"),
        (.keepCRC, "KEEP_CRC"), (.sctpChecksum, "SCTP_CKSUM"), (.outerUDPChecksum, "OUTER_UDP_CKSUM"),
        (.rssHash, "RSS_HASH"), (.bufferSplit, "BUFFER_SPLIT"),
    ]

    public var names: [String] { Self.names.filter { contains($0.0) }.map(\.1) }
}
